"""Mini-batch node classification: global normalisation, experience sizing, a learning loop."""

from __future__ import annotations

import pytest
import torch
import torch_geometric.typing
from torch_geometric.data import Data
from torch_geometric.utils import to_undirected

from spikegraph.tasks.minibatch import (
    build_minibatch_model,
    global_gcn_graph,
    train_minibatch_epoch,
)
from spikegraph.tasks.node_classification import Config

N = 120


def _two_communities() -> Data:
    """Two dense communities whose labels the features hint at only weakly."""
    y = torch.arange(N) % 2
    src, dst = torch.randint(0, N, (2, 1200))
    keep = y[src] == y[dst]
    edge_index = to_undirected(torch.stack([src[keep], dst[keep]]), num_nodes=N)
    x = (torch.rand(N, 16) < 0.1).float()
    x[:, 0] = (y == 1).float() * (torch.rand(N) < 0.5)
    data = Data(x=x, edge_index=edge_index, y=y, num_nodes=N)
    data.train_mask = torch.rand(N) < 0.6
    return data


def test_global_graph_has_every_self_loop_and_gcn_weights():
    data = global_gcn_graph(_two_communities())
    loops = data.edge_index[0] == data.edge_index[1]
    assert int(loops.sum()) == N
    deg = torch.zeros(N).index_add_(0, data.edge_index[1], torch.ones(data.num_edges))
    src, dst = data.edge_index
    torch.testing.assert_close(data.edge_weight, (deg[src] * deg[dst]).rsqrt())


@pytest.mark.skipif(
    not (torch_geometric.typing.WITH_PYG_LIB or torch_geometric.typing.WITH_TORCH_SPARSE),
    reason="NeighborLoader needs pyg-lib or torch-sparse",
)
def test_minibatch_training_learns_and_evaluates_full_batch():
    data = global_gcn_graph(_two_communities())
    cfg = Config(hidden=16, T=4, dropout=0.0)
    model = build_minibatch_model(cfg, data, 2)
    assert model.convs[0].scaling.num_synapses == data.num_edges
    opt = torch.optim.Adam(model.parameters(), lr=0.02)
    gen = torch.Generator().manual_seed(0)
    losses = [
        train_minibatch_epoch(model, data, opt, batch_size=16, num_neighbors=(5, 5), generator=gen)
        for _ in range(15)
    ]
    assert losses[-1] < 0.7 * losses[0]
    assert model.convs[0].scaling.experience.abs().sum() > 0
    model.eval()
    pred = model(data.x, data.edge_index, data.edge_weight).argmax(-1)
    assert (pred == data.y).float().mean() > 0.8
