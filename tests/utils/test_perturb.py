import pytest
import torch
from torch_geometric.data import Data
from torch_geometric.utils import coalesce, is_undirected

from spikegraph.utils.perturb import (
    CLEAN_LEVEL,
    GRAPH_LEVELS,
    add_edges,
    drop_edges,
    flip_features,
    perturb_graph,
    scale_intensity,
)


def cycle(n: int = 6) -> torch.Tensor:
    """An undirected n-cycle: n pairs, 2n directed edges."""
    src = torch.arange(n)
    dst = (src + 1) % n
    return torch.cat([torch.stack([src, dst]), torch.stack([dst, src])], 1)


def directed_path(n: int = 6) -> torch.Tensor:
    return torch.stack([torch.arange(n - 1), torch.arange(1, n)])


def edge_set(edge_index: torch.Tensor) -> set[tuple[int, int]]:
    return {tuple(e) for e in edge_index.t().tolist()}


def test_flip_features_flips_exactly_the_requested_number_of_bits():
    x = (torch.rand(7, 11) < 0.3).float()
    out = flip_features(x, 0.25, 0)
    assert int((out != x).sum()) == round(0.25 * x.numel())
    assert set(out.unique().tolist()) <= {0.0, 1.0}
    assert torch.equal(flip_features(x, 0.0, 0), x)


def test_flip_features_is_deterministic_under_a_seed_and_leaves_input_alone():
    x = (torch.rand(7, 11) < 0.3).float()
    before = x.clone()
    a, b = flip_features(x, 0.3, 5), flip_features(x, 0.3, torch.Generator().manual_seed(5))
    assert torch.equal(a, b)
    assert not torch.equal(a, flip_features(x, 0.3, 6))
    assert torch.equal(x, before)


@pytest.mark.parametrize("level", [-0.1, 1.5])
def test_flip_features_rejects_bad_levels(level):
    with pytest.raises(ValueError, match="fraction"):
        flip_features(torch.zeros(3, 3), level, 0)


def test_flip_features_rejects_non_binary_features():
    with pytest.raises(ValueError, match="binary"):
        flip_features(torch.full((3, 3), 0.5), 0.1, 0)


def test_drop_edges_drops_undirected_pairs_of_a_symmetric_graph():
    ei = cycle(6)
    out = drop_edges(ei, 0.5, 0)
    assert out.shape[1] == 2 * (6 - 3)  # 3 of 6 pairs dropped, both directions
    assert is_undirected(out) and edge_set(out) <= edge_set(ei)


def test_drop_edges_drops_directed_edges_of_a_directed_graph():
    ei = directed_path(9)  # 8 edges
    out = drop_edges(ei, 0.25, 0)
    assert out.shape[1] == 8 - 2 and edge_set(out) <= edge_set(ei)
    assert drop_edges(ei, 1.0, 0).shape[1] == 0
    assert torch.equal(drop_edges(ei, 0.0, 0), ei)


def test_drop_edges_is_deterministic_under_a_seed():
    ei = cycle(20)
    assert torch.equal(drop_edges(ei, 0.4, 3), drop_edges(ei, 0.4, 3))
    assert not torch.equal(drop_edges(ei, 0.4, 3), drop_edges(ei, 0.4, 4))


def test_add_edges_adds_new_symmetric_pairs_without_loops_or_duplicates():
    ei = cycle(6)
    out = add_edges(ei, 6, 0.5, 0)
    assert out.shape[1] == 12 + 2 * 3  # 3 new pairs (half of 6), both directions
    assert torch.equal(out[:, :12], ei)  # original edges kept, in order
    assert is_undirected(out)
    assert coalesce(out).shape[1] == out.shape[1]  # no duplicates
    assert bool((out[0] != out[1]).all())  # no self-loops


def test_add_edges_on_a_directed_graph_adds_directed_edges():
    ei = directed_path(6)  # 5 edges
    out = add_edges(ei, 6, 0.6, 0)
    assert out.shape[1] == 5 + 3
    assert coalesce(out).shape[1] == 8 and bool((out[0] != out[1]).all())


def test_add_edges_is_deterministic_and_refuses_too_many():
    ei = cycle(10)
    assert torch.equal(add_edges(ei, 10, 1.0, 1), add_edges(ei, 10, 1.0, 1))
    assert not torch.equal(add_edges(ei, 10, 1.0, 1), add_edges(ei, 10, 1.0, 2))
    with pytest.raises(ValueError, match="free"):
        add_edges(cycle(4), 4, 1.0, 0)  # 4 pairs asked, only 2 free


def test_edge_functions_reject_out_of_range_indices_and_bad_levels():
    ei = torch.tensor([[0, 5], [5, 0]])
    with pytest.raises(ValueError, match="only 3 nodes"):
        drop_edges(ei, 0.5, 0, num_nodes=3)
    with pytest.raises(ValueError, match="only 3 nodes"):
        add_edges(ei, 3, 0.5, 0)
    with pytest.raises(ValueError, match="fraction"):
        drop_edges(cycle(), 2.0, 0)


def test_scale_intensity_multiplies_and_checks_the_factor():
    x = torch.rand(4, 3)
    assert torch.equal(scale_intensity(x, 2.0), 2 * x)
    with pytest.raises(ValueError, match="factor"):
        scale_intensity(x, -1.0)


def test_perturb_graph_changes_only_its_field_and_rejects_unknown_names():
    data = Data(x=(torch.rand(6, 8) < 0.5).float(), edge_index=cycle(6), y=torch.arange(6))
    out = perturb_graph("drop_edges", data, 0.5, 0)
    assert out.x is data.x and out.y is data.y and out.edge_index.shape[1] == 6
    assert data.edge_index.shape[1] == 12  # input untouched
    out = perturb_graph("flip", data, 0.25, 0)
    assert out.edge_index is data.edge_index and int((out.x != data.x).sum()) == 12
    with pytest.raises(ValueError, match="unknown perturbation"):
        perturb_graph("blur", data, 0.1, 0)


@pytest.mark.parametrize("name", sorted(GRAPH_LEVELS))
def test_every_listed_level_runs_and_the_clean_level_is_the_identity(name):
    data = Data(x=(torch.rand(12, 8) < 0.5).float(), edge_index=cycle(12))
    assert CLEAN_LEVEL[name] in GRAPH_LEVELS[name]
    clean = perturb_graph(name, data, CLEAN_LEVEL[name], 0)
    assert torch.equal(clean.x, data.x) and torch.equal(clean.edge_index, data.edge_index)
    for level in GRAPH_LEVELS[name]:
        perturb_graph(name, data, level, 0)
