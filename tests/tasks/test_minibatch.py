"""Mini-batch node classification: global normalisation, experience sizing, a learning loop."""

from __future__ import annotations

import pytest
import torch
from torch_geometric.data import Data
from torch_geometric.utils import to_undirected

from spikegraph import SpikingGNN
from spikegraph.tasks.minibatch import (
    build_minibatch_model,
    epoch_batches,
    global_gcn_graph,
    layerwise_loader,
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


@pytest.mark.parametrize(("n", "batch_size", "world_size"), [(100, 8, 1), (100, 8, 3), (17, 4, 4)])
def test_epoch_batches_share_every_seed_once_in_equal_numbers_of_steps(n, batch_size, world_size):
    seeds = torch.arange(1000, 1000 + n)
    plans = [
        epoch_batches(
            seeds,
            batch_size,
            rank=r,
            world_size=world_size,
            generator=torch.Generator().manual_seed(5),
        )
        for r in range(world_size)
    ]
    assert len({len(p) for p in plans}) == 1  # the same number of steps on every rank
    taken = torch.cat([part for plan in plans for part, _ in plan])
    assert torch.equal(taken.sort().values, seeds)  # disjoint and covering
    for step in range(len(plans[0])):
        parts = [plan[step][0] for plan in plans]
        sizes = {plan[step][1] for plan in plans}
        assert sizes == {sum(p.numel() for p in parts)}  # every rank knows the global size
        assert all(p.numel() >= 1 for p in parts)
        assert max(p.numel() for p in parts) - min(p.numel() for p in parts) <= 1


def test_epoch_batches_of_one_process_are_the_shuffled_seeds_in_order():
    seeds = torch.arange(10)
    plan = epoch_batches(seeds, 4, generator=torch.Generator().manual_seed(1))
    order = seeds[torch.randperm(10, generator=torch.Generator().manual_seed(1))]
    assert [p.tolist() for p, _ in plan] == [
        order[:4].tolist(),
        order[4:8].tolist(),
        order[8:].tolist(),
    ]
    assert [g for _, g in plan] == [4, 4, 2]


def test_epoch_batches_merge_a_last_batch_smaller_than_the_world():
    # 2 x 3 + 1 seeds on 2 ranks: the single last seed joins the batch before it.
    plans = [epoch_batches(torch.arange(7), 3, rank=r, world_size=2) for r in range(2)]
    assert [[g for _, g in plan] for plan in plans] == [[7], [7]]
    assert [plan[0][0].numel() for plan in plans] == [4, 3]


def test_epoch_batches_reject_bad_input():
    with pytest.raises(ValueError, match="cannot be shared"):
        epoch_batches(torch.arange(2), 4, rank=0, world_size=3)
    with pytest.raises(ValueError, match="rank"):
        epoch_batches(torch.arange(8), 4, rank=2, world_size=2)
    with pytest.raises(ValueError, match="batch_size"):
        epoch_batches(torch.arange(8), 0)


def _trained(readout: str, encoder: str = "repeat") -> tuple[SpikingGNN, Data]:
    data = global_gcn_graph(_two_communities())
    cfg = Config(hidden=16, T=4, dropout=0.0, readout=readout, encoder=encoder)
    model = build_minibatch_model(cfg, data, 2)
    opt = torch.optim.Adam(model.parameters(), lr=0.02)
    gen = torch.Generator().manual_seed(0)
    for _ in range(3):  # a trained experience, not the fresh one
        train_minibatch_epoch(model, data, opt, batch_size=16, num_neighbors=(5, 5), generator=gen)
    return model.eval(), data


@pytest.mark.parametrize("readout", ["membrane", "rate"])
def test_layerwise_inference_equals_the_full_graph_call(readout):
    model, data = _trained(readout)
    full = model(data.x, data.edge_index, data.edge_weight)
    layerwise = model.inference(data.x, layerwise_loader(data, batch_size=7))
    torch.testing.assert_close(layerwise, full, atol=1e-5, rtol=1e-5)
    assert torch.equal(layerwise.argmax(-1), full.argmax(-1))


def test_layerwise_inference_of_rate_coded_input_matches_under_the_same_seed():
    model, data = _trained("membrane", encoder="bernoulli")
    data.x = data.x.clamp(0, 1)
    torch.manual_seed(3)
    full = model(data.x, data.edge_index, data.edge_weight)
    torch.manual_seed(3)  # the spikes are drawn once for all nodes, as in the full call
    layerwise = model.inference(data.x, layerwise_loader(data, batch_size=7))
    torch.testing.assert_close(layerwise, full, atol=1e-5, rtol=1e-5)


def test_layerwise_inference_needs_eval_mode_and_unnormalised_layers():
    model, data = _trained("membrane")
    loader = layerwise_loader(data, batch_size=32)
    with pytest.raises(RuntimeError, match="model.eval"):
        model.train().inference(data.x, loader)
    full_batch_model = SpikingGNN(16, 8, 2, T=2).eval()  # normalises and adds self-loops
    with pytest.raises(ValueError, match="normalize=False and add_self_loops=False"):
        full_batch_model.inference(data.x, loader)
