"""``torch.compile`` of a SpikingGNN: no graph breaks of its own once the graph is cached (the
value checks are skipped while tracing), and the same outputs and gradients as eager."""

import pytest
import torch

from spikegraph import SpikingGNN
from spikegraph.testing import homophilous_graph


@pytest.fixture(scope="module")
def graph():
    return homophilous_graph(num_nodes=60, channels=10)


def _warm_model(graph, **kwargs):
    model = SpikingGNN(10, 16, 4, T=3, cached=True, **kwargs)
    model(graph.x, graph.edge_index)  # eager: checks the input, caches the graph, names synapses
    return model


def _breaks(model, graph):
    torch._dynamo.reset()
    try:
        return torch._dynamo.explain(model)(graph.x, graph.edge_index).break_reasons
    finally:
        torch._dynamo.reset()


def test_no_graph_breaks_without_scaling(graph):
    assert _breaks(_warm_model(graph, scaling=None), graph) == []


def test_no_graph_breaks_with_scaling(graph):
    # the experience fill-in (SynapticScaling._fill_unknown) runs unconditionally under compile
    assert _breaks(_warm_model(graph), graph) == []


def test_compiled_outputs_and_gradients_equal_eager(graph):
    torch.manual_seed(0)
    eager = _warm_model(graph, dropout=0.0)
    twin = SpikingGNN(10, 16, 4, T=3, cached=True, dropout=0.0)
    twin.load_state_dict(eager.state_dict())
    twin(graph.x, graph.edge_index)
    twin.load_state_dict(eager.state_dict())  # the warm-up call updated the experience
    torch._dynamo.reset()
    compiled = torch.compile(twin, backend="aot_eager")
    out, ref = compiled(graph.x, graph.edge_index), eager(graph.x, graph.edge_index)
    torch.testing.assert_close(out, ref, atol=1e-5, rtol=1e-5)
    out.square().sum().backward()
    ref.square().sum().backward()
    for a, b in zip(twin.parameters(), eager.parameters(), strict=True):
        torch.testing.assert_close(a.grad, b.grad, atol=1e-5, rtol=1e-4)
    torch.testing.assert_close(  # the training call updated the experience alike
        twin.convs[0].scaling.experience, eager.convs[0].scaling.experience
    )
    torch._dynamo.reset()
