"""SpikingASConv on bipartite input ``(x_src, x_dst)``: messages from one node set into another,
equal to the same layer on the union of the two sets, and clear errors where a bipartite graph
has no meaning (self-loops, symmetric GCN degrees)."""

import pytest
import torch

from spikegraph import SpikingASConv
from spikegraph.encoders import repeat

N_SRC, N_DST, C, T = 9, 5, 6, 4


@pytest.fixture()
def bipartite():
    x_src = (torch.rand(T, N_SRC, C) < 0.5).float()
    x_dst = (torch.rand(T, N_DST, C) < 0.3).float()
    edge_index = torch.stack([torch.randint(0, N_SRC, (30,)), torch.randint(0, N_DST, (30,))])
    weight = torch.rand(30)
    return x_src, x_dst, edge_index, weight


def _layer(**kwargs):
    return SpikingASConv(C, 7, normalize=False, add_self_loops=False, **kwargs)


def _union(x_src, x_dst, edge_index):
    """The same graph on one node set: the sources, then the targets."""
    return torch.cat([x_src, x_dst], 1), torch.stack([edge_index[0], edge_index[1] + N_SRC])


@pytest.mark.parametrize("training", [False, True], ids=["eval", "train"])
@pytest.mark.parametrize("scaling", ["relative", None])
def test_bipartite_equals_the_union_of_both_node_sets(bipartite, training, scaling):
    x_src, x_dst, edge_index, weight = bipartite
    conv, twin = _layer(scaling=scaling), _layer(scaling=scaling)
    twin.load_state_dict(conv.state_dict())
    conv.train(training), twin.train(training)
    out = conv.synaptic_current((x_src, x_dst), edge_index, weight, size=(N_SRC, N_DST))
    x_all, ei_all = _union(x_src, x_dst, edge_index)
    ref = twin.synaptic_current(x_all, ei_all, weight)[:, N_SRC:]
    assert out.shape == (T, N_DST, 7)
    torch.testing.assert_close(out, ref)
    out.square().sum().backward()
    ref.square().sum().backward()
    torch.testing.assert_close(conv.lin.weight.grad, twin.lin.weight.grad)


def test_the_trace_reads_the_targets_activity_from_x_dst(bipartite):
    x_src, x_dst, edge_index, _ = bipartite
    conv, plain = _layer().eval(), _layer(scaling=None).eval()
    plain.load_state_dict(conv.state_dict(), strict=False)
    unscaled = plain.synaptic_current((x_src, x_dst), edge_index)
    # silent targets: no coincidence on any edge, every scale f(1) = 1
    silent = conv.synaptic_current((x_src, torch.zeros_like(x_dst)), edge_index)
    torch.testing.assert_close(silent, unscaled)
    # active targets: the edges' coincidences differ, so do their scales
    active = conv.synaptic_current((x_src, x_dst), edge_index)
    assert (active - unscaled).abs().max() > 0.05
    # without scaling x_dst plays no part
    torch.testing.assert_close(
        plain.synaptic_current((x_src, torch.zeros_like(x_dst)), edge_index), unscaled
    )


def test_global_edge_ids_read_the_trained_experience(bipartite):
    x_src, x_dst, edge_index, weight = bipartite
    x_all, ei_all = _union(x_src, x_dst, edge_index)
    conv = _layer()
    conv.reset_experience(ei_all, N_SRC + N_DST)
    conv(x_all, ei_all, weight)  # a training call writes every synapse's experience
    conv.eval()
    ref = conv(x_all, ei_all, weight)[:, N_SRC:]
    perm = torch.randperm(30)  # the subgraph's edges in another order, named by e_id
    out = conv((x_src, x_dst), edge_index[:, perm], weight[perm], e_id=perm)
    torch.testing.assert_close(out, ref)


def test_a_pair_of_one_tensor_is_the_homogeneous_graph():
    x = repeat((torch.rand(8, C) < 0.5).float(), T)
    edge_index = torch.randint(0, 8, (2, 20))
    conv = SpikingASConv(C, 7).eval()  # normalize and self-loops: allowed on one node set
    torch.testing.assert_close(conv((x, x), edge_index), conv(x, edge_index))


def test_sparse_adjacency_of_a_bipartite_graph(bipartite):
    torch_sparse = pytest.importorskip("torch_sparse")
    x_src, x_dst, edge_index, weight = bipartite
    conv = _layer().eval()
    adj_t = torch_sparse.SparseTensor(
        row=edge_index[1], col=edge_index[0], value=weight, sparse_sizes=(N_DST, N_SRC)
    )
    torch.testing.assert_close(
        conv((x_src, x_dst), adj_t), conv((x_src, x_dst), edge_index, weight)
    )


def test_x_dst_none_needs_a_size_and_no_scaling(bipartite):
    x_src, x_dst, edge_index, _ = bipartite
    plain = _layer(scaling=None).eval()
    out = plain((x_src, None), edge_index, size=(N_SRC, N_DST))
    torch.testing.assert_close(out, plain((x_src, x_dst), edge_index))
    with pytest.raises(ValueError, match="needs size"):
        plain((x_src, None), edge_index)
    with pytest.raises(ValueError, match="targets' activity"):
        _layer()((x_src, None), edge_index, size=(N_SRC, N_DST))


@pytest.mark.parametrize(
    "kwargs, call, match",
    [
        ({"normalize": True}, {}, "normalize=False and add_self_loops=False"),
        ({"add_self_loops": True}, {}, "normalize=False and add_self_loops=False"),
        ({}, {"size": (N_SRC, N_DST + 1)}, "does not match the inputs"),
    ],
    ids=["normalize", "self-loops", "size"],
)
def test_meaningless_bipartite_settings_raise(bipartite, kwargs, call, match):
    x_src, x_dst, edge_index, _ = bipartite
    conv = SpikingASConv(C, 7, **{"normalize": False, "add_self_loops": False, **kwargs})
    with pytest.raises(ValueError, match=match):
        conv((x_src, x_dst), edge_index, **call)


def test_target_index_beyond_the_targets_raises(bipartite):
    x_src, x_dst, edge_index, _ = bipartite
    bad = edge_index.clone()
    bad[1, 0] = N_DST
    with pytest.raises(ValueError, match=f"target node {N_DST} but there are only {N_DST}"):
        _layer()((x_src, x_dst), bad)
