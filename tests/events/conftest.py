"""Helpers for the event-data tests: synthetic recordings and a tiny MNIST in idx format."""

from __future__ import annotations

import struct
from pathlib import Path

import numpy as np
import pytest

from spikegraph.events import make_events


def random_events(n: int, seed: int = 0, size: int = 34, t_max: int = 300_000) -> np.ndarray:
    """``n`` events spread over a ``size`` x ``size`` sensor, sorted by time."""
    rng = np.random.default_rng(seed)
    t = np.sort(rng.integers(0, t_max, size=n))
    return make_events(rng.integers(0, size, n), rng.integers(0, size, n), t, rng.integers(0, 2, n))


def write_idx(path: Path, array: np.ndarray) -> None:
    """An idx file of unsigned bytes: magic 0x0800 + ndim, big-endian dimensions, data."""
    header = struct.pack(">HBB", 0, 0x08, array.ndim) + struct.pack(f">{array.ndim}I", *array.shape)
    path.write_bytes(header + array.astype(np.uint8).tobytes())


@pytest.fixture
def tiny_mnist(tmp_path: Path) -> Path:
    """A fake MNIST root: 6 train and 4 test digits (filled squares of different sizes)."""
    root = tmp_path / "mnist"
    root.mkdir()
    for prefix, n in (("train", 6), ("t10k", 4)):
        images = np.zeros((n, 28, 28), dtype=np.uint8)
        for i in range(n):
            images[i, 8 : 14 + i, 9 : 16 + i] = 255
        write_idx(root / f"{prefix}-images-idx3-ubyte", images)
        write_idx(root / f"{prefix}-labels-idx1-ubyte", np.arange(n) % 3)
    return root
