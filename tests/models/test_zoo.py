"""The peer models (SpikingGCN, GC-SNN, GA-SNN): shapes, gradients, learning a toy graph,
the scaling plug-in and the rate target."""

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from spikegraph.models import GASNN, GCSNN, SpikingGCN
from spikegraph.monitor import FiringMonitor
from spikegraph.neurons import LIF
from spikegraph.synapse import SynapticScaling, TargetRate
from spikegraph.testing import homophilous_graph

EDGES = torch.tensor([[0, 1, 1, 2, 2, 3, 3, 4], [1, 0, 2, 1, 3, 2, 4, 3]])

BUILDERS = {
    "spikinggcn": lambda c, k, **kw: SpikingGCN(c, 32, k, K=2, T=4, **kw),
    "gcsnn": lambda c, k, **kw: GCSNN(c, 32, k, T=4, **kw),
    "gasnn": lambda c, k, **kw: GASNN(c, 32, k, heads=2, T=4, **kw),
}
MODELS = pytest.mark.parametrize("name", list(BUILDERS))


@MODELS
def test_logits_have_one_row_per_node_and_one_column_per_class(name):
    model = BUILDERS[name](6, 3)
    out = model(torch.rand(5, 6), EDGES)
    assert out.shape == (5, 3)
    assert torch.isfinite(out).all()


@MODELS
def test_features_that_are_not_a_node_matrix_raise(name):
    with pytest.raises(ValueError, match=r"x must be node features \[N, C\]"):
        BUILDERS[name](6, 3)(torch.rand(4, 5, 6), EDGES)


@MODELS
def test_the_loss_reaches_every_parameter(name):
    torch.manual_seed(0)
    model = BUILDERS[name](6, 3)
    loss = F.cross_entropy(model(torch.rand(5, 6), EDGES), torch.tensor([0, 1, 2, 0, 1]))
    loss.backward()
    missing = [n for n, p in model.named_parameters() if p.grad is None or not p.grad.any()]
    assert not missing, f"no gradient reaches {missing}"


def fit(model: nn.Module, data, epochs: int = 60, lr: float = 0.01) -> float:
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    for _ in range(epochs):
        model.train()
        opt.zero_grad()
        out = model(data.x, data.edge_index)
        F.cross_entropy(out[data.train_mask], data.y[data.train_mask]).backward()
        opt.step()
    model.eval()
    with torch.no_grad():
        pred = model(data.x, data.edge_index).argmax(-1)
    return float((pred[data.test_mask] == data.y[data.test_mask]).float().mean())


@pytest.fixture(scope="module")
def toy_graph_and_mlp_accuracy():
    data = homophilous_graph(binary=True)
    torch.manual_seed(0)
    mlp = nn.Sequential(nn.Linear(data.num_features, 32), nn.ReLU(), nn.Linear(32, 5))
    opt = torch.optim.Adam(mlp.parameters(), lr=0.01)
    for _ in range(60):
        opt.zero_grad()
        F.cross_entropy(mlp(data.x)[data.train_mask], data.y[data.train_mask]).backward()
        opt.step()
    acc = float((mlp(data.x).argmax(-1)[data.test_mask] == data.y[data.test_mask]).float().mean())
    return data, acc


@pytest.mark.slow
@MODELS
def test_learns_a_toy_graph_better_than_an_edge_blind_mlp(name, toy_graph_and_mlp_accuracy):
    data, mlp_acc = toy_graph_and_mlp_accuracy
    torch.manual_seed(0)
    acc = fit(BUILDERS[name](data.num_features, 5), data)
    assert acc > 0.6  # chance is 0.2
    assert acc > mlp_acc + 0.1  # the graph is read, not only the features


@MODELS
def test_scaling_plug_in_adds_enabled_synapse_scaling_that_changes_the_output(name):
    torch.manual_seed(0)
    plain = BUILDERS[name](6, 3)
    scaled = BUILDERS[name](6, 3, scaling="homeostatic")
    assert not any(m.enabled for m in plain.modules() if isinstance(m, SynapticScaling))
    assert any(m.enabled for m in scaled.modules() if isinstance(m, SynapticScaling))
    scaled.load_state_dict(plain.state_dict(), strict=False)  # the same weights
    x = torch.rand(5, 6)
    plain.eval(), scaled.eval()
    with torch.no_grad():
        assert (plain(x, EDGES) - scaled(x, EDGES)).abs().max() > 1e-4


@MODELS
def test_target_rate_pulls_the_hidden_firing_toward_it(name):
    torch.manual_seed(0)
    data = homophilous_graph(binary=True, num_nodes=60)
    model = BUILDERS[name](data.num_features, 5, target_rate=0.6)
    assert any(isinstance(m, TargetRate) for m in model.modules())

    def rate() -> float:  # of one training call (batch norm then uses batch statistics)
        with FiringMonitor(model) as monitor, torch.no_grad():
            model(data.x, data.edge_index)
        return monitor.summary()["firing_rate_mean"]

    model.train()
    before = rate()  # the gain is still 1 in this call
    with torch.no_grad():
        for _ in range(20):
            model(data.x, data.edge_index)
    after = rate()
    assert abs(before - 0.6) > 0.2  # free, these layers fire far from the target ...
    assert abs(after - 0.6) < 0.5 * abs(before - 0.6)  # ... and the gain halves the gap


def test_spikinggcn_caches_the_propagated_features_of_its_graph():
    model = SpikingGCN(6, 8, 3, K=2, T=3)
    x = torch.rand(5, 6)
    model(x, EDGES)
    with pytest.raises(ValueError, match="cached propagated features are"):
        model(torch.rand(7, 6), EDGES)
    model.reset_parameters()
    assert model(torch.rand(7, 6), EDGES).shape == (7, 3)


def test_spikinggcn_propagation_is_k_hops_of_the_gcn_normalised_graph():
    model = SpikingGCN(4, 8, 3, K=2, T=1)
    x = torch.rand(5, 4)
    adj = torch.zeros(5, 5)
    adj[EDGES[1], EDGES[0]] = 1.0
    adj += torch.eye(5)
    d = adj.sum(1).rsqrt()
    norm = d[:, None] * adj * d[None, :]
    torch.testing.assert_close(model.propagate(x, EDGES), norm @ norm @ x)


def test_spikinggcn_without_width_is_the_papers_single_spiking_layer():
    model = SpikingGCN(6, None, 3, T=4, rate_scale=5.0).eval()
    spikes = []
    model.spiking.neuron.register_forward_hook(lambda m, a, out: spikes.append(out))
    logits = model(torch.rand(5, 6), EDGES)
    assert model.readout is None and spikes[0].shape == (4, 5, 3)
    torch.testing.assert_close(logits, 5.0 * spikes[0].mean(0))


@pytest.mark.parametrize("name", ["gcsnn", "gasnn"])
def test_stfn_models_spike_through_lif_after_normalisation(name):
    model = BUILDERS[name](6, 3)
    assert sum(isinstance(m, LIF) for m in model.modules()) == 2
    assert all(stage.norm is not None for stage in model.stages)
