r"""Scaling shapes: nonparametric maps from a synapse's normalised intensity to its weight scale.

A shape :math:`f: [0, 1] \to [f_{min}, f_{max}]` turns the normalised afferent intensity
:math:`x` of a synapse into the factor that multiplies its weight (DESIGN §3.2). Shapes hold only
fixed hyper-parameters: nothing here is learned.

**The trace map.** A synapse driven by a presynaptic activity :math:`a \in [0, 1]` transmits the
intensity :math:`u = \min(1, a f(x))`, and its trace relaxes toward it with step :math:`\beta`
(:math:`\beta = 1 - \lambda_c` for an exponential trace, :math:`1/n_t` for the running count):

.. math::
    M_{a,\beta}(x) = (1 - \beta)\, x + \beta \min\bigl(1, a f(x)\bigr).

Its fixed point :math:`x^*` solves :math:`x = \min(1, a f(x))` and does not depend on
:math:`\beta`; :func:`fixed_point` returns it. :func:`lipschitz` returns the Lipschitz constant of
:math:`M_{a,\beta}` on :math:`[0, 1]`: where it is below one the map is a contraction, the fixed
point is unique and iteration converges to it from any start (Banach). For a shape with slope at
most :math:`L_f`, the constant is :math:`(1 - \beta) + \beta a L_f` in general, and
:math:`\max(1 - \beta, |1 - \beta - \beta a L_f|)` for a non-increasing shape, which therefore
contracts whenever :math:`a L_f < (2 - \beta) / \beta`.

**Relative shapes.** An absolute set point fits one operating point only: drives differ by orders
of magnitude between layers (a sparse bag-of-words input layer sits near 0.01, a spiking hidden
layer near 0.5). A shape with ``relative = True`` (:class:`Relative`, the default of the graph
layer) reads the intensity relative to a reference :math:`e`, the synapse's own long-term
experience: :math:`f(x) = g(x / e)`. Its set point and gain are dimensionless, so one default
serves every layer; the map above becomes :math:`(1-\beta) x + \beta \min(1, a\, g(x/e))`,
with slope bound :math:`L_f = L_g / e` (pass ``reference=e`` to :func:`fixed_point` and
:func:`lipschitz`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, fields

import torch
from torch import Tensor

__all__ = [
    "ScalingShape",
    "Tent",
    "Homeostatic",
    "Gaussian",
    "Linear",
    "MeanField",
    "Relative",
    "SHAPES",
    "get_scaling",
    "fixed_point",
    "lipschitz",
]


@dataclass(frozen=True)
class ScalingShape:
    """Base class: a fixed map :math:`f` from intensity in ``[0, 1]`` to a weight scale."""

    f_min: float = 0.5
    f_max: float = 1.5

    #: ``True`` when :math:`f` never increases with :math:`x` (tighter Lipschitz bound).
    non_increasing = False
    #: ``True`` when :math:`f` reads the intensity relative to the synapse's experience.
    relative = False
    #: ``True`` for the mean-field control: the scale is averaged over a layer's synapses per
    #: step, so every synapse gets the same factor (:class:`MeanField`).
    pooled = False

    def __post_init__(self) -> None:
        if not (0.0 <= self.f_min <= self.f_max):
            raise ValueError(
                f"need 0 <= f_min <= f_max, got f_min={self.f_min}, f_max={self.f_max}"
            )

    def __call__(self, x: Tensor) -> Tensor:
        return self.forward(x).clamp(self.f_min, self.f_max)

    def forward(self, x: Tensor) -> Tensor:
        raise NotImplementedError

    @property
    def slope(self) -> float:
        """A bound :math:`L_f` on :math:`|f'(x)|` over ``[0, 1]``."""
        raise NotImplementedError

    @property
    def affine(self) -> tuple[float, float] | None:
        """``(w, b)`` when the shape is affine, :math:`f(x) = \\operatorname{clip}(w x + b,
        f_{min}, f_{max})`, else ``None``: :func:`~spikegraph.synapse.scaled_trace` then runs it
        as one fused step. A relative shape states it in units of its reference, :math:`x / e`."""
        return None

    def __repr__(self) -> str:
        args = ", ".join(f"{f.name}={getattr(self, f.name):g}" for f in fields(self))
        return f"{type(self).__name__}({args})"


@dataclass(frozen=True, repr=False)
class Tent(ScalingShape):
    r"""Rise to a peak at ``center``, then fall: potentiation for moderate, depression for
    saturated activity (the AS-SNN authors' tent, with their peak at T/2 read as the rate 0.5).

    .. math::
        f(x) = f_{min} + (f_{max} - f_{min}) \max\bigl(0, 1 - |x - c| / w\bigr)

    Slope :math:`L_f = (f_{max} - f_{min}) / w`; the trace map contracts when :math:`a L_f < 1`,
    i.e. for drives :math:`a < 1/2` with the defaults, whatever the step :math:`\beta`.
    """

    center: float = 0.5
    width: float = 0.5

    def forward(self, x: Tensor) -> Tensor:
        hat = (1.0 - (x - self.center).abs() / self.width).clamp_min(0.0)
        return self.f_min + (self.f_max - self.f_min) * hat

    @property
    def slope(self) -> float:
        return (self.f_max - self.f_min) / self.width


@dataclass(frozen=True, repr=False)
class Homeostatic(ScalingShape):
    r"""Potentiate below a target rate, depress above it.

    .. math::
        f(x) = \operatorname{clip}\bigl(1 + \alpha (x_t - x),\ f_{min},\ f_{max}\bigr)

    Non-increasing with slope :math:`L_f = \alpha`. Away from the clip limits the fixed point is
    closed-form, :math:`x^* = a (1 + \alpha x_t) / (1 + a \alpha)`, which equals the target
    :math:`x_t` when the drive is :math:`a = x_t` and moves less than the drive when it is
    disturbed. The trace map contracts whenever :math:`a \alpha < (2 - \beta) / \beta`: always for
    the defaults with :math:`\beta \le 1/2`, and for drives :math:`a < 1/\alpha` at :math:`\beta = 1`.
    """

    f_min: float = 0.25
    f_max: float = 2.0
    target: float = 0.1
    alpha: float = 2.0

    non_increasing = True

    def forward(self, x: Tensor) -> Tensor:
        return 1.0 + self.alpha * (self.target - x)

    @property
    def affine(self) -> tuple[float, float]:
        return -self.alpha, 1.0 + self.alpha * self.target

    @property
    def slope(self) -> float:
        return self.alpha


@dataclass(frozen=True, repr=False)
class Gaussian(ScalingShape):
    r"""A smooth bump centred on ``center``.

    .. math::
        f(x) = f_{min} + (f_{max} - f_{min}) \exp\bigl(-(x - c)^2 / (2 \sigma^2)\bigr)

    Slope :math:`L_f = (f_{max} - f_{min}) / (\sigma \sqrt{e})`; with the defaults the trace map
    contracts for drives :math:`a < \sigma\sqrt{e} / (f_{max} - f_{min}) \approx 0.41`.
    """

    center: float = 0.5
    sigma: float = 0.25

    def forward(self, x: Tensor) -> Tensor:
        bump = torch.exp(-((x - self.center) ** 2) / (2.0 * self.sigma**2))
        return self.f_min + (self.f_max - self.f_min) * bump

    @property
    def slope(self) -> float:
        return (self.f_max - self.f_min) / (self.sigma * math.sqrt(math.e))


@dataclass(frozen=True, repr=False)
class Linear(ScalingShape):
    r"""The authors' linear scaling :math:`f(x) = k x`, clipped to ``[f_min, f_max]``.

    Increasing with slope :math:`L_f = k`; the trace map contracts for drives :math:`a < 1/k`,
    with fixed point :math:`x^* = a f_{min}` while :math:`a f_{min} \le f_{min}/k`. The floor
    ``f_min`` keeps a silent synapse able to transmit at all.
    """

    f_min: float = 0.25
    f_max: float = 2.0
    k: float = 2.0

    def forward(self, x: Tensor) -> Tensor:
        return self.k * x

    @property
    def affine(self) -> tuple[float, float]:
        return self.k, 0.0

    @property
    def slope(self) -> float:
        return self.k


@dataclass(frozen=True, repr=False)
class Relative(ScalingShape):
    r"""Homeostasis around the synapse's own experience: potentiate a synapse that carries less
    than it usually does, depress one that carries more (the default of
    :class:`~spikegraph.nn.SpikingASConv`).

    .. math::
        f(x) = \operatorname{clip}\bigl(1 + \alpha (1 - x / e),\ f_{min},\ f_{max}\bigr)

    with :math:`e` the synapse's long-term experience (its mean intensity in training), so the
    set point is "as usual" and the gain :math:`\alpha` is dimensionless: the same default works
    at a drive of 0.01 and of 0.5. In units of the experience, with relative drive
    :math:`\sigma = a / e`, the fixed point away from the clip limits is

    .. math::
        x^* / e = \sigma (1 + \alpha) / (1 + \sigma \alpha),

    which is 1 (scale 1: the synapse as trained) when the drive is as usual and moves less than
    the drive when it is disturbed (:math:`\sigma = 4 \mapsto 1.6`, :math:`\sigma = 1/4 \mapsto
    0.4` with :math:`\alpha = 1`). Non-increasing with slope :math:`L_f = \alpha / e`: the trace
    map contracts whenever :math:`\sigma \alpha < (2 - \beta)/\beta`, i.e. for drives up to
    three times the usual one with the running count (:math:`\beta \le 1/2` once the experience
    counts as one step). ``f_min > 0``: no synapse is ever switched off.
    """

    f_min: float = 0.5
    f_max: float = 2.0
    alpha: float = 1.0

    non_increasing = True
    relative = True

    def forward(self, x: Tensor) -> Tensor:
        return 1.0 + self.alpha * (1.0 - x)

    @property
    def affine(self) -> tuple[float, float]:
        return -self.alpha, 1.0 + self.alpha

    @property
    def slope(self) -> float:
        return self.alpha


@dataclass(frozen=True, repr=False)
class MeanField(Relative):
    r"""The control for the per-edge synapse: :class:`Relative`'s scale averaged over all of a
    layer's synapses at every step,

    .. math::
        g(t) = \frac{1}{K} \sum_k f\bigl(x_k(t-1)\bigr),

    one gain per step for the whole layer (a per-step "mean field"). The traces run as for
    :class:`Relative`; only the factor the weights get is pooled. Whatever the per-edge scale
    does beyond a layer-wide gain per step is what it adds over this control.
    """

    pooled = True


SHAPES: dict[str, type[ScalingShape]] = {
    "relative": Relative,
    "mean_field": MeanField,
    "tent": Tent,
    "homeostatic": Homeostatic,
    "gaussian": Gaussian,
    "linear": Linear,
}


def get_scaling(scaling: str | ScalingShape | None, **params: float) -> ScalingShape | None:
    """Resolve a scaling shape from its name (``"relative"``, ``"tent"``, ``"homeostatic"``,
    ``"gaussian"``, ``"linear"``; ``None`` or ``"none"`` switches scaling off) or pass an
    instance through.

    Args:
        scaling: the name, a :class:`ScalingShape`, or ``None``.
        **params: hyper-parameters for a shape given by name (e.g. ``target=0.05``).

    Raises:
        ValueError: for an unknown name. TypeError: for any other kind of object.
    """
    if scaling is None or (isinstance(scaling, str) and scaling.lower() == "none"):
        if params:
            raise ValueError(f"scaling=None takes no parameters, got {sorted(params)}")
        return None
    if isinstance(scaling, ScalingShape):
        if params:
            raise ValueError("pass parameters either to the shape or by name, not both")
        return scaling
    if not isinstance(scaling, str):
        raise TypeError(f"scaling must be a name, a ScalingShape or None, got {type(scaling)}")
    try:
        return SHAPES[scaling.lower()](**params)
    except KeyError:
        names = ", ".join(repr(n) for n in [*SHAPES, None])
        raise ValueError(f"unknown scaling {scaling!r}; choose one of {names}") from None


def _transmitted(shape: ScalingShape, x: Tensor, drive: float, reference: float) -> Tensor:
    return (drive * shape(x / reference if shape.relative else x)).clamp(max=1.0)


def _check_reference(shape: ScalingShape, reference: float | None) -> float:
    if not shape.relative:
        if reference is not None:
            raise ValueError(f"{shape!r} is absolute: it takes no reference")
        return 1.0
    if reference is None or not reference > 0:
        raise ValueError(f"a relative shape needs the experience reference > 0, got {reference}")
    return float(reference)


def fixed_point(
    shape: ScalingShape,
    drive: float = 1.0,
    *,
    reference: float | None = None,
    tol: float = 1e-12,
) -> float:
    r"""The fixed point :math:`x^* = \min(1, a f(x^*))` of the trace map for drive ``a``
    (``reference``: the experience :math:`e` a relative shape reads :math:`x` against).

    Found by bisection on :math:`g(x) = \min(1, a f(x)) - x`, which is non-negative at 0 and
    non-positive at 1, so a root always exists. Where :func:`lipschitz` is below one the root is
    unique; otherwise this returns one of several.
    """
    if not 0.0 <= drive <= 1.0:
        raise ValueError(f"drive must lie in [0, 1], got {drive}")
    reference = _check_reference(shape, reference)
    lo, hi = torch.tensor(0.0, dtype=torch.float64), torch.tensor(1.0, dtype=torch.float64)
    while hi - lo > tol:
        mid = (lo + hi) / 2
        if _transmitted(shape, mid, drive, reference) - mid > 0:
            lo = mid
        else:
            hi = mid
    return float((lo + hi) / 2)


def lipschitz(
    shape: ScalingShape,
    drive: float = 1.0,
    step: float = 1.0,
    *,
    reference: float | None = None,
) -> float:
    r"""Lipschitz constant on ``[0, 1]`` of the trace map :math:`M_{a,\beta}` (module docstring).

    Args:
        shape: the scaling shape.
        drive: the presynaptic activity :math:`a \in [0, 1]`.
        step: the relaxation step :math:`\beta \in (0, 1]`: ``1 - decay`` for an exponential trace;
            for the running count the step shrinks as :math:`1/n_t`, and ``step=1`` is its
            first step.
        reference: the experience :math:`e` of a relative shape (slope :math:`L_g / e`).

    Returns:
        The constant; the map is a contraction when it is below one.
    """
    if not 0.0 <= drive <= 1.0:
        raise ValueError(f"drive must lie in [0, 1], got {drive}")
    if not 0.0 < step <= 1.0:
        raise ValueError(f"step must lie in (0, 1], got {step}")
    pull = step * drive * shape.slope / _check_reference(shape, reference)
    if shape.non_increasing:
        return max(1.0 - step, abs(1.0 - step - pull))
    return (1.0 - step) + pull
