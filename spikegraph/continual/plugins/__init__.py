"""Continual-learning methods as plugins over one training loop, and a factory by name."""

from __future__ import annotations

from collections.abc import Sequence

from spikegraph.continual.plugins.base import Compose, Plugin
from spikegraph.continual.plugins.ewc import EWC, diagonal_fisher
from spikegraph.continual.plugins.finetune import Finetune
from spikegraph.continual.plugins.xdg import XdG, xdg_mask

__all__ = [
    "Plugin",
    "Compose",
    "Finetune",
    "EWC",
    "XdG",
    "diagonal_fisher",
    "xdg_mask",
    "METHODS",
    "make_plugin",
]

#: The methods of the experiment grid, by name.
METHODS = ("finetune", "ewc", "xdg", "xdg+ewc")


def make_plugin(
    method: str,
    hidden: Sequence[int],
    *,
    ewc_lambda: float = 1e4,
    fisher_samples: int = 200,
    xdg_keep: float = 0.2,
    seed: int = 0,
) -> Plugin:
    """The plugin of ``method`` (one of :data:`METHODS`); ``xdg+ewc`` composes the two."""
    if method not in METHODS:
        raise ValueError(f"unknown method {method!r}; choose from {', '.join(METHODS)}")
    parts: list[Plugin] = []
    for name in method.split("+"):
        if name == "finetune":
            parts.append(Finetune())
        elif name == "ewc":
            parts.append(EWC(ewc_lambda, fisher_samples))
        else:
            parts.append(XdG(hidden, xdg_keep, seed))
    return parts[0] if len(parts) == 1 else Compose(*parts)
