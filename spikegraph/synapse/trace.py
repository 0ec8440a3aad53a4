r"""Intensity traces: how much a synapse has carried within one input sequence.

Each synapse :math:`k` keeps an accumulated intensity and a matching normaliser,

.. math::
    c_k(t) = \lambda_c\, c_k(t-1) + u_k(t), \qquad n(t) = \lambda_c\, n(t-1) + 1,
    \qquad x_k(t) = c_k(t) / n(t),

started from a prior :math:`c_k(0) = \rho\, e_k`, :math:`n(0) = \rho` (the long-term experience
:math:`e_k` with pseudo-count :math:`\rho`). :math:`\lambda_c = 1` is the AS-SNN authors' running
count, :math:`\lambda_c < 1` an exponential trace. Dividing by :math:`n(t)` rather than by
:math:`t` or :math:`1/(1-\lambda_c)` (DESIGN §3.1) makes :math:`x_k(t)` a weighted mean of the
prior and the stimuli, so it lies in ``[0, 1]`` from the first step on, without the start-up bias
of an uncorrected exponential trace. Equivalently
:math:`x_k(t) = (1 - \beta_t) x_k(t-1) + \beta_t u_k(t)` with :math:`\beta_t = 1/n(t)`.

A relative shape (:class:`~spikegraph.synapse.Relative`) reads the intensity against the prior,
:math:`f\bigl((x + \delta) / (e + \delta)\bigr)` with :math:`\delta =` :data:`SILENT`, so that a
synapse with no experience of activity and no activity keeps the scale :math:`f(1)`.

Nothing here knows about graphs or images: synapses are the trailing dimension of a tensor.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import NamedTuple

import torch
from torch import Tensor

from spikegraph.synapse.shapes import ScalingShape

__all__ = ["SILENT", "TraceState", "trace_init", "trace_step", "scaled_trace"]

#: Mean intensity below which a synapse counts as silent when a relative shape reads it.
SILENT = 1e-6


class TraceState(NamedTuple):
    """Accumulated intensity ``c`` (one entry per synapse) and the shared normaliser ``n``."""

    c: Tensor
    n: float

    @property
    def intensity(self) -> Tensor:
        """The normalised intensity :math:`x = c / n` in ``[0, 1]`` (zero before any input)."""
        return self.c / self.n if self.n > 0 else torch.zeros_like(self.c)


def trace_init(prior: Tensor, prior_weight: float = 1.0) -> TraceState:
    """Start a trace from a prior intensity (the experience) counted as ``prior_weight`` steps."""
    return TraceState(prior * prior_weight, float(prior_weight))


def trace_step(state: TraceState, u: Tensor, decay: float = 1.0) -> TraceState:
    r"""One step :math:`c \leftarrow \lambda_c c + u`, :math:`n \leftarrow \lambda_c n + 1`."""
    return TraceState(decay * state.c + u, decay * state.n + 1.0)


def scaled_trace(
    drive: Tensor,
    shape: ScalingShape,
    prior: Tensor,
    *,
    decay: float = 1.0,
    prior_weight: float = 1.0,
) -> tuple[Tensor, Tensor]:
    r"""Run the scaled trace over a whole sequence.

    At step :math:`t` a synapse scales its weight by :math:`f(x(t-1))`, the intensity it had
    reached before the step, then transmits :math:`u(t) = \min(1, a(t) f(x(t-1)))` and updates
    its trace with it (the recursion whose fixed point :func:`~spikegraph.synapse.fixed_point`
    gives).

    When no gradient flows through ``drive`` (the default of the layers: the scale is a constant
    for autograd) the steps run in place into preallocated outputs, and an affine shape
    (:attr:`~spikegraph.synapse.ScalingShape.affine`) costs one fused multiply-add per step;
    otherwise every step is an autograd-visible :func:`trace_step`. Both give the same numbers.

    Args:
        drive: presynaptic activity :math:`a(t) \in [0, 1]`, shape ``[T, *batch, K]``.
        shape: the scaling shape :math:`f`.
        prior: the starting intensity per synapse, shape ``[K]`` (broadcast over batch); also
            the reference of a relative shape.
        decay: :math:`\lambda_c` in ``(0, 1]``.
        prior_weight: pseudo-count :math:`\rho \ge 0` of the prior.

    Returns:
        ``(scale, intensity)``, both shaped like ``drive``: the factor :math:`f(x(t-1))` applied at
        each step, and the intensity :math:`x(t)` after it.
    """
    if drive.requires_grad and torch.is_grad_enabled():
        return _scaled_trace_autograd(drive, shape, prior, decay, prior_weight)
    with torch.no_grad():
        return _scaled_trace_in_place(drive, shape, prior, decay, prior_weight)


def _scaled_trace_autograd(
    drive: Tensor, shape: ScalingShape, prior: Tensor, decay: float, prior_weight: float
) -> tuple[Tensor, Tensor]:
    state = trace_init(prior.expand_as(drive[0]), prior_weight)
    reference = prior + SILENT if shape.relative else None
    scales, intensities = [], []
    for a in drive:
        x_prev = state.intensity if state.n > 0 else prior.expand_as(a)
        scale = shape(x_prev if reference is None else (x_prev + SILENT) / reference)
        state = trace_step(state, (a * scale).clamp(max=1.0), decay)
        scales.append(scale)
        intensities.append(state.intensity)
    return torch.stack(scales), torch.stack(intensities)


def _scaled_trace_in_place(
    drive: Tensor, shape: ScalingShape, prior: Tensor, decay: float, prior_weight: float
) -> tuple[Tensor, Tensor]:
    scales, intensities = torch.empty_like(drive), torch.empty_like(drive)
    scale_into = _scale_function(shape, prior)
    c = prior.expand_as(drive[0]) * prior_weight  # a fresh tensor: updated in place below
    n = float(prior_weight)
    u = torch.empty_like(drive[0])
    x_prev = prior.expand_as(drive[0])
    for t, a in enumerate(drive):
        scale_into(x_prev, scales[t])
        torch.mul(a, scales[t], out=u).clamp_(max=1.0)
        (c if decay == 1.0 else c.mul_(decay)).add_(u)
        n = decay * n + 1.0
        x_prev = torch.div(c, n, out=intensities[t])
    return scales, intensities


def _scale_function(shape: ScalingShape, prior: Tensor) -> Callable[[Tensor, Tensor], Tensor]:
    r"""``(x, out) -> f(x)`` written into ``out``. An affine shape is one multiply-add and a clip;
    a relative one folds its reference in: :math:`w (x + \delta) / (e + \delta) + b = w' x + b'`."""
    lo, hi = shape.f_min, shape.f_max
    if shape.affine is None:
        reference = prior + SILENT if shape.relative else None
        if reference is None:
            return lambda x, out: out.copy_(shape(x))
        return lambda x, out: out.copy_(shape((x + SILENT) / reference))
    w, b = shape.affine
    if not shape.relative:
        return lambda x, out: torch.mul(x, w, out=out).add_(b).clamp_(lo, hi)
    w_x = w / (prior + SILENT)
    b_x = b + w_x * SILENT
    return lambda x, out: torch.addcmul(b_x, x, w_x, out=out).clamp_(lo, hi)
