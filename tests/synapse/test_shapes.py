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
    Tent,
    fixed_point,
    get_scaling,
    lipschitz,
)


def iterate_trace_map(shape, x0: float, drive: float, step: float, n: int = 400) -> float:
    x = torch.tensor(x0, dtype=torch.float64)
    for _ in range(n):
        x = (1 - step) * x + step * (drive * shape(x)).clamp(max=1.0)
    return float(x)


@pytest.mark.parametrize("name", sorted(SHAPES))
def test_shape_values_stay_within_limits(name):
    shape = get_scaling(name)
    f = shape(torch.linspace(0, 1, 101))
    assert f.min() >= shape.f_min and f.max() <= shape.f_max


def test_tent_peaks_at_center_and_falls_on_both_sides():
    tent = Tent()
    f = tent(torch.tensor([0.0, 0.25, 0.5, 0.75, 1.0]))
    assert torch.allclose(f, torch.tensor([0.5, 1.0, 1.5, 1.0, 0.5]))


def test_homeostatic_is_neutral_at_target_and_pushes_toward_it():
    h = Homeostatic(target=0.2, alpha=2.0)
    f = h(torch.tensor([0.0, 0.2, 0.6]))
    assert torch.allclose(f, torch.tensor([1.4, 1.0, 0.2]))


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
            x = fixed_point(shape, a)
            fx = min(1.0, a * float(shape(torch.tensor(x, dtype=torch.float64))))
            assert fx == pytest.approx(x, abs=1e-8), (name, a)


@pytest.mark.parametrize(
    "shape,drive,step",
    [
        (Tent(), 0.4, 1.0),  # a * L_f = 0.8
        (Homeostatic(), 0.45, 1.0),  # a * alpha = 0.9
        (Homeostatic(), 1.0, 0.5),  # non-increasing: contracts for a * alpha < 3
        (Gaussian(), 0.35, 1.0),
        (Linear(), 0.45, 1.0),
    ],
)
def test_documented_contractions_have_lipschitz_below_one(shape, drive, step):
    assert lipschitz(shape, drive, step) < 1.0


def test_tent_does_not_contract_at_full_drive():
    assert lipschitz(Tent(), 1.0, 0.3) > 1.0


def test_lipschitz_bound_holds_numerically():
    x = torch.linspace(0, 1, 2001, dtype=torch.float64)
    for name in SHAPES:
        shape = get_scaling(name)
        for a, beta in [(0.3, 1.0), (0.9, 0.5), (1.0, 0.2)]:
            m = (1 - beta) * x + beta * (a * shape(x)).clamp(max=1.0)
            slope = (m.diff() / x.diff()).abs().max()
            assert slope <= lipschitz(shape, a, beta) + 1e-6, (name, a, beta)


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
    L = lipschitz(shape, drive, step)
    assume(L < 0.99)  # the documented region (and fast enough)
    n = math.ceil(math.log(1e-9) / math.log(L)) if L > 0 else 1  # Banach: error <= L^n
    x = iterate_trace_map(shape, x0, drive, step, n)
    assert x == pytest.approx(fixed_point(shape, drive), abs=1e-6)


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
    assert repr(Homeostatic()) == "Homeostatic(f_min=0, f_max=2, target=0.1, alpha=2)"
