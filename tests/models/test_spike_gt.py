"""SpikeGT: spike-driven linear attention beside a spiking graph branch."""

import pytest
import torch
import torch.nn.functional as F

from spikegraph.models import SpikeGT, train_spike_gt
from spikegraph.models.spike_gt import SpikeDrivenAttention
from spikegraph.testing import homophilous_graph

EDGES = torch.tensor([[0, 1, 1, 2, 2, 3, 3, 4], [1, 0, 2, 1, 3, 2, 4, 3]])


def test_logits_have_one_row_per_node():
    model = SpikeGT(6, 8, 3, T=4, heads=2)
    assert model(torch.rand(5, 6), EDGES).shape == (5, 3)
    assert model.T == 4


def test_attention_is_global_and_linear_in_the_nodes():
    torch.manual_seed(0)
    attn = SpikeDrivenAttention(8, heads=2)
    u = 3 * torch.randn(2, 30, 8)
    with torch.no_grad():
        for _ in range(20):  # running statistics of the batch norms, so that eval mode fires
            attn(u)
    attn.eval()  # eval: no batch statistics that would couple the nodes by themselves
    out = attn(u)
    assert out.shape == u.shape
    changed = u.clone()
    changed[:, 15:] = 5.0  # other nodes, no edges: attention (not a graph layer) reaches them
    delta = (attn(changed)[:, :15] - out[:, :15]).detach().abs().sum()
    assert float(delta) > 0
    assert float(attn.attn_neuron.lif(torch.ones(1)).sum()) == 1  # the check can fire


def test_gradients_reach_every_parameter():
    torch.manual_seed(0)
    model = SpikeGT(6, 8, 3, T=4, graph_weight=0.5, dropout=0.0)
    x = 2 * torch.rand(5, 6)
    F.cross_entropy(model(x, EDGES), torch.tensor([0, 1, 2, 0, 1])).backward()
    for name, p in model.named_parameters():
        assert p.grad is not None and float(p.grad.abs().sum()) > 0, name


@pytest.mark.slow
def test_learns_a_toy_graph_with_its_graph_branch():
    data = homophilous_graph(validation=True)
    val, test = train_spike_gt(data, hidden=16, T=4, epochs=40, patience=40)
    _, blind = train_spike_gt(data, hidden=16, T=4, epochs=40, patience=40, graph_weight=0.0)
    assert test > 0.9  # the graph carries most of the signal ...
    assert test > blind + 0.15  # ... which the transformer alone (features only) lacks


def test_scaling_plugs_into_graph_layers_and_projections():
    off, on = SpikeGT(6, 8, 3), SpikeGT(6, 8, 3, scaling="relative")
    for model, enabled in ((off, False), (on, True)):
        assert all(c.scaling.enabled == enabled for c in model.convs)
        assert model.blocks[0].qkv.scaling.enabled == enabled
    x = torch.rand(5, 6)
    before = on.blocks[0].qkv.scaling.experience.clone()
    on(x, EDGES)  # a training call moves the experience of the projections
    assert not torch.equal(before, on.blocks[0].qkv.scaling.experience)
    assert on.convs[0].scaling.experience.shape == (EDGES.shape[1] + 5,)


def test_target_rate_sets_every_spiking_layer_a_rate():
    model = SpikeGT(6, 8, 3, target_rate=0.1)
    assert model.convs[0].rate.target == 0.1
    assert model.blocks[0].attn_neuron.rate.target == 0.1
    assert model.convs[-1].rate is None  # the membrane read-out does not spike


def test_bad_settings_raise_clear_errors():
    with pytest.raises(ValueError, match="multiple of heads"):
        SpikeGT(6, 9, 3, heads=2)
    with pytest.raises(ValueError, match="graph_weight"):
        SpikeGT(6, 8, 3, graph_weight=1.5)


def test_a_relu_graph_branch_has_no_graph_neurons_and_is_the_same_at_every_step():
    torch.manual_seed(0)
    model = SpikeGT(6, 8, 3, T=4, spiking_graph=False, dropout=0.0).eval()
    assert all(conv.neuron is None for conv in model.convs)
    e = model.project_input(2 * torch.rand(5, 6))
    hidden = model.convs[0](e, EDGES)
    assert torch.equal(hidden[0], hidden[-1])  # currents of a repeated input: no dynamics
    spiking = SpikeGT(6, 8, 3, T=4, dropout=0.0).eval()
    assert spiking.convs[0].neuron is not None and spiking.convs[-1].neuron is None
    branch = model._graph_branch(e, EDGES)
    by_hand = model.convs[1](torch.relu(hidden), EDGES).mean(0)
    assert torch.allclose(branch, by_hand)
