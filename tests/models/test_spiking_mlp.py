"""SpikingMLP: shapes, errors, the input clip, context gates, read-outs and plain references."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

from spikegraph.models import SpikingMLP
from spikegraph.neurons import lif_step
from spikegraph.neurons.surrogate import get_surrogate


def _frames(b: int = 3, t: int = 4, scale: float = 3.0) -> torch.Tensor:
    return (torch.rand(b, t, 2, 3, 3) * scale).floor()  # event counts 0..2


def test_output_shape_and_gradients():
    model = SpikingMLP(18, 16, 5)
    out = model(_frames())
    assert out.shape == (3, 5)
    out.sum().backward()
    assert all(p.grad is not None for p in model.parameters())


@pytest.mark.parametrize("shape", [(3, 4, 17), (4, 18)])
def test_wrong_frame_size_is_named(shape):
    with pytest.raises(ValueError, match="18 values per frame"):
        SpikingMLP(18, 8, 2)(torch.rand(shape))


def test_nan_frames_rejected():
    frames = _frames()
    frames[0, 0, 0, 0, 0] = float("nan")
    with pytest.raises(ValueError, match="frames"):
        SpikingMLP(18, 8, 2)(frames)


def test_unscaled_network_matches_a_plain_reference():
    model = SpikingMLP(
        18, 16, 5, scaling=None, input_clip=None, surrogate="rectangular", readout="rate"
    )
    frames = _frames()
    h = frames.flatten(2).transpose(0, 1)
    for layer in model.layers:
        current, state, spikes = F.linear(h, layer.weight, layer.bias), None, []
        for i_t in current:
            s, state = lif_step(
                i_t, state, decay=0.25, threshold=0.2, surrogate=get_surrogate("rectangular")
            )
            spikes.append(s)
        h = torch.stack(spikes)
    torch.testing.assert_close(model(frames), 10.0 * h.mean(0))


def test_input_clip_makes_counts_binary():
    model = SpikingMLP(18, 16, 5).eval()
    frames = _frames(scale=4.0)
    assert frames.max() > 1
    torch.testing.assert_close(model(frames), model(frames.clamp(max=1.0)))
    unclipped = SpikingMLP(18, 16, 5, input_clip=None).eval()
    unclipped.load_state_dict(model.state_dict())
    assert not torch.equal(unclipped(frames), model(frames))


def test_gates_multiply_hidden_spikes():
    model = SpikingMLP(18, 16, 5, scaling=None).eval()
    frames = _frames()
    torch.testing.assert_close(model(frames, gates=[torch.ones(16)]), model(frames))
    closed = model(frames, gates=[torch.zeros(16)])
    # with the hidden layer silenced, the output depends on the biases only: same for every sample
    torch.testing.assert_close(closed, closed[:1].expand_as(closed))
    assert not torch.equal(closed, model(frames))


def test_membrane_readout_is_the_mean_output_current():
    model = SpikingMLP(18, 16, 5, scaling=None, input_clip=None)
    frames = _frames()
    h = frames.flatten(2).transpose(0, 1)
    hidden, out = model.layers
    spikes, state = [], None
    for i_t in F.linear(h, hidden.weight, hidden.bias):
        s, state = lif_step(i_t, state, decay=0.25, threshold=0.2, surrogate=get_surrogate("atan"))
        spikes.append(s)
    expected = F.linear(torch.stack(spikes), out.weight, out.bias).mean(0)
    torch.testing.assert_close(model(frames), expected)
    assert out.neuron is None and hidden.neuron is not None


def _silenced_output(readout: str, surrogate: str) -> SpikingMLP:
    model = SpikingMLP(18, 16, 5, scaling=None, readout=readout, surrogate=surrogate)
    with torch.no_grad():
        model.layers[-1].bias.fill_(-5.0)  # every output membrane far below threshold
    return model


def test_membrane_readout_still_trains_silenced_output_units():
    frames, labels = _frames(b=8), torch.arange(8) % 5
    rect = _silenced_output("rate", "rectangular")
    F.cross_entropy(rect(frames), labels).backward()
    assert rect.layers[-1].bias.grad.abs().max() == 0  # the window passes nothing: stuck
    membrane = _silenced_output("membrane", "rectangular")
    F.cross_entropy(membrane(frames), labels).backward()
    assert (membrane.layers[-1].bias.grad.abs() > 0).all()


def test_unknown_readout_is_named():
    with pytest.raises(ValueError, match="readout"):
        SpikingMLP(18, 8, 2, readout="max")
