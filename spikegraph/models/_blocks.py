"""Pieces the peer models share: a normalised spiking stage and a rate read-out."""

from __future__ import annotations

from collections.abc import Callable

import torch.nn.functional as F
from torch import Tensor, nn

from spikegraph.encoders import get_encoder
from spikegraph.neurons import LIF
from spikegraph.nn import STFNorm
from spikegraph.synapse import TargetRate
from spikegraph.typing import Adj
from spikegraph.utils.checks import check_finite

__all__ = ["STFNStack", "SpikingStage"]


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


class STFNStack(nn.Module):
    """The body GC-SNN and GA-SNN share (Xu et al., IJCAI 2021): encoder, then per layer a
    graph operator ``make_conv(c_in, c_out)`` -> STFN -> (rate gain) -> LIF, then the time mean
    of the last layer's spikes -> linear read-out. Subclasses only choose the graph operator.
    """

    def __init__(
        self,
        make_conv: Callable[[int, int], nn.Module],
        in_channels: int,
        hidden_channels: int,
        out_channels: int,
        *,
        num_layers: int,
        T: int,
        encoder: str,
        dropout: float,
        decay: float,
        threshold: float,
        reset: str,
        surrogate: str,
        rho: float,
        target_rate: float | None,
    ) -> None:
        super().__init__()
        if num_layers < 1:
            raise ValueError(f"num_layers must be >= 1, got {num_layers}")
        self.encoder = get_encoder(encoder, T)
        self.dropout = dropout
        sizes = [in_channels] + [hidden_channels] * num_layers
        self.convs = nn.ModuleList()
        self.stages = nn.ModuleList()
        for c_in, c_out in zip(sizes[:-1], sizes[1:], strict=True):
            self.convs.append(make_conv(c_in, c_out))
            norm = STFNorm(c_out, threshold, rho=rho)
            neuron = LIF(decay, threshold, reset, surrogate)
            self.stages.append(SpikingStage(norm, neuron, target_rate))
        self.readout = nn.Linear(hidden_channels, out_channels)
        self.reset_parameters()

    @property
    def T(self) -> int:
        return self.encoder.T

    def reset_parameters(self) -> None:
        for conv, stage in zip(self.convs, self.stages, strict=True):
            conv.reset_parameters()
            stage.reset_parameters()
        self.readout.reset_parameters()

    def forward(self, x: Tensor, edge_index: Adj) -> Tensor:
        check_finite(x, "x")
        if x.dim() != 2:
            raise ValueError(f"x must be node features [N, C], got shape {tuple(x.shape)}")
        h = self.encoder(F.dropout(x, self.dropout, self.training))
        for i, (conv, stage) in enumerate(zip(self.convs, self.stages, strict=True)):
            if i > 0:
                h = F.dropout(h, self.dropout, self.training)
            h = stage(conv(h, edge_index))
        return self.readout(h.mean(0))
