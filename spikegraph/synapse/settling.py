r"""Measure the slow state of a network where it runs: without dropout.

The long-term experience (:class:`~spikegraph.synapse.SynapticScaling`) and the rate gains
(:class:`~spikegraph.synapse.TargetRate`) learn from training calls, whose activity dropout
changes: a dropped-out input changes the firing of the layer it feeds, and an edge's
coincidence drive :math:`a_j a_i` is quadratic in the rates, so a 20 % higher rate in eval mode
reads as a 44 % stronger drive against the experience, and the relative shape depresses every
synapse of the layer. :func:`settle` runs a few forward passes with dropout off (the model in
eval mode) in which only the experience and the rate gains adapt, so that the set points they
hold are those of the network as it will be evaluated, as precise batch-norm statistics are
re-measured after training. Nothing learnable changes and no gradient is taken.
"""

from __future__ import annotations

from typing import Any

import torch
from torch import nn

from spikegraph.synapse.rate import TargetRate
from spikegraph.synapse.scaling import SynapticScaling

__all__ = ["settle"]


@torch.no_grad()
def settle(model: nn.Module, *inputs: Any, passes: int = 2, **kwargs: Any) -> None:
    """Run ``passes`` eval-mode forward passes of ``model(*inputs, **kwargs)`` in which every
    experience is replaced by the pass's mean intensity and every rate gain takes one
    controller step on the pass's spikes (module docstring).

    The trace of a pass starts from the experience it then replaces, so the passes iterate to
    a fixed point (the distance shrank by about half per pass in our tests), and layer ``k``
    of a stack sees a settled input only from pass ``k`` on: use at least one pass per scaled
    layer, more for a closer fit. Called every epoch, the iteration continues across epochs.

    The model is left in the mode it was in."""
    if passes < 1:
        raise ValueError(f"passes must be >= 1, got {passes}")
    scalings = [m for m in model.modules() if isinstance(m, SynapticScaling) and m.enabled]
    rates = [m for m in model.modules() if isinstance(m, TargetRate)]
    if not scalings and not rates:
        return
    was_training = model.training
    momenta = [s.experience_momentum for s in scalings]
    model.eval()
    try:
        for module in scalings + rates:
            module.train()
        for s in scalings:
            s.experience_momentum = 1.0
        for _ in range(passes):
            model(*inputs, **kwargs)
    finally:
        for s, m in zip(scalings, momenta, strict=True):
            s.experience_momentum = m
        model.train(was_training)
