"""The pure-torch neighbour sampler: the batches PyG's NeighborLoader makes, without pyg-lib or
torch-sparse (and the same ones, for full neighbourhoods, where those are installed)."""

from __future__ import annotations

import pytest
import torch
from torch_geometric.data import Data
from torch_geometric.loader import NeighborLoader, NodeLoader

from spikegraph.loader import HAS_COMPILED_SAMPLER, TorchNeighborSampler, neighbor_loader

N = 15


def _graph(seed: int = 0) -> Data:
    gen = torch.Generator().manual_seed(seed)
    edge_index = torch.randint(0, N, (2, 60), generator=gen)
    weight = torch.rand(60, generator=gen)
    return Data(edge_index=edge_index, edge_weight=weight, x=torch.arange(N).float()[:, None])


def _torch_loader(data: Data, num_neighbors: list[int], **kwargs) -> NodeLoader:
    return NodeLoader(data, node_sampler=TorchNeighborSampler(data, num_neighbors), **kwargs)


def test_one_hop_of_all_neighbours_holds_exactly_each_seeds_incoming_edges():
    data = _graph()
    seeds = torch.tensor([3, 0, 7])
    batch = next(iter(_torch_loader(data, [-1], input_nodes=seeds, batch_size=3)))
    assert batch.batch_size == 3 and torch.equal(batch.n_id[:3], seeds)
    expected = sorted(e for e in range(data.num_edges) if int(data.edge_index[1, e]) in seeds)
    assert sorted(batch.e_id.tolist()) == expected
    # local edges point at the same global endpoints, weights and features travel with them
    assert torch.equal(batch.n_id[batch.edge_index], data.edge_index[:, batch.e_id])
    assert torch.equal(batch.edge_weight, data.edge_weight[batch.e_id])
    assert torch.equal(batch.x[:, 0].long(), batch.n_id)


def test_the_seeds_edges_come_seed_by_seed_and_new_nodes_in_order_of_appearance():
    data = _graph(1)
    batch = next(iter(_torch_loader(data, [-1], input_nodes=torch.tensor([5, 2]), batch_size=2)))
    dst = batch.edge_index[1]
    assert torch.equal(dst, dst.sort(stable=True).values)  # seed 0's edges, then seed 1's
    sources = batch.n_id[batch.edge_index[0]].tolist()
    first_seen = [v for i, v in enumerate(sources) if v not in sources[:i] and v not in (5, 2)]
    assert batch.n_id[2:].tolist() == first_seen


def test_a_second_hop_expands_only_the_nodes_the_first_hop_found():
    data = _graph(2)
    batch = next(iter(_torch_loader(data, [-1, -1], input_nodes=torch.tensor([4]), batch_size=1)))
    hop1 = batch.num_sampled_nodes[1]
    found = set(batch.n_id[1 : 1 + hop1].tolist())
    hop2_dst = batch.n_id[batch.edge_index[1, batch.num_sampled_edges[0] :]].tolist()
    assert set(hop2_dst) <= found
    expected = sum(int((data.edge_index[1] == v).sum()) for v in found)
    assert batch.num_sampled_edges[1] == expected


def test_k_neighbours_are_at_most_k_distinct_incoming_edges_per_node():
    data = _graph(3)
    torch.manual_seed(0)
    loader = _torch_loader(data, [2], input_nodes=torch.arange(N), batch_size=N)
    batch = next(iter(loader))
    in_deg = torch.bincount(data.edge_index[1], minlength=N)
    got = torch.bincount(batch.n_id[batch.edge_index[1]], minlength=N)
    assert torch.equal(got, in_deg.clamp(max=2))
    assert batch.e_id.unique().numel() == batch.e_id.numel()
    assert torch.equal(batch.n_id[batch.edge_index], data.edge_index[:, batch.e_id])


def test_k_neighbours_are_drawn_from_the_global_generator():
    data = _graph(3)

    def draw(seed: int) -> list[int]:
        torch.manual_seed(seed)
        loader = _torch_loader(data, [1], input_nodes=torch.arange(N), batch_size=N)
        return next(iter(loader)).e_id.tolist()

    assert draw(0) == draw(0)
    assert any(draw(0) != draw(s) for s in range(1, 6))


def test_options_it_does_not_implement_are_refused():
    with pytest.raises(ValueError, match="replace"):
        TorchNeighborSampler(_graph(), [2], replace=True)


def test_neighbor_loader_uses_the_sampler_that_is_installed():
    loader = neighbor_loader(_graph(), [-1], batch_size=4)
    assert isinstance(loader, NeighborLoader) == HAS_COMPILED_SAMPLER
    assert isinstance(loader.node_sampler, TorchNeighborSampler) != HAS_COMPILED_SAMPLER


@pytest.mark.skipif(not HAS_COMPILED_SAMPLER, reason="compares with pyg-lib / torch-sparse")
def test_full_neighbourhoods_match_pygs_neighbor_loader():
    data = _graph(4)
    kwargs = dict(input_nodes=torch.tensor([1, 9, 3, 12]), batch_size=2)
    for theirs, ours in zip(
        NeighborLoader(data, num_neighbors=[-1, -1], **kwargs),
        _torch_loader(data, [-1, -1], **kwargs),
        strict=True,
    ):
        for key in ("n_id", "e_id", "edge_index", "edge_weight", "x"):
            assert torch.equal(theirs[key], ours[key]), key
