"""Frame-set loading, training and evaluation on small data."""

from __future__ import annotations

import pytest
import torch

from spikegraph.events.training import FrameSet, evaluate, load_frames, train_epoch
from spikegraph.models import SpikingMLP


def test_load_frames_spreads_a_limited_subset_over_labels(shared_datasets):
    data = load_frames(shared_datasets / "NMNIST", False, limit=20, progress=False)
    assert data.frames.shape == (20, 10, 2, 34, 34) and data.frames.dtype == torch.uint8
    # files are sorted by label, so the first 20 would hold only digits 0 and 1 (8 + 14 files)
    assert len(set(data.labels.tolist())) >= 9
    assert data.frames.float().sum() > 0


def test_load_frames_rejects_a_bad_limit(shared_datasets):
    with pytest.raises(ValueError, match="limit"):
        load_frames(shared_datasets / "NMNIST", False, limit=0, progress=False)


def _separable(n: int = 60) -> FrameSet:
    """Class 0 fires on the left half of the sensor, class 1 on the right half."""
    labels = torch.arange(n) % 2
    frames = torch.zeros(n, 4, 2, 4, 4, dtype=torch.uint8)
    frames[labels == 0, :, :, :, :2] = 1
    frames[labels == 1, :, :, :, 2:] = 1
    return FrameSet(frames, labels, "toy")


def test_training_learns_a_separable_task():
    data = _separable()
    model = SpikingMLP(32, 16, 2)
    opt = torch.optim.Adam(model.parameters(), lr=0.01)
    gen = torch.Generator().manual_seed(0)
    losses = [
        train_epoch(model, data, opt, batch_size=10, generator=gen, progress=False)
        for _ in range(15)
    ]
    assert losses[-1] < 0.5 * losses[0]
    assert evaluate(model, data) == 1.0


def test_evaluate_applies_the_transform():
    data = _separable()
    model = SpikingMLP(32, 16, 2)
    seen = []

    def blank(frames: torch.Tensor) -> torch.Tensor:
        seen.append(frames.shape)
        return torch.zeros_like(frames)

    acc = evaluate(model, data, transform=blank, batch_size=25)
    assert [s[0] for s in seen] == [25, 25, 10]
    assert acc == 0.5  # blank input: one constant prediction, right for half the samples
