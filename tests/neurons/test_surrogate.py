import pytest
import torch

from spikegraph.neurons import SURROGATES, get_surrogate


@pytest.mark.parametrize("name", sorted(SURROGATES))
def test_forward_is_heaviside(name):
    v = torch.tensor([-1.0, -1e-3, 0.0, 1e-3, 2.0])
    assert get_surrogate(name)(v).tolist() == [0, 0, 1, 1, 1]


@pytest.mark.parametrize("name", sorted(SURROGATES))
def test_backward_equals_autograd_of_smooth_form(name):
    surrogate = get_surrogate(name)
    # avoid the kinks of the piecewise forms, where autograd picks one side
    v = torch.linspace(-2.03, 2.01, 257, dtype=torch.float64, requires_grad=True)
    (grad_spike,) = torch.autograd.grad(surrogate(v).sum(), v)
    (grad_smooth,) = torch.autograd.grad(surrogate.primitive(v).sum(), v)
    torch.testing.assert_close(grad_spike, grad_smooth)


@pytest.mark.parametrize("name", ["sigmoid", "atan", "triangle"])
def test_smooth_form_passes_gradcheck(name):
    surrogate = get_surrogate(name)
    v = torch.linspace(-0.9, 0.9, 12, dtype=torch.float64, requires_grad=True)  # no kink at 0
    assert torch.autograd.gradcheck(surrogate.primitive, (v,))
    assert torch.autograd.gradcheck(lambda u: surrogate.derivative(u), (v,))


def test_primitives_are_soft_steps():
    for name in SURROGATES:
        h = get_surrogate(name).primitive(torch.tensor([-50.0, 0.0, 50.0]))
        assert h[0] == pytest.approx(0, abs=0.02) and h[2] == pytest.approx(1, abs=0.02), name
        assert h[1] == pytest.approx(0.5), name


def test_rectangular_window_is_the_authors():
    r = get_surrogate("rectangular", width=1.0)
    d = r.derivative(torch.tensor([-0.6, -0.4, 0.0, 0.49, 0.51]))
    assert d.tolist() == [0, 1, 1, 1, 0]


def test_hyper_parameters_in_repr():
    assert repr(get_surrogate("sigmoid", alpha=5.0)) == "Sigmoid(alpha=5)"
    assert repr(get_surrogate("triangle", width=0.5)) == "Triangle(width=0.5)"


@pytest.mark.parametrize("name", sorted(SURROGATES))
@pytest.mark.parametrize("width", [1.0, 0.4])
def test_in_place_derivative_equals_derivative(name, width):
    params = {"width": width} if name in ("rectangular", "triangle") else {"alpha": 1 / width}
    surrogate = get_surrogate(name, **params)
    v = torch.linspace(-1.5, 1.5, 301)
    buffer = v.clone()
    out = surrogate.derivative_(buffer)
    assert out.data_ptr() == buffer.data_ptr()  # written over its argument
    assert torch.equal(out, surrogate.derivative(v))
