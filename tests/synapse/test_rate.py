import pytest
import torch

from spikegraph import SpikingASConv, SpikingGNN
from spikegraph.encoders import repeat
from spikegraph.synapse import TargetRate
from spikegraph.testing import homophilous_graph


def layer_rate(conv, x, edge_index) -> float:
    conv.eval()
    with torch.no_grad():
        rate = float(conv(x, edge_index).mean())
    conv.train()
    return rate


@pytest.mark.parametrize("target", [0.05, 0.1, 0.2])
def test_a_layer_reaches_its_target_rate_from_far_off(target):
    data = homophilous_graph(num_nodes=200, binary=True)
    x = repeat(data.x, 8)
    torch.manual_seed(0)
    conv = SpikingASConv(data.num_features, 32, target_rate=target)
    start = layer_rate(conv, x, data.edge_index)
    for _ in range(60):
        conv(x, data.edge_index)  # training calls: the controller observes and adapts
    end = layer_rate(conv, x, data.edge_index)
    assert abs(start - target) > 0.25 * target  # it had somewhere to go
    assert end == pytest.approx(target, rel=0.15)


def test_the_rate_holds_while_the_weights_learn_to_fire_more():
    """Integral control: a loss that rewards firing cannot move the rate off the target."""
    data = homophilous_graph(num_nodes=200, binary=False)
    x = repeat(data.x, 8)
    torch.manual_seed(0)
    free, held = (SpikingASConv(data.num_features, 32, target_rate=t) for t in (None, 0.1))
    held.load_state_dict(free.state_dict(), strict=False)
    for conv in (free, held):
        opt = torch.optim.Adam(conv.parameters(), lr=0.02)
        for _ in range(80):
            opt.zero_grad()
            (-conv(x, data.edge_index).mean()).backward()
            opt.step()
    assert layer_rate(free, x, data.edge_index) > 0.3
    assert layer_rate(held, x, data.edge_index) == pytest.approx(0.1, rel=0.25)


def test_gain_is_frozen_in_eval_saved_and_reset():
    rate = TargetRate(0.1, channels=4)
    spikes = torch.ones(3, 5, 4)
    rate.eval()
    rate.observe(spikes)
    assert torch.equal(rate.gain, torch.ones(4))
    rate.train()
    rate.observe(spikes)  # firing 1.0 >> 0.1: every gain drops
    assert bool((rate.gain < 1).all())
    other = TargetRate(0.1, channels=4)
    other.load_state_dict(rate.state_dict())
    assert torch.equal(other.gain, rate.gain)
    rate.reset()
    assert torch.equal(rate.gain, torch.ones(4))


def test_silent_channels_are_raised_and_gains_stay_bounded():
    rate = TargetRate(0.1, channels=2, adaptation=1.0, max_gain=4.0)
    for _ in range(20):
        rate.observe(torch.cat([torch.zeros(2, 3, 1), torch.ones(2, 3, 1)], -1))
    torch.testing.assert_close(rate.gain, torch.tensor([4.0, 0.25]))  # each channel its own
    layer = TargetRate(0.5)
    layer.observe(torch.cat([torch.zeros(2, 3, 1), torch.ones(2, 3, 1)], -1))  # mean 0.5
    torch.testing.assert_close(layer.gain, torch.ones(1))  # the layer is on target


def test_bad_arguments_are_named():
    with pytest.raises(ValueError, match="target rate"):
        TargetRate(1.5)
    with pytest.raises(ValueError, match="needs spiking neurons"):
        SpikingASConv(3, 2, neuron=None, target_rate=0.1)
    with pytest.raises(ValueError, match="2 spiking layers"):
        SpikingGNN(3, 8, 2, num_layers=3, target_rate=[0.1, 0.2, 0.3])


def test_spiking_gnn_gives_each_hidden_layer_its_target():
    model = SpikingGNN(3, 8, 2, num_layers=3, target_rate=[0.05, 0.2])
    targets = [None if c.rate is None else c.rate.target for c in model.convs]
    assert targets == [0.05, 0.2, None]  # the membrane read-out layer does not spike
