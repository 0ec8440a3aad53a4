"""Summary statistics of event recordings, to compare simulated with real N-MNIST data."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from spikegraph.events.io import NMNIST_SENSOR_SIZE

__all__ = ["summary_stats"]


def summary_stats(
    recordings: Sequence[np.ndarray],
    sensor_size: tuple[int, int, int] = NMNIST_SENSOR_SIZE,
) -> dict[str, float]:
    """Per-sample statistics of a set of recordings, averaged over the set.

    Args:
        recordings: Structured event arrays (fields ``x``, ``y``, ``t`` in µs, ``p``).
        sensor_size: ``(width, height, polarities)``, for the fraction of active pixels.

    Returns:
        A dict of floats:

        - ``n_samples``;
        - ``events_mean``, ``events_std``: events per sample;
        - ``on_fraction``: mean share of ON (``p = 1``) events in a sample;
        - ``duration_ms_mean``, ``duration_ms_std``: last minus first timestamp, in ms;
        - ``std_x_px``, ``std_y_px``: mean per-sample standard deviation of x and y, in pixels;
        - ``bbox_w_px``, ``bbox_h_px``: mean 2nd-to-98th-percentile extent of x and y, in pixels;
        - ``active_fraction``: mean share of sensor pixels with at least one event.

    Raises:
        ValueError: ``recordings`` is empty.
    """
    if len(recordings) == 0:
        raise ValueError("summary_stats needs at least one recording")
    rows = np.array([_one(ev, sensor_size) for ev in recordings])
    counts = rows[:, 0]
    means = rows.mean(axis=0)
    return {
        "n_samples": float(len(recordings)),
        "events_mean": float(counts.mean()),
        "events_std": float(counts.std()),
        "on_fraction": float(means[1]),
        "duration_ms_mean": float(means[2]),
        "duration_ms_std": float(rows[:, 2].std()),
        "std_x_px": float(means[3]),
        "std_y_px": float(means[4]),
        "bbox_w_px": float(means[5]),
        "bbox_h_px": float(means[6]),
        "active_fraction": float(means[7]),
    }


def _one(events: np.ndarray, sensor_size: tuple[int, int, int]) -> list[float]:
    width, height, _ = sensor_size
    n = len(events)
    if n == 0:
        return [0.0, float("nan"), 0.0, 0.0, 0.0, 0.0, 0.0, 0.0]
    x, y = events["x"].astype(np.int64), events["y"].astype(np.int64)
    lo_x, hi_x = np.percentile(x, [2, 98])
    lo_y, hi_y = np.percentile(y, [2, 98])
    active = np.unique(y * width + x).size / (width * height)
    duration_ms = (events["t"].max() - events["t"].min()) / 1000.0
    return [n, events["p"].mean(), duration_ms, x.std(), y.std(), hi_x - lo_x, hi_y - lo_y, active]
