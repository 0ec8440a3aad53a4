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


def test_experience_per_input_neuron_updates_in_training_only():
    layer = ASLinear(6, 3)
    assert layer.scaling.num_synapses == 6
    x = torch.ones(3, 4, 6)
    layer.eval()(x)
    assert torch.equal(layer.scaling.experience, torch.zeros(6))
    layer.train()(x)
    assert (layer.scaling.experience > 0).all()


def test_reset_restores():
    layer = ASLinear(6, 3, neuron=None)
    x = torch.rand(3, 2, 6)
    assert_reset_restores(layer, lambda: layer(x))


def test_bad_input_is_named():
    with pytest.raises(ValueError, match="7 channels"):
        ASLinear(6, 3)(torch.rand(2, 1, 7))
    with pytest.raises(ValueError, match="NaN"):
        ASLinear(6, 3)(torch.full((2, 1, 6), float("nan")))
