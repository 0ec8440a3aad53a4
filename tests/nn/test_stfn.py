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
