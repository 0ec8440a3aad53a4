"""Seeded permutations and the lazy permuted view of a frame set."""

from __future__ import annotations

import pytest
import torch

from spikegraph.continual.tasks import make_permutations, permute_frames, permuted_task
from spikegraph.events.training import evaluate

from .conftest import tiny_frames, tiny_model


def test_permutations_are_seeded_distinct_and_prefix_stable():
    p10 = make_permutations(10, 2312, seed=3)
    assert p10.shape == (10, 2312)
    assert all(torch.equal(p.sort().values, torch.arange(2312)) for p in p10)
    assert len({tuple(p.tolist()) for p in p10}) == 10
    assert torch.equal(make_permutations(20, 2312, seed=3)[:10], p10)
    assert not torch.equal(make_permutations(10, 2312, seed=4), p10)


def test_permuted_view_permutes_each_frame_without_copying_the_set():
    data = tiny_frames(6)
    perm = make_permutations(1, 18, seed=0)[0]
    view = permuted_task(data, perm, 0)
    batch = view.frames[torch.tensor([1, 4])]
    expect = data.frames[[1, 4]].view(2, 4, 18)[..., perm].view(2, 4, 2, 3, 3)
    assert torch.equal(batch, expect)
    assert view.frames.frames is data.frames and view.labels is data.labels
    assert len(view) == 6 and view.name == "tiny/task0"
    # a single sample and a whole set read the same way
    assert torch.equal(view.frames[1], expect[0])


def test_permuted_view_trains_and_evaluates():
    data = tiny_frames()
    view = permuted_task(data, make_permutations(1, 18)[0])
    acc = evaluate(tiny_model(), view)
    assert 0.0 <= acc <= 1.0


def test_bad_permutation_size_is_refused():
    with pytest.raises(ValueError, match="permutation of 18"):
        permute_frames(tiny_frames(2).frames, torch.arange(17))
    with pytest.raises(ValueError, match="n_tasks"):
        make_permutations(0)
