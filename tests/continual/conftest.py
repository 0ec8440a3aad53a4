"""Tiny hand-made data and models for the continual-learning tests."""

from __future__ import annotations

import pytest
import torch

from spikegraph.events.training import FrameSet
from spikegraph.models import SpikingMLP


def tiny_frames(n: int = 48, seed: int = 0) -> FrameSet:
    """``[n, 4, 2, 3, 3]`` frames, three classes, each firing mostly in its own pixels."""
    gen = torch.Generator().manual_seed(seed)
    labels = torch.arange(n) % 3
    frames = (torch.rand(n, 4, 2, 3, 3, generator=gen) < 0.1).to(torch.uint8)
    flat = frames.view(n, 4, 18)
    for c in range(3):
        flat[labels == c, :, 6 * c : 6 * c + 6] = 1
    return FrameSet(frames, labels, "tiny")


def tiny_model(scaling: str | None = "tent", hidden: int = 20) -> SpikingMLP:
    torch.manual_seed(0)
    return SpikingMLP(18, hidden, 3, scaling=scaling)


@pytest.fixture
def tiny() -> FrameSet:
    return tiny_frames()
