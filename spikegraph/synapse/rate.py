r"""Synaptic scaling driven by the postsynaptic neuron's own rate: an expected firing rate.

Biological synaptic scaling is slow and postsynaptic: a neuron that fires above its set point
scales all of its incoming synapses down, one that fires below scales them up, until its rate
returns to the set point. :class:`TargetRate` does this for one layer of neurons: the layer
(or, with ``channels``, every output channel :math:`c`) keeps a gain :math:`G_c` (a persistent
buffer, saved in ``state_dict``) that multiplies all of its incoming synaptic weights. A
layer-wide gain is the default: a channel whose learnt weights give it a negative current
everywhere cannot be made to fire by any gain, and its own controller would only saturate,
while the layer's mean rate is reached by the others. After each training call
the gain (which multiplies the bias too: it is the constant input's synapse, and a bias
that drove the neuron on its own would escape the control) moves against the log-ratio of the channel's measured rate :math:`r_c` (mean spikes
over steps and nodes) to the target :math:`r^*`,

.. math::
    \log G_c \leftarrow \operatorname{clip}\bigl(\log G_c + \eta\,(\log r^* - \log
    \max(r_c, \epsilon r^*)),\ \pm \log G_{max}\bigr),

an integral controller: its fixed point is :math:`r_c = r^*` whenever the target is reachable
within the gain bounds, whatever the weights learn (a weight change that raises the rate is
answered by a smaller gain on later calls). Near the fixed point, with
:math:`s = \partial \log r_c / \partial \log G_c` the rate's local elasticity, the error
:math:`\log(r_c / r^*)` shrinks by :math:`|1 - \eta s|` per call: the controller contracts for
:math:`0 < \eta s < 2`. The gain is frozen in eval mode and carries no gradient (as the
trace). Because it is one factor per postsynaptic channel it commutes with the sum over
incoming synapses: a layer applies it to its transformed features before aggregation, which
costs one ``[N, C]`` product and leaves the batched-over-time path untouched.
"""

from __future__ import annotations

import math

import torch
from torch import Tensor, nn

__all__ = ["TargetRate"]


class TargetRate(nn.Module):
    """A gain that brings a layer's firing rate to ``target`` (module docstring).

    Args:
        target: the expected firing rate :math:`r^*` in ``(0, 1)``.
        channels: ``None`` (default): one gain for the whole layer, driven by its mean rate;
            an int :math:`C`: one gain per output channel, driven by that channel's rate.
        adaptation: the controller step :math:`\\eta > 0` per training call.
        max_gain: bound :math:`G_{max} > 1` on the gain and its inverse.
        floor: :math:`\\epsilon`: a silent channel counts as firing at :math:`\\epsilon r^*`.
    """

    log_gain: Tensor
    #: Optional ``(rate, index, count) -> (rate, index)`` through which every training call's
    #: measured rate passes (``index`` is always ``None``; ``count`` is the number of values
    #: behind the rate). A data-parallel run sets :class:`spikegraph.distributed.ExperienceSync`
    #: here, so that every rank steps its gain from all ranks' combined rate: the same update
    #: on every rank, and gains that stay bit-identical.
    update_reducer = None

    def __init__(
        self,
        target: float,
        channels: int | None = None,
        *,
        adaptation: float = 0.5,
        max_gain: float = 16.0,
        floor: float = 0.1,
    ) -> None:
        super().__init__()
        if not 0.0 < target < 1.0:
            raise ValueError(f"target rate must lie in (0, 1), got {target}")
        if adaptation <= 0:
            raise ValueError(f"adaptation must be > 0, got {adaptation}")
        if max_gain <= 1:
            raise ValueError(f"max_gain must be > 1, got {max_gain}")
        if not 0.0 < floor <= 1.0:
            raise ValueError(f"floor must lie in (0, 1], got {floor}")
        self.target = target
        self.adaptation = adaptation
        self.max_gain = max_gain
        self.floor = floor
        self.register_buffer("log_gain", torch.zeros(1 if channels is None else channels))

    @property
    def gain(self) -> Tensor:
        """The current gain, ``[1]`` (layer-wide) or ``[C]`` (per channel)."""
        return self.log_gain.exp()

    def reset(self) -> None:
        """Back to unit gains."""
        self.log_gain.zero_()

    def forward(self, h: Tensor) -> Tensor:
        """Scale the channels (last dimension) of ``h`` by their gains."""
        return h * self.gain.to(h.dtype)

    @torch.no_grad()
    def observe(self, spikes: Tensor) -> None:
        """One controller step from a training call's output spikes ``[T, *, C]``."""
        if not self.training:
            return
        spikes = spikes.detach().reshape(-1, spikes.shape[-1])
        per_channel = self.log_gain.numel() > 1
        rate = spikes.mean(0) if per_channel else spikes.mean().reshape(1)
        rate = rate.to(self.log_gain.dtype)
        if self.update_reducer is not None:
            count = spikes.shape[0] if per_channel else spikes.numel()
            rate, _ = self.update_reducer(rate, None, count)
        error = math.log(self.target) - rate.clamp_min(self.floor * self.target).log()
        bound = math.log(self.max_gain)
        self.log_gain.add_(self.adaptation * error).clamp_(-bound, bound)

    def extra_repr(self) -> str:
        return f"target={self.target:g}, adaptation={self.adaptation:g}"
