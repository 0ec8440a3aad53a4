import pytest
import torch

from spikegraph import LIF, SpikingASConv
from spikegraph.neurons import Rectangular, lif_step
from spikegraph.synapse import Homeostatic, Tent
from spikegraph.testing import (
    assert_adjacency_formats_agree,
    assert_permutation_equivariant,
    assert_reset_restores,
    assert_spikes,
)
from spikegraph.utils.graph import HAS_TORCH_SCATTER

# a path 0 - 1 - 2 - 3, both directions
EDGES = torch.tensor([[0, 1, 1, 2, 2, 3], [1, 0, 2, 1, 3, 2]])


def spike_input(T=4, N=4, C=3):
    return (torch.rand(T, N, C) < 0.5).float()


def test_output_is_spikes_of_the_right_shape():
    out = SpikingASConv(3, 5)(spike_input(), EDGES)
    assert out.shape == (4, 4, 5)
    assert_spikes(out)


def test_real_valued_input_and_single_step():
    out = SpikingASConv(3, 2, neuron=LIF(threshold=0.1))(torch.randn(1, 4, 3), EDGES)
    assert out.shape == (1, 4, 2)
    assert_spikes(out)


@pytest.mark.parametrize("scaling", ["tent", "homeostatic", None])
def test_edge_index_and_sparse_adjacency_agree(scaling):
    conv = SpikingASConv(3, 8, scaling=scaling, neuron=LIF(threshold=0.2)).eval()
    assert_adjacency_formats_agree(conv, spike_input(), EDGES)


def test_edge_weight_matches_sparse_values_and_unit_weights_match_none():
    conv = SpikingASConv(3, 8).eval()
    x = spike_input()
    ones = torch.ones(EDGES.shape[1])
    torch.testing.assert_close(
        conv.synaptic_current(x, EDGES, ones), conv.synaptic_current(x, EDGES)
    )
    w = torch.rand(EDGES.shape[1]) + 0.5
    adj = torch.sparse_coo_tensor(EDGES.flip(0), w, (4, 4))
    torch.testing.assert_close(conv.synaptic_current(x, EDGES, w), conv.synaptic_current(x, adj))
    assert not torch.allclose(conv.synaptic_current(x, EDGES, w), conv.synaptic_current(x, EDGES))


def test_permutation_equivariance():
    conv = SpikingASConv(3, 6, scaling="homeostatic", neuron=LIF(threshold=0.2)).eval()
    assert_permutation_equivariant(conv, spike_input(T=5, N=4), EDGES)


def test_isolated_node_gets_its_self_loop_or_only_bias():
    x = spike_input(N=5)  # node 4 has no edge
    conv = SpikingASConv(3, 2, scaling=None).eval()
    current = conv.synaptic_current(x, EDGES)
    torch.testing.assert_close(current[:, 4], conv.lin(x[:, 4]) + conv.bias)  # w_44 = 1/1
    conv = SpikingASConv(3, 2, scaling=None, add_self_loops=False).eval()
    current = conv.synaptic_current(x, EDGES)
    torch.testing.assert_close(current[:, 4], conv.bias.expand(4, 2))


def dense_gcn_adjacency(edge_index, n):
    a = torch.zeros(n, n)
    a[edge_index[1], edge_index[0]] = 1.0
    a += torch.eye(n)
    d = a.sum(1).rsqrt()
    return d[:, None] * a * d[None, :]


def test_no_scaling_equals_spiking_gcn_by_hand():
    x = spike_input(T=3, N=4, C=3)
    conv = SpikingASConv(3, 4, scaling=None, neuron=LIF(decay=0.5, threshold=0.3))
    a_hat = dense_gcn_adjacency(EDGES, 4)
    w, b = conv.lin.weight, conv.bias
    state, expected = None, []
    for x_t in x:
        s, state = lif_step(
            a_hat @ x_t @ w.T + b, state, decay=0.5, threshold=0.3, surrogate=Rectangular()
        )
        expected.append(s)
    torch.testing.assert_close(conv(x, EDGES), torch.stack(expected))


def hand_scales(x, edge_index, shape):
    """Per-edge scales f(x_e(t-1)) from the DESIGN recursion, with a zero prior: the edge is
    driven by the coincidence a_j(t) a_i(t) of its endpoints' activity."""
    loops = torch.arange(x.shape[1])
    src = torch.cat([edge_index[0], loops])  # gcn_norm appends self-loops
    dst = torch.cat([edge_index[1], loops])
    a = x.abs().mean(-1)
    drive = a[:, src] * a[:, dst]
    c, n, scales = torch.zeros(src.numel()), 1.0, []
    for a in drive:
        f = shape(c / n)
        scales.append(f)
        c, n = c + (a * f).clamp(max=1.0), n + 1.0
    return torch.cat([edge_index, torch.stack([torch.arange(x.shape[1])] * 2)], 1), scales


def test_weight_gradient_carries_the_scaling_factor():
    shape = Homeostatic(target=0.1, alpha=2.0)
    edges = torch.tensor([[0, 1], [1, 0]])
    x = torch.tensor([[[1.0, 0.0], [1.0, 1.0]], [[0.0, 1.0], [1.0, 1.0]]])  # [T=2, N=2, C=2]
    conv = SpikingASConv(2, 1, scaling=shape, bias=False).eval()
    conv.synaptic_current(x, edges).sum().backward()
    all_edges, scales = hand_scales(x, edges, shape)
    norm = 0.5  # every node has degree 2 with its self-loop: 1/sqrt(2*2)
    expected = torch.zeros(1, 2)
    for t in range(2):
        for e in range(all_edges.shape[1]):
            expected += norm * scales[t][e] * x[t, all_edges[0, e]]
    torch.testing.assert_close(conv.lin.weight.grad, expected)
    assert not torch.allclose(scales[1], torch.ones(4))  # the factor is not trivially 1


def test_weight_gradient_through_the_neuron_uses_the_surrogate_window():
    edges = torch.tensor([[0, 1], [1, 0]])
    x = torch.tensor([[[1.0, 0.0], [1.0, 1.0]]])  # T = 1: the scale is f(prior) = f(0)
    tent = Tent()
    neuron = LIF(threshold=0.1, surrogate="rectangular")
    conv = SpikingASConv(2, 1, scaling=tent, bias=False, neuron=neuron).eval()
    with torch.no_grad():
        conv.lin.weight.copy_(torch.tensor([[0.2, 0.1]]))
    conv(x, edges).sum().backward()
    f0 = float(tent(torch.tensor(0.0)))
    inputs = 0.5 * f0 * (x[0, 0] + x[0, 1])  # both nodes aggregate both nodes
    current = inputs @ torch.tensor([0.2, 0.1])
    window = float(abs(current - 0.1) < 0.5)
    torch.testing.assert_close(conv.lin.weight.grad, (2 * window * inputs).view(1, 2))


def test_scaling_changes_the_current():
    x = torch.ones(6, 4, 3)
    on = SpikingASConv(3, 2, scaling="homeostatic").eval()
    off = SpikingASConv(3, 2, scaling=None).eval()
    off.load_state_dict(on.state_dict(), strict=False)  # same weights
    assert not torch.allclose(on.synaptic_current(x, EDGES), off.synaptic_current(x, EDGES))


def test_experience_round_trips_and_is_frozen_in_eval():
    conv = SpikingASConv(3, 4, experience="synapse")
    conv(spike_input(), EDGES)
    assert conv.scaling.num_synapses == EDGES.shape[1] + 4  # edges + self-loops
    trained = conv.scaling.experience.clone()
    assert trained.abs().sum() > 0
    conv.eval()
    conv(spike_input(), EDGES)
    assert torch.equal(conv.scaling.experience, trained)
    clone = SpikingASConv(3, 4, experience="synapse")
    clone.load_state_dict(conv.state_dict())
    assert torch.equal(clone.scaling.experience, trained)


def test_another_graph_with_old_experience_is_an_error():
    conv = SpikingASConv(3, 4, experience="synapse")
    conv(spike_input(), EDGES)
    with pytest.raises(ValueError, match="reset_experience"):
        conv(spike_input(N=5), torch.tensor([[0, 4], [4, 0]]))
    conv.reset_experience()
    assert conv(spike_input(N=5), torch.tensor([[0, 4], [4, 0]])).shape == (4, 5, 4)


def test_no_state_survives_between_calls():
    conv = SpikingASConv(3, 4, neuron=LIF(threshold=0.2)).eval()
    x = spike_input()
    assert torch.equal(conv(x, EDGES), conv(x, EDGES))


def test_reset_parameters_restores_weights_and_experience():
    conv = SpikingASConv(3, 4)
    x = spike_input()
    assert_reset_restores(conv, lambda: conv.synaptic_current(x, EDGES))


@pytest.mark.skipif(not HAS_TORCH_SCATTER, reason="torch-scatter not installed")
def test_torch_scatter_backend_matches_torch():
    x = spike_input()
    conv = SpikingASConv(3, 4, backend="torch").eval()
    expected = conv.synaptic_current(x, EDGES)
    conv.backend = "torch_scatter"
    torch.testing.assert_close(conv.synaptic_current(x, EDGES), expected)


def test_repr_names_key_hyper_parameters():
    r = repr(SpikingASConv(16, 7, scaling="homeostatic"))
    assert r.startswith("SpikingASConv(16, 7, scaling=Homeostatic(")
    assert "target=0.1" in r and "neuron=LIF(decay=0.5, threshold=1" in r


@pytest.mark.parametrize(
    "x,edge_index,edge_weight,error,match",
    [
        (torch.rand(4, 3), EDGES, None, ValueError, r"shape \[T, N, C\]"),
        (torch.rand(0, 4, 3), EDGES, None, ValueError, "T = 0"),
        (torch.rand(2, 4, 5), EDGES, None, ValueError, "5 channels"),
        (torch.full((2, 4, 3), float("nan")), EDGES, None, ValueError, "x contains NaN"),
        (torch.rand(2, 4, 3), EDGES[:, :3].repeat(3, 1)[:3], None, ValueError, r"\[2, E\]"),
        (torch.rand(2, 4, 3), EDGES.float(), None, TypeError, "integers"),
        (torch.rand(2, 4, 3), EDGES.clamp(max=2) + 2, None, ValueError, "node 4 but x has only 4"),
        (torch.rand(2, 4, 3), EDGES - 1, None, ValueError, "negative"),
        (
            torch.rand(2, 4, 3),
            EDGES,
            torch.ones(5),
            ValueError,
            r"edge_weight must have shape \[E\]",
        ),
        (
            torch.rand(2, 4, 3),
            EDGES,
            torch.full((6,), float("inf")),
            ValueError,
            "edge_weight contains Inf",
        ),
    ],
)
def test_bad_input_is_named(x, edge_index, edge_weight, error, match):
    with pytest.raises(error, match=match):
        SpikingASConv(3, 2)(x, edge_index, edge_weight)


def test_unknown_names_are_rejected():
    with pytest.raises(ValueError, match="unknown scaling"):
        SpikingASConv(3, 2, scaling="cosine")
    with pytest.raises(ValueError, match="unknown surrogate"):
        SpikingASConv(3, 2, neuron=LIF(surrogate="step"))
    with pytest.raises(ValueError, match="unknown backend"):
        SpikingASConv(3, 2, backend="cuda")


@pytest.mark.parametrize("scaling", ["tent", None])
@pytest.mark.parametrize("neuron", [None, "lif"])
def test_repeated_input_view_gives_the_same_result_and_gradients_as_a_copy(scaling, neuron):
    from spikegraph.encoders import repeat

    conv = SpikingASConv(3, 4, scaling=scaling, neuron=neuron).eval()
    features = torch.rand(4, 3)
    view = repeat(features, 5)
    assert view.stride(0) == 0
    params = list(conv.parameters())
    weights = torch.randn(5, 4, 4)  # a loss that weighs every step and node differently
    results = []
    for x in (view, view.contiguous()):
        out = conv(x, EDGES)
        results.append((out, torch.autograd.grad((out * weights).sum(), params)))
    (fast, g_fast), (plain, g_plain) = results
    torch.testing.assert_close(fast, plain)
    for a, b in zip(g_fast, g_plain, strict=True):
        torch.testing.assert_close(a, b)
    if scaling is None and neuron is None:  # nothing varies over time: one step, viewed T times
        assert fast.stride(0) == 0


def test_node_drive_is_the_mean_magnitude_for_spikes_and_signed_inputs():
    from spikegraph.nn.conv.spiking_as_conv import node_drive

    spikes = (torch.rand(3, 5, 8) < 0.4).float()
    signed = torch.rand(3, 5, 8) - 0.5  # |x| <= 0.5: the clamp at 1 stays inactive
    for x in (spikes, signed, signed.requires_grad_()):
        torch.testing.assert_close(node_drive(x), x.abs().mean(-1).clamp(max=1.0))
    (grad,) = torch.autograd.grad(node_drive(signed).sum(), signed)  # the gradient of |x|
    torch.testing.assert_close(grad, signed.sign() / 8)


def test_cached_adjacency_gives_the_same_output_and_guards_the_graph_size():
    x = spike_input()
    plain = SpikingASConv(3, 4, neuron=LIF(threshold=0.2), experience="synapse").eval()
    cached = SpikingASConv(3, 4, neuron=LIF(threshold=0.2), cached=True).eval()
    cached.load_state_dict(plain.state_dict())
    for _ in range(2):
        torch.testing.assert_close(cached(x, EDGES), plain(x, EDGES))
    with pytest.raises(ValueError, match="cached=True holds a graph of 4 nodes"):
        cached(spike_input(N=5), EDGES)


@pytest.mark.parametrize("backend", ["torch"] + (["torch_scatter"] if HAS_TORCH_SCATTER else []))
def test_fast_path_matches_a_per_step_dense_reference_with_gradients(backend):
    x = torch.rand(4, 4, 3)
    conv = SpikingASConv(3, 5, scaling="tent", neuron=None, backend=backend).eval()
    all_edges, scales = hand_scales(x, EDGES, conv.scaling.shape)
    a_hat = dense_gcn_adjacency(EDGES, 4)
    norm = a_hat[all_edges[1], all_edges[0]]
    reference = []
    for t in range(4):
        a_t = torch.zeros(4, 4).index_put((all_edges[1], all_edges[0]), norm * scales[t])
        reference.append(a_t @ conv.lin(x[t]) + conv.bias)
    reference = torch.stack(reference)
    out = conv(x, EDGES)
    torch.testing.assert_close(out, reference, atol=1e-5, rtol=0)
    g_fast = torch.autograd.grad(out.square().sum(), conv.lin.weight)
    g_ref = torch.autograd.grad(reference.square().sum(), conv.lin.weight)
    torch.testing.assert_close(g_fast, g_ref, atol=1e-5, rtol=0)
