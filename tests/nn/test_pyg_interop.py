"""SpikingASConv under PyG's conventions: propagate() and its hooks, explainers' edge masks,
SparseTensor input, Sequential, and clear errors for the MessagePassing arguments it does not
support."""

import pytest
import torch
from torch_geometric.explain import Explainer, GNNExplainer
from torch_geometric.explain.algorithm.utils import clear_masks, set_masks
from torch_geometric.utils import k_hop_subgraph

from spikegraph import SpikingASConv, SpikingGNN
from spikegraph.encoders import repeat
from spikegraph.testing import homophilous_graph


@pytest.fixture(scope="module")
def graph():
    return homophilous_graph(num_nodes=80, channels=12)


def test_propagate_and_its_fused_hooks_fire(graph):
    conv = SpikingASConv(12, 6).eval()
    seen = []
    conv.register_propagate_forward_hook(lambda m, inputs, out: seen.append(("propagate", out)))
    conv.register_message_and_aggregate_forward_hook(lambda m, inputs, out: seen.append("fused"))
    out = conv.synaptic_current(repeat(graph.x, 3), graph.edge_index)
    assert [s if isinstance(s, str) else s[0] for s in seen] == ["fused", "propagate"]
    bias = conv.bias.expand(3, 80, -1)
    torch.testing.assert_close(seen[1][1].expand(3, 80, -1) + bias, out)


def test_edge_masks_act_on_the_edges_and_ones_change_nothing(graph):
    model = SpikingGNN(12, 16, 5, T=4).eval()
    x, ei = graph.x, graph.edge_index
    with torch.no_grad():
        ref = model(x, ei)
        set_masks(model, torch.ones(ei.shape[1]), ei, apply_sigmoid=False)
        ones = model(x, ei)
        set_masks(model, torch.zeros(ei.shape[1]), ei, apply_sigmoid=False)
        zeros = model(x, ei)
        clear_masks(model)
        after = model(x, ei)
    torch.testing.assert_close(ones, ref, atol=1e-5, rtol=0)
    assert (zeros - ref).abs().max() > 0.05  # the edges carried information
    torch.testing.assert_close(after, ref)  # clearing the masks restores the layer


def test_gnn_explainer_explains_a_node_from_its_receptive_field(graph):
    torch.manual_seed(0)
    model = SpikingGNN(12, 16, 5, T=4).eval()
    explainer = Explainer(
        model=model,
        algorithm=GNNExplainer(epochs=10),
        explanation_type="model",
        node_mask_type="attributes",
        edge_mask_type="object",
        model_config=dict(mode="multiclass_classification", task_level="node", return_type="raw"),
    )
    node = 3
    explanation = explainer(graph.x, graph.edge_index, index=node)
    _, _, _, inside = k_hop_subgraph(node, 2, graph.edge_index, num_nodes=80)
    mask = explanation.edge_mask
    assert mask.shape == (graph.edge_index.shape[1],)
    assert bool((mask[inside] > 0).any())  # the node's 2-hop edges are weighed ...
    assert bool((mask[~inside] == 0).all())  # ... and no edge outside its receptive field


@pytest.mark.parametrize("training", [False, True], ids=["eval", "train"])
def test_sparse_tensor_input_equals_edge_index(graph, training):
    torch_sparse = pytest.importorskip("torch_sparse")
    adj_t = torch_sparse.SparseTensor.from_edge_index(
        graph.edge_index.flip(0), sparse_sizes=(80, 80)
    )
    torch.manual_seed(0)
    conv = SpikingASConv(12, 6).train(training)
    twin = SpikingASConv(12, 6).train(training)
    twin.load_state_dict(conv.state_dict())
    x = repeat(graph.x, 3)
    torch.testing.assert_close(conv(x, adj_t), twin(x, graph.edge_index))


def test_pyg_sequential_wraps_the_layer(graph):
    from torch_geometric.nn import Sequential

    model = Sequential(
        "x, edge_index",
        [
            (SpikingASConv(12, 16), "x, edge_index -> x"),
            (SpikingASConv(16, 5, neuron=None), "x, edge_index -> x"),
        ],
    )
    assert model(repeat(graph.x, 4), graph.edge_index).shape == (4, 80, 5)


@pytest.mark.parametrize(
    "kwargs,error,match",
    [
        ({"aggr": "max"}, ValueError, "aggr='max' is not supported"),
        ({"aggr": "mean"}, ValueError, "aggr='mean' is not supported"),
        ({"flow": "target_to_source"}, ValueError, "flow='target_to_source' is not supported"),
        ({"node_dim": 0}, TypeError, "unexpected keyword arguments \\['node_dim'\\]"),
    ],
)
def test_unsupported_message_passing_arguments_raise(kwargs, error, match):
    with pytest.raises(error, match=match):
        SpikingASConv(4, 2, **kwargs)
    SpikingASConv(4, 2, aggr="add", flow="source_to_target")  # the supported values pass
