"""Pieces the peer models share: a normalised spiking stage and a rate read-out."""

from __future__ import annotations

from torch import Tensor, nn

from spikegraph.neurons import LIF
from spikegraph.synapse import TargetRate

__all__ = ["SpikingStage"]


class SpikingStage(nn.Module):
    """Currents ``[T, N, C]`` -> optional normalisation -> optional rate gain -> LIF spikes.

    The gain (:class:`~spikegraph.synapse.TargetRate`, one for the layer) acts after the
    normalisation, which would otherwise divide it out, and takes one controller step on the
    spikes of every training call (and of :func:`~spikegraph.synapse.settle`). A current
    repeated over time (a stride-0 view) is normalised once: batch norm and STFN give every
    step of a constant sequence the statistics of its first."""

    def __init__(self, norm: nn.Module | None, neuron: LIF, target_rate: float | None) -> None:
        super().__init__()
        self.norm = norm
        self.rate = None if target_rate is None else TargetRate(target_rate)
        self.neuron = neuron

    def reset_parameters(self) -> None:
        if self.norm is not None and hasattr(self.norm, "reset_parameters"):
            self.norm.reset_parameters()
        if self.rate is not None:
            self.rate.reset()

    def forward(self, current: Tensor) -> Tensor:
        if self.norm is not None and current.shape[0] > 1 and current.stride(0) == 0:
            # one input repeated over time: per-step statistics are those of its first step
            current = self.norm(current[:1]).expand_as(current)
        elif self.norm is not None:
            current = self.norm(current)
        if self.rate is not None:
            current = self.rate(current)
        spikes = self.neuron(current)
        if self.rate is not None:
            self.rate.observe(spikes)
        return spikes


class SequenceBatchNorm(nn.BatchNorm1d):
    """``BatchNorm1d`` over the channels of a sequence ``[T, N, C]``: statistics over time and
    nodes together (running averages for evaluation, as ``BatchNorm1d``)."""

    def forward(self, x: Tensor) -> Tensor:  # type: ignore[override]
        return super().forward(x.reshape(-1, x.shape[-1])).view(x.shape)
