"""Bin event recordings into frames of event counts."""

from __future__ import annotations

import numpy as np
import torch
from torch import Tensor

from spikegraph.events.io import NMNIST_SENSOR_SIZE

__all__ = ["to_frames", "check_binning", "BINNINGS"]

BINNINGS = ("time", "count")


def to_frames(
    events: np.ndarray,
    n_frames: int = 10,
    *,
    by: str = "time",
    sensor_size: tuple[int, int, int] = NMNIST_SENSOR_SIZE,
) -> Tensor:
    """Count the events of a recording in ``n_frames`` bins.

    Args:
        events: Structured array with fields ``x``, ``y``, ``t`` (µs) and ``p`` (0 or 1).
        n_frames: Number of frames ``T`` (at least 1).
        by: ``"time"``: equal time windows over the recording's span (first to last
            timestamp); ``"count"``: equal numbers of events per frame (in time order; the
            counts differ by at most one).
        sensor_size: ``(width, height, polarities)``.

    Returns:
        A float32 tensor ``[T, polarities, height, width]`` of event counts; channel 0 holds
        OFF (``p = 0``) events, channel 1 ON. It sums to ``len(events)``. An empty recording
        gives all zeros.

    Raises:
        ValueError: ``n_frames < 1``, an unknown ``by``, or events outside the sensor.
    """
    check_binning(n_frames, by)
    width, height, n_pol = sensor_size
    x, y, p = (events[name].astype(np.int64) for name in "xyp")
    _check_inside(x, y, p, sensor_size)
    frame = _frame_index(events["t"].astype(np.int64), n_frames, by)
    flat = ((frame * n_pol + p) * height + y) * width + x
    counts = np.bincount(flat, minlength=n_frames * n_pol * height * width)
    return torch.from_numpy(counts.astype(np.float32)).view(n_frames, n_pol, height, width)


def check_binning(n_frames: int, by: str) -> None:
    """Raise ``ValueError`` unless ``n_frames`` is a positive int and ``by`` is known."""
    if isinstance(n_frames, bool) or not isinstance(n_frames, int) or n_frames < 1:
        raise ValueError(f"n_frames must be a positive integer, got {n_frames!r}")
    if by not in BINNINGS:
        raise ValueError(f"by must be one of {BINNINGS}, got {by!r}")


def _frame_index(t: np.ndarray, n_frames: int, by: str) -> np.ndarray:
    n = len(t)
    if n == 0:
        return np.zeros(0, dtype=np.int64)
    if by == "count":
        rank = np.empty(n, dtype=np.int64)
        rank[np.argsort(t, kind="stable")] = np.arange(n)  # files are time-ordered; be safe
        return rank * n_frames // n
    span = int(t.max() - t.min()) + 1  # +1 puts the last event inside the last window
    return (t - t.min()) * n_frames // span


def _check_inside(
    x: np.ndarray, y: np.ndarray, p: np.ndarray, sensor_size: tuple[int, int, int]
) -> None:
    width, height, n_pol = sensor_size
    for name, values, size in (("x", x, width), ("y", y, height), ("p", p, n_pol)):
        if values.size and (values.min() < 0 or values.max() >= size):
            raise ValueError(
                f"event {name} must lie in [0, {size - 1}] for sensor size {sensor_size}, "
                f"got values in [{values.min()}, {values.max()}]"
            )
