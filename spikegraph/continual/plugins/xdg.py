r"""Context-dependent gating (XdG; Masse, Grant & Freedman, PNAS 2018).

Each task :math:`t` owns a fixed random binary mask :math:`g^{(t)}_l` per hidden layer :math:`l`
that keeps exactly :math:`k = \mathrm{round}(\text{keep} \cdot H_l)` of the :math:`H_l` units
(20 % in the AS-SNN authors' setting) and silences the others: the model multiplies the hidden
spikes by it, :math:`h_l \leftarrow h_l \odot g^{(t)}_l` (:class:`~spikegraph.models.SpikingMLP`'s
``gates``), in training and at test time on that task. The masks depend only on
``(seed, task, layer)``, so every task's mask is known before it is trained, and a resumed run
uses the same ones. The output layer is never gated (the head is shared).
"""

from __future__ import annotations

import zlib
from collections.abc import Sequence
from typing import Any

import torch
from torch import Tensor

from spikegraph.continual.plugins.base import Plugin

__all__ = ["XdG", "xdg_mask"]


def xdg_mask(width: int, keep: float, seed: int, task_id: int, layer: int = 0) -> Tensor:
    """A float ``[width]`` mask with exactly ``round(keep * width)`` ones, fixed by its ids."""
    k = round(keep * width)
    gen = torch.Generator().manual_seed(zlib.crc32(f"xdg/{seed}/{task_id}/{layer}".encode()))
    mask = torch.zeros(width)
    mask[torch.randperm(width, generator=gen)[:k]] = 1.0
    return mask


class XdG(Plugin):
    """Per-task random gates on the hidden units, given to the model as ``gates``.

    Args:
        hidden: the widths of the gated hidden layers (e.g. ``(512,)``).
        keep: fraction of units each task keeps, in ``(0, 1]``; default ``0.2``.
        seed: seed of the masks.
    """

    name = "xdg"

    def __init__(self, hidden: Sequence[int], keep: float = 0.2, seed: int = 0) -> None:
        self.hidden = [int(h) for h in hidden]
        if not self.hidden or min(self.hidden) < 1:
            raise ValueError(f"hidden must list positive layer widths, got {hidden}")
        if not 0.0 < keep <= 1.0 or round(keep * min(self.hidden)) < 1:
            raise ValueError(f"keep must lie in (0, 1] and keep at least one unit, got {keep}")
        self.keep = float(keep)
        self.seed = int(seed)
        self._cache: dict[int, list[Tensor]] = {}

    def gates(self, task_id: int) -> list[Tensor]:
        """One mask per hidden layer for ``task_id``."""
        if task_id < 0:
            raise ValueError(f"task_id must be >= 0, got {task_id}")
        if task_id not in self._cache:
            self._cache[task_id] = [
                xdg_mask(h, self.keep, self.seed, task_id, layer)
                for layer, h in enumerate(self.hidden)
            ]
        return self._cache[task_id]

    def forward_kwargs(self, task_id: int) -> dict[str, Any]:
        return {"gates": self.gates(task_id)}

    def config(self) -> dict[str, Any]:
        return {"name": self.name, "hidden": self.hidden, "keep": self.keep, "seed": self.seed}
