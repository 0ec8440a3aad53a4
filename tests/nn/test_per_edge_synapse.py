"""The graph synapse is per edge: its trace depends on both ends, its experience follows the
synapse (source, target) through any column order or format, and the fixed point and Lipschitz
constant of the synapse core predict what the layer does."""

import copy

import pytest
import torch

from spikegraph import SpikingASConv, SpikingGNN
from spikegraph.encoders import repeat
from spikegraph.synapse import Homeostatic, Relative, fixed_point, lipschitz
from spikegraph.testing import assert_adjacency_formats_agree, experience_by_synapse

# node 0 feeds node 1 and node 2; 1 and 2 feed 0 back
FORK = torch.tensor([[0, 0, 1, 2], [1, 2, 0, 0]])


def activity(levels, T=6, C=10):
    """Constant input [T, N, C] whose node n has drive (mean |x| over channels) levels[n]."""
    return repeat(torch.tensor(levels).unsqueeze(1).expand(-1, C), T)


def scales_of(conv, x, edge_index=FORK):
    """The scale f(x_e(t-1)) of every synapse and step ``[T, E]``, and the synapses."""
    seen = {}
    handle = conv.scaling.register_forward_hook(lambda m, a, out: seen.update(scale=out))
    with torch.no_grad():
        conv(x, edge_index)
    handle.remove()
    return seen["scale"], conv.adjacency(edge_index, None, x.shape[1]).edge_index


def column(synapses, j, i):
    return int(((synapses[0] == j) & (synapses[1] == i)).nonzero())


def test_edges_from_one_source_into_targets_of_different_activity_differ():
    conv = SpikingASConv(10, 4, scaling=Homeostatic(target=0.1, alpha=3.0)).eval()
    scale, syn = scales_of(conv, activity([0.5, 0.8, 0.2]))
    to_busy, to_quiet = scale[:, column(syn, 0, 1)], scale[:, column(syn, 0, 2)]
    # the edge into the busier target carries more coincidence, so it is depressed more
    assert bool((to_busy[1:] < to_quiet[1:] - 0.05).all())
    # same source and same target activity: the same trace (the mechanism says so)
    conv2 = SpikingASConv(10, 4, scaling=Homeostatic(target=0.1, alpha=3.0)).eval()
    scale, syn = scales_of(conv2, activity([0.5, 0.4, 0.4]))
    torch.testing.assert_close(scale[:, column(syn, 0, 1)], scale[:, column(syn, 0, 2)])


def test_default_shape_keeps_trained_edges_at_one_and_lifts_an_edge_whose_target_quietens():
    conv = SpikingASConv(10, 4, experience="synapse")  # Relative, per synapse
    conv(activity([0.5, 0.6, 0.6]), FORK)  # one training call names and fills the experience
    conv.eval()
    scale, syn = scales_of(conv, activity([0.5, 0.6, 0.6]))
    torch.testing.assert_close(scale, torch.ones_like(scale))  # as trained: scale 1
    scale, syn = scales_of(conv, activity([0.5, 0.6, 0.3]))  # node 2's input halves
    assert bool((scale[1:, column(syn, 0, 2)] > 1.1).all())  # its incoming edge is potentiated
    torch.testing.assert_close(scale[:, column(syn, 0, 1)], torch.ones(6))  # 0 -> 1 untouched


@pytest.mark.parametrize("sigma", [0.5, 1.5, 2.0])
def test_fixed_point_and_lipschitz_predict_the_layer(sigma):
    """Trained at coincidence c, driven at sigma c: every synapse's scale converges to
    f(x*/e) with x* = fixed_point(shape, sigma c, reference=e), no slower than L^t."""
    shape = Relative()
    # lambda = 1/2 with the experience counted as n = 2 steps: n(t) = 2, so beta = 1/2 always
    conv = SpikingASConv(10, 4, scaling=shape, trace_decay=0.5, prior_weight=2.0)
    base = torch.tensor([0.4, 0.4, 0.4])
    conv(activity(base.tolist(), T=2), FORK)  # experience e = c = 0.16 on every synapse
    e = conv.scaling.experience
    torch.testing.assert_close(e, torch.full_like(e, 0.16))
    conv.eval()
    level = (sigma**0.5 * base).tolist()  # both ends scaled by sqrt(sigma): coincidence sigma c
    scale, _ = scales_of(conv, activity(level, T=30))
    x_star = fixed_point(shape, sigma * 0.16, reference=0.16)
    f_star = float(shape(torch.tensor(x_star / 0.16)))
    torch.testing.assert_close(scale[-1], torch.full_like(scale[-1], f_star), atol=1e-4, rtol=0)
    L = lipschitz(shape, sigma * 0.16, 0.5, reference=0.16)
    assert L < 1.0
    gap = (scale - f_star).abs().amax(1)
    assert bool((gap[1:] <= L * gap[:-1] + 4e-6).all())  # tight at sigma = 2; float32 noise


def trained_model(**kwargs):
    torch.manual_seed(0)
    x = (torch.rand(8, 6) < 0.4).float()
    edges = torch.tensor([[0, 1, 1, 2, 3, 4, 5, 6, 7, 2], [1, 0, 2, 1, 4, 3, 6, 5, 2, 7]])
    model = SpikingGNN(6, 8, 3, T=4, threshold=0.3, **{"experience": "synapse", **kwargs})
    opt = torch.optim.Adam(model.parameters(), lr=0.05)
    y = torch.arange(8) % 3
    for _ in range(5):
        opt.zero_grad()
        torch.nn.functional.cross_entropy(model(x, edges), y).backward()
        opt.step()
    return model, x, edges


def test_trained_model_agrees_across_formats_and_orders_in_train_and_eval():
    model, x, edges = trained_model()
    assert_adjacency_formats_agree(model, x, edges, atol=1e-5)
    conv = SpikingASConv(6, 5, trace_decay=0.7, experience="synapse")
    layer_x = repeat(x, 4) * torch.rand(4, 1, 6)  # every step different
    conv(layer_x, edges)
    assert_adjacency_formats_agree(conv, layer_x, edges, atol=1e-5)


def test_the_helper_catches_experience_bound_to_edge_positions(monkeypatch):
    """The bug a review found: experience keyed by column. The property check must see it."""
    model, x, edges = trained_model()
    for conv in model.convs:  # every call reads the experience by the input's column
        monkeypatch.setattr(conv, "_experience_slots", lambda adj, e_id: adj.input_order)
    with pytest.raises(AssertionError, match="differs"):
        assert_adjacency_formats_agree(model, x, edges, atol=1e-5)


def test_saved_experience_follows_the_synapse_into_a_fresh_layer_and_another_order():
    model, x, edges = trained_model()
    model.eval()
    fresh = SpikingGNN(6, 8, 3, T=4, threshold=0.3, experience="synapse").eval()
    fresh.load_state_dict(model.state_dict())
    perm = torch.randperm(edges.shape[1])
    with torch.no_grad():
        torch.testing.assert_close(fresh(x, edges[:, perm]), model(x, edges))
    assert experience_by_synapse(fresh) == experience_by_synapse(model)


def test_unknown_synapses_and_subgraphs_are_named_errors():
    model, x, edges = trained_model()
    model.eval()
    with pytest.raises(ValueError, match="no experience"):
        model(x, torch.cat([edges, torch.tensor([[0], [7]])], 1))  # one new edge
    with pytest.raises(ValueError, match="needs e_id"):
        model(x[:5], edges[:, (edges < 5).all(0)])  # a relabelled subgraph


def test_move_experience_keeps_known_synapses_and_starts_new_ones_fresh():
    model, x, edges = trained_model()
    conv = model.convs[0]
    before = experience_by_synapse(conv)[""]
    grown = torch.cat([edges, torch.tensor([[0], [7]])], 1)
    conv.move_experience(grown, 8)
    after = experience_by_synapse(conv)[""]
    assert set(after) - set(before) == {(0, 7)}
    assert all(after[k] == v for k, v in before.items())
    assert after[(0, 7)] != after[(0, 7)]  # nan: a relative shape fills it on first sight
    other = copy.deepcopy(model).eval()
    for c in other.convs:
        c.move_experience(grown, 8)
    with torch.no_grad():
        assert torch.isfinite(other(x, grown)).all()


def test_spiking_gnn_takes_one_shape_per_layer():
    model = SpikingGNN(6, 8, 3, num_layers=3, scaling=["relative", Homeostatic(), None])
    assert [type(c.scaling.shape).__name__ for c in model.convs] == [
        "Relative",
        "Homeostatic",
        "NoneType",
    ]
    with pytest.raises(ValueError, match="scaling has 2 values for 3 layers"):
        SpikingGNN(6, 8, 3, num_layers=3, scaling=["relative", None])
