import pytest
import torch

from spikegraph.utils.graph import HAS_TORCH_SCATTER, prepare_adjacency, spmm, to_edge_index

BACKENDS = ["torch"] + (["torch_scatter"] if HAS_TORCH_SCATTER else [])


def small_graph():
    edge_index = torch.tensor([[0, 1, 1, 2, 3, 0, 4], [1, 0, 2, 3, 1, 3, 0]])
    return prepare_adjacency(edge_index, None, 5, dtype=torch.float64)


def dense(adj, values):
    a = torch.zeros(adj.num_nodes, adj.num_nodes, dtype=values.dtype)
    return a.index_put((adj.edge_index[1], adj.edge_index[0]), values, accumulate=True)


@pytest.mark.parametrize("backend", BACKENDS)
def test_spmm_equals_dense_product_with_gradients(backend):
    adj = small_graph()
    values = torch.rand(adj.weight.numel(), dtype=torch.float64, requires_grad=True)
    h = torch.randn(5, 3, dtype=torch.float64, requires_grad=True)
    out = spmm(adj, values, h, backend)
    expected = dense(adj, values) @ h
    torch.testing.assert_close(out, expected)
    g_out = torch.autograd.grad(out.square().sum(), (values, h))
    g_ref = torch.autograd.grad(expected.square().sum(), (values, h))
    for a, b in zip(g_out, g_ref, strict=True):
        torch.testing.assert_close(a, b)


def test_spmm_passes_gradcheck():
    adj = small_graph()
    values = torch.rand(adj.weight.numel(), dtype=torch.float64, requires_grad=True)
    h = torch.randn(5, 2, dtype=torch.float64, requires_grad=True)
    assert torch.autograd.gradcheck(lambda v, x: spmm(adj, v, x), (values, h))


def test_layouts_are_transposes_of_each_other():
    adj = small_graph()
    src, dst = adj.edge_index
    t, s = adj.by_target, adj.by_source
    assert torch.equal(t.col, src[t.perm]) and torch.equal(s.col, dst[s.perm])
    assert torch.equal(t.rowptr[-1], s.rowptr[-1])


def test_sparse_adjacency_with_explicit_edge_weight_is_ambiguous():
    adj = torch.sparse_coo_tensor(torch.tensor([[1], [0]]), torch.tensor([1.0]), (2, 2))
    with pytest.raises(ValueError, match="carries its own edge weights"):
        to_edge_index(adj, torch.ones(1), 2)
    with pytest.raises(ValueError, match=r"must be \[3, 3\]"):
        to_edge_index(adj, None, 3)
