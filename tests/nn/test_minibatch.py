"""Mini-batches (PyG's NeighborLoader, or its pure-torch stand-in) update the same per-edge
experience as full batch."""

from __future__ import annotations

import copy

import pytest
import torch
from torch_geometric.data import Data
from torch_geometric.nn.conv.gcn_conv import gcn_norm
from torch_geometric.utils import to_undirected

from spikegraph.loader import neighbor_loader
from spikegraph.models import SpikingGNN
from spikegraph.nn import SpikingASConv

N, C = 40, 6


def _graph() -> Data:
    """A random undirected graph with self-loops and GCN weights computed once, globally."""
    edge_index = to_undirected(torch.randint(0, N, (2, 90)), num_nodes=N)
    edge_index, weight = gcn_norm(edge_index, None, N, add_self_loops=True)
    x = (torch.rand(N, C) < 0.4).float()
    return Data(x=x, edge_index=edge_index, edge_weight=weight, num_nodes=N)


def _model(data: Data) -> SpikingGNN:
    model = SpikingGNN(
        C, 16, 3, T=4, dropout=0.0, threshold=0.5, normalize=False, add_self_loops=False
    )
    model.reset_experience(data.edge_index, N)
    return model.train()


def _experiences(model: SpikingGNN) -> list[torch.Tensor]:
    return [conv.scaling.experience.clone() for conv in model.convs]


def test_one_batch_of_all_nodes_equals_full_batch():
    data = _graph()
    full = _model(data)
    mini = copy.deepcopy(full)
    out_full = full(data.x, data.edge_index, data.edge_weight)
    loader = neighbor_loader(data, num_neighbors=[-1, -1], batch_size=N, shuffle=True)
    (batch,) = list(loader)
    assert not torch.equal(batch.n_id, torch.arange(N))  # the batch really is reordered
    out_mini = mini(batch.x, batch.edge_index, batch.edge_weight, e_id=batch.e_id)
    torch.testing.assert_close(out_mini, out_full[batch.n_id], atol=1e-5, rtol=1e-5)
    for e_full, e_mini in zip(_experiences(full), _experiences(mini), strict=True):
        assert e_full.abs().sum() > 0  # the update happened
        torch.testing.assert_close(e_mini, e_full, atol=1e-6, rtol=1e-5)


def test_seed_nodes_and_their_edges_match_full_batch():
    data = _graph()
    full = _model(data)
    mini = copy.deepcopy(full)
    before = _experiences(full)
    out_full = full(data.x, data.edge_index, data.edge_weight)
    loader = neighbor_loader(data, num_neighbors=[-1, -1], batch_size=5, shuffle=False)
    batch = next(iter(loader))
    out_mini = mini(batch.x, batch.edge_index, batch.edge_weight, e_id=batch.e_id)
    seeds = batch.n_id[: batch.batch_size]
    torch.testing.assert_close(out_mini[: batch.batch_size], out_full[seeds], atol=1e-5, rtol=1e-5)
    # The last layer's edges into the seeds see exactly the full-batch inputs.
    into_seeds = batch.e_id[batch.edge_index[1] < batch.batch_size]
    exp_full, exp_mini = _experiences(full)[-1], _experiences(mini)[-1]
    torch.testing.assert_close(exp_mini[into_seeds], exp_full[into_seeds], atol=1e-6, rtol=1e-5)
    # Edges outside the batch keep their old experience.
    outside = torch.ones(data.num_edges, dtype=torch.bool)
    outside[batch.e_id] = False
    assert outside.any()
    # (never seen: still nan, the relative shape's "unknown")
    torch.testing.assert_close(exp_mini[outside], before[-1][outside], equal_nan=True)


def test_subgraph_without_e_id_is_a_clear_error():
    data = _graph()
    model = _model(data)
    batch = next(iter(neighbor_loader(data, num_neighbors=[-1], batch_size=3)))
    with pytest.raises(ValueError, match="e_id"):
        model(batch.x, batch.edge_index, batch.edge_weight)


def test_e_id_needs_a_sized_experience_and_global_self_loops():
    data = _graph()
    x = data.x.expand(4, N, C)
    e_id = torch.arange(data.num_edges)
    conv = SpikingASConv(C, 8, normalize=False, add_self_loops=False)
    with pytest.raises(ValueError, match="reset_experience"):
        conv(x, data.edge_index, data.edge_weight, e_id=e_id)
    conv.reset_experience(data.num_edges - 1)
    with pytest.raises(ValueError, match="experience buffer has"):
        conv(x, data.edge_index, data.edge_weight, e_id=e_id)
    no_loops = data.edge_index[:, data.edge_index[0] != data.edge_index[1]]
    adding = SpikingASConv(C, 8)
    adding.reset_experience(no_loops.shape[1])
    with pytest.raises(ValueError, match="self-loops"):
        adding(x, no_loops, e_id=torch.arange(no_loops.shape[1]))


@pytest.mark.parametrize(
    ("e_id", "match"),
    [(torch.arange(5), "one global id per edge"), (torch.zeros(10), "integer")],
)
def test_bad_e_id_is_named(e_id, match):
    edge_index = torch.tensor([[0, 1, 2, 3, 4, 0, 1, 2, 3, 4], [1, 2, 3, 4, 0, 0, 1, 2, 3, 4]])
    conv = SpikingASConv(C, 8, add_self_loops=False)
    conv.reset_experience(20)
    with pytest.raises(ValueError, match=match):
        conv(torch.rand(2, 5, C), edge_index, e_id=e_id)
