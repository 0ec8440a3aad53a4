"""SGNNBench's random per-class splits."""

import pytest
import torch
from torch_geometric.data import Data

from spikegraph.datasets import class_random_split, with_class_random_split


def labels() -> torch.Tensor:
    return torch.arange(3).repeat_interleave(torch.tensor([40, 50, 60]))


def test_split_sizes_and_disjointness():
    y = labels()
    train, val, test = class_random_split(y, 5, 30, 40, generator=torch.Generator().manual_seed(0))
    assert [int(m.sum()) for m in (train, val, test)] == [15, 30, 40]
    assert torch.bincount(y[train]).tolist() == [5, 5, 5]
    assert not (train & val).any() and not (train & test).any() and not (val & test).any()


def test_one_seed_one_split_and_another_seed_another():
    data = Data(y=labels(), x=torch.zeros(150, 1))
    a = with_class_random_split(data, 0, num_per_class=5, num_val=30, num_test=40)
    b = with_class_random_split(data, 0, num_per_class=5, num_val=30, num_test=40)
    c = with_class_random_split(data, 1, num_per_class=5, num_val=30, num_test=40)
    assert torch.equal(a.train_mask, b.train_mask) and torch.equal(a.test_mask, b.test_mask)
    assert not torch.equal(a.train_mask, c.train_mask)
    assert not hasattr(data, "train_mask")  # the input graph is left alone


def test_too_small_a_class_or_remainder_raises():
    with pytest.raises(ValueError, match="class 0 has 40 nodes, fewer than num_per_class=41"):
        class_random_split(labels(), 41)
    with pytest.raises(ValueError, match="cannot hold num_val=100 and num_test=100"):
        class_random_split(labels(), 5, 100, 100)
