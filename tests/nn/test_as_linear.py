import pytest
import torch

from spikegraph import LIF, ASLinear
from spikegraph.synapse import Tent, scaled_trace
from spikegraph.testing import assert_reset_restores, assert_spikes


def test_shapes_spikes_and_current_readout():
    x = (torch.rand(10, 5, 12) < 0.3).float()
    out = ASLinear(12, 4)(x)
    assert out.shape == (10, 5, 4)
    assert_spikes(out)
    assert ASLinear(12, 4, neuron=None)(x).shape == (10, 5, 4)


def test_current_is_linear_map_of_scaled_input():
    x = (torch.rand(3, 2, 6) < 0.5).float()
    layer = ASLinear(6, 3, scaling=Tent(), neuron=None).eval()
    scale, _ = scaled_trace(x, Tent(), torch.zeros(6))
    expected = (x * scale) @ layer.weight.T + layer.bias
    torch.testing.assert_close(layer(x), expected)


def test_weight_gradient_carries_the_scale():
    x = (torch.rand(4, 3, 5) < 0.5).float()
    layer = ASLinear(5, 2, scaling="homeostatic", neuron=None, bias=False).eval()
    layer(x).sum().backward()
    scale, _ = scaled_trace(x, layer.scaling.shape, torch.zeros(5))
    expected = (x * scale).sum((0, 1)).expand(2, 5)
    torch.testing.assert_close(layer.weight.grad, expected)


def test_no_scaling_is_a_plain_spiking_linear_layer():
    x = torch.rand(3, 2, 6)
    layer = ASLinear(6, 3, scaling=None, neuron=LIF(threshold=0.3))
    expected = LIF(threshold=0.3)(x @ layer.weight.T + layer.bias)
    torch.testing.assert_close(layer(x), expected)


def test_experience_per_input_neuron_is_the_documented_average_in_training_only():
    """Input neuron j is driven by a_j(t) = min(1, |x_j(t)|); after a training call its
    experience is (1 - m) e_j + m times its intensity averaged over the steps and the batch
    (m = 0.1, experience_init 0, the tent shape written out by hand)."""
    layer = ASLinear(6, 3)
    assert layer.scaling.num_synapses == 6
    x = 1.5 * torch.randn(3, 4, 6, generator=torch.Generator().manual_seed(0))  # signed, > 1
    layer.eval()(x)
    assert torch.equal(layer.scaling.experience, torch.zeros(6))
    layer.train()(x)
    expected = []
    for j in range(6):
        intensities = []
        for b in range(4):
            carried, count, previous = 0.0, 1.0, 0.0  # the prior e_j = 0 counted once
            for value in x[:, b, j].tolist():
                f = 0.5 + max(0.0, 1.0 - abs(previous - 0.5) / 0.5)
                carried += min(1.0, min(1.0, abs(value)) * f)
                count += 1.0
                previous = carried / count
                intensities.append(previous)
        expected.append(0.1 * sum(intensities) / len(intensities))
    assert layer.scaling.experience.tolist() == pytest.approx(expected, abs=1e-6)


def test_reset_restores():
    layer = ASLinear(6, 3, neuron=None)
    x = torch.rand(3, 2, 6)
    assert_reset_restores(layer, lambda: layer(x))


def test_bad_input_is_named():
    with pytest.raises(ValueError, match="7 channels"):
        ASLinear(6, 3)(torch.rand(2, 1, 7))
    with pytest.raises(ValueError, match="NaN"):
        ASLinear(6, 3)(torch.full((2, 1, 6), float("nan")))
