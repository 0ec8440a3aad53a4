"""Encoders: static features ``[N, C]`` to input sequences ``[T, N, C]``."""

from __future__ import annotations

import torch
from torch import Tensor, nn

from spikegraph.utils.checks import check_finite, check_time_steps

__all__ = ["repeat", "bernoulli", "RepeatEncoder", "BernoulliEncoder", "ENCODERS", "get_encoder"]


def repeat(x: Tensor, T: int) -> Tensor:
    """Direct coding: the same real-valued input at every step (a view, no copy)."""
    check_time_steps(T)
    check_finite(x, "x")
    return x.unsqueeze(0).expand(T, *x.shape)


def bernoulli(x: Tensor, T: int, generator: torch.Generator | None = None) -> Tensor:
    """Rate coding: at each step, a spike with probability ``x`` (which must lie in ``[0, 1]``)."""
    check_time_steps(T)
    check_finite(x, "x")
    if x.numel() and (x.min() < 0 or x.max() > 1):
        raise ValueError(
            f"Bernoulli coding needs probabilities in [0, 1], got values in "
            f"[{x.min().item():g}, {x.max().item():g}]; rescale the features first"
        )
    probs = x.unsqueeze(0).expand(T, *x.shape)
    return torch.bernoulli(probs, generator=generator)


class RepeatEncoder(nn.Module):
    """Module form of :func:`repeat`."""

    def __init__(self, T: int) -> None:
        super().__init__()
        check_time_steps(T)
        self.T = T

    def forward(self, x: Tensor) -> Tensor:
        return repeat(x, self.T)

    def extra_repr(self) -> str:
        return f"T={self.T}"


class BernoulliEncoder(RepeatEncoder):
    """Module form of :func:`bernoulli` (fresh samples at every call)."""

    def forward(self, x: Tensor) -> Tensor:
        return bernoulli(x, self.T)


ENCODERS: dict[str, type[RepeatEncoder]] = {"repeat": RepeatEncoder, "bernoulli": BernoulliEncoder}


def get_encoder(name: str, T: int) -> RepeatEncoder:
    """An encoder module by name: ``"repeat"`` (direct) or ``"bernoulli"``."""
    try:
        return ENCODERS[name.lower()](T)
    except KeyError:
        raise ValueError(
            f"unknown encoder {name!r}; choose one of {', '.join(map(repr, ENCODERS))}"
        ) from None
