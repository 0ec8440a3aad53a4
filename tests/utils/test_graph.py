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


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize(("values_steps", "h_steps"), [(3, 0), (0, 3), (3, 3)])
def test_spmm_over_steps_equals_per_step_dense_products(backend, values_steps, h_steps):
    """[T, E] values and/or [T, N, F] features: one product per step, in one output; a shared
    operand (no step axis) serves every step and sums their gradients."""
    adj = small_graph()
    E = adj.weight.numel()
    values = torch.rand(*([values_steps] if values_steps else []), E, dtype=torch.float64)
    h = torch.randn(*([h_steps] if h_steps else []), 5, 4, dtype=torch.float64)
    values.requires_grad_()
    h.requires_grad_()
    out = spmm(adj, values, h, backend)
    v_at = (lambda t: values[t]) if values_steps else (lambda t: values)
    h_at = (lambda t: h[t]) if h_steps else (lambda t: h)
    expected = torch.stack([dense(adj, v_at(t)) @ h_at(t) for t in range(3)])
    torch.testing.assert_close(out, expected)
    weights = torch.randn_like(expected)
    g_out = torch.autograd.grad((out * weights).sum(), (values, h))
    g_ref = torch.autograd.grad((expected * weights).sum(), (values, h))
    for a, b in zip(g_out, g_ref, strict=True):
        torch.testing.assert_close(a, b)


@pytest.mark.parametrize("cache_bytes", [1, 40, 1 << 20])  # one row per block .. one block
def test_shared_features_in_row_blocks_equal_the_dense_products(monkeypatch, cache_bytes):
    from spikegraph.utils import graph

    monkeypatch.setattr(graph, "CACHE_BYTES", cache_bytes)
    adj = small_graph()
    values = torch.rand(4, adj.weight.numel(), dtype=torch.float64)
    h = torch.randn(5, 3, dtype=torch.float64)
    expected = torch.stack([dense(adj, v) @ h for v in values])
    torch.testing.assert_close(spmm(adj, values, h), expected)


def test_spmm_over_steps_passes_gradcheck():
    adj = small_graph()
    values = torch.rand(3, adj.weight.numel(), dtype=torch.float64, requires_grad=True)
    h = torch.randn(5, 2, dtype=torch.float64, requires_grad=True)
    assert torch.autograd.gradcheck(lambda v, x: spmm(adj, v, x), (values, h))


@pytest.mark.parametrize(
    ("values_shape", "h_shape", "match"),
    [
        ((4,), (5, 2), r"values must be \[E\] or \[T, E\] with E = 12"),
        ((2, 3, 12), (5, 2), r"values must be \[E\] or \[T, E\]"),
        ((12,), (4, 2), r"h must be \[N, F\] or \[T, N, F\] with N = 5"),
        ((3, 12), (2, 5, 2), "values has 3 steps but h has 2"),
    ],
)
def test_spmm_names_mismatched_shapes(values_shape, h_shape, match):
    adj = small_graph()
    with pytest.raises(ValueError, match=match):
        spmm(adj, torch.rand(values_shape, dtype=torch.float64), torch.rand(h_shape))


def test_layouts_are_transposes_of_each_other():
    adj = small_graph()
    src, dst = adj.edge_index
    t, s = adj.by_target, adj.by_source
    assert torch.equal(t.col, src[t.perm]) and torch.equal(s.col, dst[s.perm])
    assert torch.equal(t.rowptr[-1], s.rowptr[-1])


def test_synapses_are_target_major_and_remember_their_input_column():
    gen = torch.Generator().manual_seed(3)
    edge_index = torch.randint(0, 7, (2, 30), generator=gen)
    edge_index = edge_index[:, edge_index[0] != edge_index[1]]
    weight = torch.rand(edge_index.shape[1], generator=gen)
    adj = prepare_adjacency(edge_index, weight, 7, normalize=False)
    src, dst = adj.edge_index
    assert bool(((dst * 7 + src).diff() >= 0).all())  # the forward product's own order
    assert torch.equal(adj.by_target.col, src)
    given = adj.input_order < edge_index.shape[1]
    columns = adj.input_order[given]
    assert torch.equal(adj.edge_index[:, given], edge_index[:, columns])
    assert torch.equal(adj.weight[given], weight[columns])
    assert torch.equal(src[~given], dst[~given]) and int((~given).sum()) == 7  # added loops


def test_sparse_adjacency_with_explicit_edge_weight_is_ambiguous():
    adj = torch.sparse_coo_tensor(torch.tensor([[1], [0]]), torch.tensor([1.0]), (2, 2))
    with pytest.raises(ValueError, match="carries its own edge weights"):
        to_edge_index(adj, torch.ones(1), 2)
    with pytest.raises(ValueError, match=r"must be \[3, 3\]"):
        to_edge_index(adj, None, 3)
