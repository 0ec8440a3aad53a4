"""A dense spiking layer with adaptive synaptic scaling, for image and event data."""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from spikegraph.neurons import get_neuron
from spikegraph.synapse import ScalingShape, SynapticScaling, scale_gradient
from spikegraph.utils.checks import check_sequence

__all__ = ["ASLinear"]


class ASLinear(nn.Module):
    r"""Fully connected spiking layer on the synapse core (the AS-SNN authors' dense synapses).

    Input neuron :math:`j` keeps one intensity trace per sample, driven by
    :math:`a_j(t) = \min(1, |x_j(t)|)`, and every synapse leaving it has effective weight
    :math:`W_{ij} f(x_j(t-1))`:

    .. math::
        I_i(t) = \sum_j W_{ij}\, f\bigl(x_j(t-1)\bigr)\, x_j(t) + b_i,

    so :math:`\partial L / \partial W_{ij} = \sum_t \delta_i(t) f(x_j(t-1)) x_j(t)` carries the
    scale. The experience buffer has one entry per input neuron, shared across samples. With
    ``consolidation`` :math:`\lambda > 0` the gradient of column :math:`j` is further multiplied by
    its plasticity :math:`\pi_j = 1 / (1 + \lambda M_j)`, where :math:`M_j` sums input
    :math:`j`'s relative experience over the tasks consolidated so far
    (:mod:`spikegraph.synapse.consolidation`; use it with SGD).

    Args:
        in_features: input size :math:`C_{in}`.
        out_features: output size :math:`C_{out}`.
        scaling: a shape name, a :class:`~spikegraph.synapse.ScalingShape`, or ``None`` (off).
        neuron: ``"lif"``, ``"if"``, a neuron module, or ``None`` to return the currents
            (for a membrane read-out).
        bias: learn an additive bias.
        trace_decay, prior_weight, experience_momentum, trace_grad, consolidation: see
            :class:`~spikegraph.synapse.SynapticScaling`.

    Shapes:
        - input: ``[T, *, C_in]`` spikes or currents
        - output: ``[T, *, C_out]`` spikes (currents with ``neuron=None``)
    """

    def __init__(
        self,
        in_features: int,
        out_features: int,
        *,
        scaling: str | ScalingShape | None = "tent",
        neuron: str | nn.Module | None = "lif",
        bias: bool = True,
        trace_decay: float = 1.0,
        prior_weight: float = 1.0,
        experience_momentum: float = 0.1,
        trace_grad: bool = False,
        consolidation: float = 0.0,
    ) -> None:
        super().__init__()
        self.in_features = in_features
        self.out_features = out_features
        self.weight = nn.Parameter(torch.empty(out_features, in_features))
        self.bias = nn.Parameter(torch.empty(out_features)) if bias else None
        self.neuron = None if neuron is None else get_neuron(neuron)
        self.scaling = SynapticScaling(
            scaling,
            in_features,
            decay=trace_decay,
            prior_weight=prior_weight,
            experience_momentum=experience_momentum,
            trace_grad=trace_grad,
            consolidation=consolidation,
        )
        #: ``"gradient"``: consolidation scales the weight's gradient; ``"update"``: an
        #: optimizer hook scales its step (:class:`~spikegraph.synapse.ConsolidatedUpdates`).
        self.consolidate_by = "gradient"
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """Re-initialise the weights (as ``nn.Linear``) and forget the experience."""
        nn.init.kaiming_uniform_(self.weight, a=math.sqrt(5))
        if self.bias is not None:
            bound = 1.0 / math.sqrt(self.in_features) if self.in_features else 0.0
            nn.init.uniform_(self.bias, -bound, bound)
        self.scaling.reset_experience(self.in_features)

    def synaptic_current(self, x: Tensor) -> Tensor:
        """The current :math:`I(t)` before the neuron, ``[T, *, C_out]``."""
        check_sequence(x, self.in_features)
        scale = self.scaling(x.abs().clamp(max=1.0))
        x = x if scale is None else x * scale
        weight, plasticity = self.weight, self.scaling.plasticity()
        if plasticity is not None:  # consolidated synapses pass less gradient, both ways
            plasticity = plasticity.to(x.dtype)
            x = scale_gradient(x, plasticity)
            if self.consolidate_by == "gradient":  # else ConsolidatedUpdates scales the step
                weight = scale_gradient(weight, plasticity)
        return F.linear(x, weight, self.bias)

    def consolidated_weights(self) -> list[tuple[Tensor, Tensor | None]]:
        """``(weight, plasticity)`` with one factor per input column, for
        :class:`~spikegraph.synapse.ConsolidatedUpdates`."""
        plasticity = self.scaling.plasticity()
        return [(self.weight, None if plasticity is None else plasticity.unsqueeze(0))]

    def forward(self, x: Tensor) -> Tensor:
        current = self.synaptic_current(x)
        return current if self.neuron is None else self.neuron(current)

    def extra_repr(self) -> str:
        return (
            f"{self.in_features}, {self.out_features}, scaling={self.scaling.shape!r}, "
            f"bias={self.bias is not None}"
        )
