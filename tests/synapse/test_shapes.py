import math

import pytest
import torch
from hypothesis import assume, example, given, settings
from hypothesis import strategies as st

from spikegraph.synapse import (
    SHAPES,
    Gaussian,
    Homeostatic,
    Linear,
    Relative,
    Tent,
    fixed_point,
    get_scaling,
    lipschitz,
)

REF = 0.3  # the experience a relative shape reads intensities against in these tests


def ref_of(shape):
    return REF if shape.relative else None


def f_of(shape, x):
    """The scale at absolute intensity x (relative shapes read x / REF)."""
    return shape(x / REF) if shape.relative else shape(x)


def iterate_trace_map(shape, x0: float, drive: float, step: float, n: int = 400) -> float:
    x = torch.tensor(x0, dtype=torch.float64)
    for _ in range(n):
        x = (1 - step) * x + step * (drive * f_of(shape, x)).clamp(max=1.0)
    return float(x)


# The documented formulas with their default parameters (docstrings of spikegraph.synapse.shapes
# and the table of docs/guides/method.md), written out before clipping, and their limits; a
# relative shape reads x in units of the experience.
DOCUMENTED = {
    "relative": (lambda x: 1.0 + 1.0 * (1.0 - x), 0.5, 2.0),
    "tent": (lambda x: 0.5 + 1.0 * max(0.0, 1.0 - abs(x - 0.5) / 0.5), 0.5, 1.5),
    "homeostatic": (lambda x: 1.0 + 2.0 * (0.1 - x), 0.25, 2.0),
    "gaussian": (lambda x: 0.5 + 1.0 * math.exp(-((x - 0.5) ** 2) / (2 * 0.25**2)), 0.5, 1.5),
    "linear": (lambda x: 2.0 * x, 0.25, 2.0),
}
# the mean-field control has the relative shape's formula; only the layer pools its scale
DOCUMENTED["mean_field"] = DOCUMENTED["relative"]


@pytest.mark.parametrize("name", sorted(SHAPES))
def test_shape_is_its_documented_formula_clipped_to_its_limits(name):
    formula, lo, hi = DOCUMENTED[name]
    top = 3.0 if get_scaling(name).relative else 1.0  # up to three times the experience
    xs = [top * i / 600 for i in range(601)]
    expected = [min(hi, max(lo, formula(x))) for x in xs]
    got = get_scaling(name)(torch.tensor(xs, dtype=torch.float64))
    torch.testing.assert_close(got, torch.tensor(expected, dtype=torch.float64))
    if name in ("relative", "mean_field", "homeostatic", "linear"):  # the clip limits bind
        assert any(not lo <= formula(x) <= hi for x in xs)


def test_tent_peaks_at_center_and_falls_on_both_sides():
    tent = Tent()
    f = tent(torch.tensor([0.0, 0.25, 0.5, 0.75, 1.0]))
    assert torch.allclose(f, torch.tensor([0.5, 1.0, 1.5, 1.0, 0.5]))


def test_homeostatic_is_neutral_at_target_and_pushes_toward_it():
    h = Homeostatic(target=0.2, alpha=2.0)
    f = h(torch.tensor([0.0, 0.2, 0.5, 0.9]))  # 1 + 2 (0.2 - x), floored at f_min = 0.25
    assert torch.allclose(f, torch.tensor([1.4, 1.0, 0.4, 0.25]))


def test_gaussian_and_linear_formulas():
    g = Gaussian(center=0.5, sigma=0.25)
    assert float(g(torch.tensor(0.25))) == pytest.approx(0.5 + math.exp(-0.5))
    lin = Linear(k=2.0, f_min=0.25, f_max=2.0)
    assert torch.allclose(lin(torch.tensor([0.0, 0.5, 1.5])), torch.tensor([0.25, 1.0, 2.0]))


def test_homeostatic_fixed_point_has_closed_form():
    h = Homeostatic(target=0.1, alpha=2.0)
    for a in (0.05, 0.1, 0.3):
        assert fixed_point(h, a) == pytest.approx(a * (1 + 2.0 * 0.1) / (1 + a * 2.0), abs=1e-9)
    assert fixed_point(h, 0.1) == pytest.approx(0.1)


def test_fixed_point_solves_its_equation():
    for name in SHAPES:
        shape = get_scaling(name)
        for a in (0.0, 0.2, 0.9):
            x = fixed_point(shape, a, reference=ref_of(shape))
            fx = min(1.0, a * float(f_of(shape, torch.tensor(x, dtype=torch.float64))))
            assert fx == pytest.approx(x, abs=1e-8), (name, a)


@pytest.mark.parametrize(
    "shape,drive,step,reference,documented",
    [
        # (1 - beta) + beta a L_f with L_f = (f_max - f_min) / w = 2
        (Tent(), 0.4, 1.0, None, 0.4 * 2.0),
        # non-increasing: max(1 - beta, |1 - beta - beta a alpha|)
        (Homeostatic(), 0.45, 1.0, None, 0.45 * 2.0),
        (Homeostatic(), 1.0, 0.5, None, 0.5),  # a alpha = 2 < (2 - beta) / beta = 3
        (Gaussian(), 0.35, 1.0, None, 0.35 / (0.25 * math.sqrt(math.e))),
        (Linear(), 0.45, 1.0, None, 0.45 * 2.0),
        (Relative(), 0.4, 0.5, 0.2, 0.5),  # sigma = a / e = 2: sigma alpha = 2 < 3
    ],
)
def test_documented_contractions_hold_on_the_measured_trace_map(
    shape, drive, step, reference, documented
):
    """The steepest slope of M(x) = (1 - beta) x + beta min(1, a f(x)) on [0, 1], measured by
    finite differences, is the documented constant and below one; lipschitz() returns it."""
    x = torch.linspace(0, 1, 100001, dtype=torch.float64)
    fx = shape(x / reference) if shape.relative else shape(x)
    m = (1 - step) * x + step * (drive * fx).clamp(max=1.0)
    measured = float((m.diff() / x.diff()).abs().max())
    assert measured == pytest.approx(documented, rel=1e-3)
    assert measured < 1.0
    assert lipschitz(shape, drive, step, reference=reference) == pytest.approx(documented)


def test_tent_does_not_contract_at_full_drive():
    assert lipschitz(Tent(), 1.0, 0.3) > 1.0


def test_lipschitz_bound_holds_numerically():
    x = torch.linspace(0, 1, 2001, dtype=torch.float64)
    for name in SHAPES:
        shape = get_scaling(name)
        for a, beta in [(0.3, 1.0), (0.9, 0.5), (1.0, 0.2)]:
            m = (1 - beta) * x + beta * (a * f_of(shape, x)).clamp(max=1.0)
            slope = (m.diff() / x.diff()).abs().max()
            assert slope <= lipschitz(shape, a, beta, reference=ref_of(shape)) + 1e-6, (name, a)


@settings(max_examples=60, deadline=None)
@example(name="homeostatic", x0=0.0, drive=0.6015625, step=0.8984375)  # L = 0.976: slow
@given(
    name=st.sampled_from(sorted(SHAPES)),
    x0=st.floats(0.0, 1.0),
    drive=st.floats(0.0, 1.0),
    step=st.floats(0.05, 1.0),
)
def test_trace_map_converges_to_fixed_point_where_it_contracts(name, x0, drive, step):
    shape = get_scaling(name)
    L = lipschitz(shape, drive, step, reference=ref_of(shape))
    assume(L < 0.99)  # the documented region (and fast enough)
    n = math.ceil(math.log(1e-9) / math.log(L)) if L > 0 else 1  # Banach: error <= L^n
    x = iterate_trace_map(shape, x0, drive, step, n)
    assert x == pytest.approx(fixed_point(shape, drive, reference=ref_of(shape)), abs=1e-6)


@pytest.mark.parametrize("sigma", [0.25, 0.5, 1.0, 2.0, 4.0])
def test_relative_fixed_point_is_the_experience_when_drive_is_as_usual(sigma):
    """x*/e = sigma (1 + alpha) / (1 + sigma alpha), clipped where f hits its limits."""
    shape, e = Relative(), 0.02  # a sparse layer: the absolute value of e does not matter
    x = fixed_point(shape, sigma * e, reference=e)
    expected = sigma * 2.0 / (1.0 + sigma)  # alpha = 1
    f = 1.0 + (1.0 - expected)
    if f < shape.f_min:  # clipped: x* = a f_min
        expected = sigma * shape.f_min
    assert x / e == pytest.approx(expected, rel=1e-6)
    assert fixed_point(shape, e, reference=e) == pytest.approx(e)  # as usual: x* = e, f = 1


def test_relative_shape_contracts_disturbances_whatever_the_operating_point():
    for e in (0.0001, 0.01, 0.2):
        moved = fixed_point(Relative(), 4 * e, reference=e) / e
        assert 1.0 < moved < 4.0  # the trace moves less than the drive: x4 -> x2
        assert lipschitz(Relative(), 2 * e, 0.5, reference=e) < 1.0  # sigma alpha = 2 < 3
        assert lipschitz(Relative(), 4 * e, 0.5, reference=e) > 1.0  # beyond the bound


def test_reference_is_required_exactly_for_relative_shapes():
    with pytest.raises(ValueError, match="needs the experience reference"):
        fixed_point(Relative(), 0.1)
    with pytest.raises(ValueError, match="takes no reference"):
        lipschitz(Tent(), 0.1, reference=0.5)


# the weakest scale of each default shape, from its documented formula: relative for x/e >= 3/2,
# tent at x = 0 and 1, homeostatic for x >= 0.475, gaussian at x = 0 and 1 (the bump's tails at
# two sigma), linear for x <= 1/8
FLOORS = {
    "relative": 0.5,
    "tent": 0.5,
    "homeostatic": 0.25,
    "gaussian": 0.5 + math.exp(-2.0),
    "linear": 0.25,
}
FLOORS["mean_field"] = FLOORS["relative"]


@pytest.mark.parametrize("name", sorted(SHAPES))
def test_no_default_shape_switches_a_synapse_off(name):
    """f_min > 0 (docs): over every intensity a synapse can reach (a relative shape reads x/e,
    which has no upper bound) the weakest scale is the documented positive floor."""
    shape = get_scaling(name)
    xs = torch.linspace(0, 1, 1001, dtype=torch.float64)
    if shape.relative:
        xs = torch.cat([4 * xs, torch.logspace(0.7, 6, 50, dtype=torch.float64)])
    weakest = float(shape(xs).min())
    assert weakest == pytest.approx(FLOORS[name])
    assert weakest > 0


def test_get_scaling_names_none_and_errors():
    assert get_scaling(None) is None and get_scaling("none") is None
    assert get_scaling("Homeostatic", target=0.05).target == 0.05
    t = Tent(width=0.25)
    assert get_scaling(t) is t
    with pytest.raises(ValueError, match="unknown scaling 'bogus'"):
        get_scaling("bogus")
    with pytest.raises(TypeError, match="scaling must be"):
        get_scaling(3)


def test_shape_rejects_bad_limits_and_repr_names_parameters():
    with pytest.raises(ValueError, match="f_min"):
        Tent(f_min=2.0, f_max=1.0)
    assert repr(Homeostatic()) == "Homeostatic(f_min=0.25, f_max=2, target=0.1, alpha=2)"
