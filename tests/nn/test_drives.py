"""The drives of a graph synapse's trace: values by hand on a tiny graph, and what makes them
edge-specific."""

import pytest
import torch

from spikegraph import SpikingASConv
from spikegraph.nn.conv import drives
from spikegraph.utils.graph import prepare_adjacency

# node 0 fires channels {0, 1}, node 1 {2, 3}, node 2 {0, 1}: the same activity (2 of 4)
X = torch.tensor([[1.0, 1, 0, 0], [0, 0, 1, 1], [1, 1, 0, 0]])
EDGES = torch.tensor([[0, 1], [2, 2]])  # 0 -> 2 and 1 -> 2: two sources of equal activity


def _adj(edges=EDGES, n=3, weight=None):
    return prepare_adjacency(edges, weight, n, normalize=False, add_self_loops=False)


def _by_edge(adj, values):
    """Values keyed by (source, target) (the adjacency is target-major, not input order)."""
    return {tuple(e): float(v) for e, v in zip(adj.edge_index.T.tolist(), values, strict=True)}


def test_coincidence_is_the_product_of_the_two_activities():
    adj = _adj()
    assert _by_edge(adj, drives.coincidence(X, None, adj)) == {(0, 2): 0.25, (1, 2): 0.25}


def test_overlap_counts_the_channels_active_at_both_ends():
    adj = _adj()
    # 0 and 2 share channels 0 and 1 (2 of 4); 1 and 2 share none
    assert _by_edge(adj, drives.overlap(X, None, adj)) == {(0, 2): 0.5, (1, 2): 0.0}


def test_overlap_per_step_and_in_chunks(monkeypatch):
    x = (torch.rand(5, 30, 8) < 0.5).float()
    edges = torch.randint(0, 30, (2, 90))
    adj = _adj(edges, 30)
    src, dst = adj.edge_index
    expected = (x[:, src] * x[:, dst]).mean(-1)  # [T, E, C] is fine for a tiny graph
    monkeypatch.setattr(drives, "OVERLAP_CHUNK", 7)
    torch.testing.assert_close(drives.overlap(x, None, adj), expected)
    torch.testing.assert_close(drives.overlap(x[0], None, adj), expected[0])  # one step for all


def test_share_splits_each_targets_input_among_its_edges():
    edges = torch.tensor([[0, 1, 2, 0], [2, 2, 0, 1]])
    weight = torch.tensor([1.0, 3.0, 1.0, 2.0])
    adj = _adj(edges, weight=weight)
    got = _by_edge(adj, drives.share(X, None, adj))
    # into 2: 0 carries 1 * 0.5, 1 carries 3 * 0.5 -> shares 1/4 and 3/4; 0 and 1 have one edge
    assert got == pytest.approx({(0, 2): 0.25, (1, 2): 0.75, (2, 0): 1.0, (0, 1): 1.0})


def test_overlap_lets_edges_from_equally_active_sources_differ():
    def scales(drive):
        conv = SpikingASConv(4, 2, drive=drive, normalize=False, add_self_loops=False)
        conv.scaling.experience_momentum = 0.0  # read a fixed reference, learn nothing
        conv.scaling.reset_experience(1)
        conv.scaling.experience.fill_(0.25)
        adj = conv.adjacency(EDGES, None, 3)
        return conv.edge_scale(X, None, adj, None, T=3, shared=True)[-1]

    same = scales("coincidence")
    assert float(same[0]) == float(same[1])  # both drives 0.25: as usual, scale 1
    differ = scales("overlap")
    assert float(differ.max() - differ.min()) > 0.5  # 0.5 (depressed) against 0 (potentiated)


def test_bad_drive_and_mismatched_channels_raise():
    with pytest.raises(ValueError, match="unknown drive"):
        SpikingASConv(4, 2, drive="pre_post")
    adj = _adj()
    with pytest.raises(ValueError, match="compares channels"):
        drives.overlap(X, X[:, :3].unsqueeze(0), adj)


def test_repr_names_a_drive_and_experience_other_than_the_defaults():
    assert "drive" not in repr(SpikingASConv(4, 2))
    r = repr(SpikingASConv(4, 2, drive="share", experience="layer"))
    assert r.endswith("drive='share', experience='layer')")
