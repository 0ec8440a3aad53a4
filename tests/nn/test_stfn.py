"""STFNorm: per-node normalisation over channels and the steps seen so far."""

import pytest
import torch

from spikegraph.nn import STFNorm


def test_each_step_is_normalised_with_the_node_statistics_up_to_that_step():
    torch.manual_seed(0)
    u = torch.randn(4, 3, 5) * 3 + 1
    out = STFNorm(5, threshold=0.5, rho=2.0, affine=False)(u)
    for t in range(4):
        seen = u[: t + 1]  # [t+1, N, C]
        mean = seen.mean(dim=(0, 2))
        std = seen.var(dim=(0, 2), unbiased=False).add(1e-5).sqrt()
        expected = (u[t] - mean[:, None]) / std[:, None]  # rho * threshold = 1
        torch.testing.assert_close(out[t], expected, atol=1e-5, rtol=1e-5)


def test_a_later_step_does_not_change_earlier_outputs():
    u = torch.randn(5, 2, 4)
    later = u.clone()
    later[3:] += 10.0
    norm = STFNorm(4)
    torch.testing.assert_close(norm(u)[:3], norm(later)[:3])


def test_affine_parameters_scale_and_shift_every_channel():
    norm = STFNorm(3, affine=True)
    with torch.no_grad():
        norm.weight.copy_(torch.tensor([1.0, 2.0, 3.0]))
        norm.bias.copy_(torch.tensor([0.0, 1.0, -1.0]))
    u = torch.randn(2, 4, 3)
    plain = STFNorm(3, affine=False)(u)
    torch.testing.assert_close(norm(u), plain * norm.weight + norm.bias)


def test_wrong_channel_count_and_threshold_raise():
    with pytest.raises(ValueError, match="has 4 channels, the layer expects 3"):
        STFNorm(3)(torch.randn(2, 5, 4))
    with pytest.raises(ValueError, match="threshold must be > 0"):
        STFNorm(3, threshold=0.0)


def plain_stfn(u, weight, bias, scale, eps=1e-5):
    """The module's equations as plain tensor operations, differentiated by autograd."""
    T, C = u.shape[0], u.shape[-1]
    count = (torch.arange(1, T + 1, dtype=u.dtype) * C).view(T, *([1] * (u.dim() - 1)))
    mean = u.sum(-1, keepdim=True).cumsum(0) / count
    var = (u.square().sum(-1, keepdim=True).cumsum(0) / count - mean.square()).clamp_min(0.0)
    out = (u - mean) * scale / (var + eps).sqrt()
    return out if weight is None else out * weight + bias


@pytest.mark.parametrize("affine", [True, False])
@pytest.mark.parametrize("shape", [(6, 5, 4), (1, 3, 4), (3, 2, 5, 4)])
def test_the_written_out_gradient_is_that_of_the_equations(affine, shape):
    torch.manual_seed(1)
    norm = STFNorm(4, threshold=0.5, rho=1.5, affine=affine).double()
    if affine:
        with torch.no_grad():
            norm.weight.uniform_(0.5, 2.0)
            norm.bias.normal_()
    u = (torch.randn(*shape, dtype=torch.float64) * 2 + 0.5).requires_grad_()
    grad_out = torch.randn(*shape, dtype=torch.float64)
    params = [u] + ([norm.weight, norm.bias] if affine else [])
    got = torch.autograd.grad(norm(u), params, grad_out)
    ref = plain_stfn(u, norm.weight, norm.bias, 0.75)
    torch.testing.assert_close(norm(u), ref)
    for g, r in zip(got, torch.autograd.grad(ref, params, grad_out), strict=True):
        torch.testing.assert_close(g, r)
    assert torch.autograd.gradcheck(norm, (u,))


def test_a_constant_node_passes_a_gradient_only_through_the_shift():
    # zero variance (the clamp at 0 is active for the node): the output is bias, the input
    # gradient finite
    norm = STFNorm(3).double()
    u = torch.ones(4, 2, 3, dtype=torch.float64, requires_grad=True)
    out = norm(u)
    torch.testing.assert_close(out, torch.zeros_like(out))
    (grad,) = torch.autograd.grad(out.sum(), u)
    assert torch.isfinite(grad).all()
