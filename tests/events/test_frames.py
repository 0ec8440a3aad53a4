import numpy as np
import pytest
import torch

from spikegraph.events import EVENT_DTYPE, make_events, read_nmnist_bin, to_frames

from .conftest import random_events


@pytest.mark.parametrize("by", ["time", "count"])
def test_frames_shape_dtype_and_total(by):
    events = random_events(3000)
    frames = to_frames(events, 7, by=by)
    assert frames.shape == (7, 2, 34, 34) and frames.dtype == torch.float32
    assert frames.sum().item() == 3000


@pytest.mark.parametrize("by", ["time", "count"])
def test_real_recording_frames_sum_to_its_event_count(shared_datasets, by):
    frames = to_frames(read_nmnist_bin(shared_datasets / "NMNIST/Train/0/00002.bin"), by=by)
    assert frames.shape == (10, 2, 34, 34) and frames.sum().item() == 5028


def test_channel_0_is_off_and_channel_1_is_on():
    frames = to_frames(make_events([3, 5], [4, 6], [0, 10], [0, 1]), 1)
    assert frames[0, 0, 4, 3] == 1 and frames[0, 1, 6, 5] == 1 and frames.sum() == 2


def test_time_binning_uses_equal_windows_over_the_recording():
    t = np.arange(1000, 2000)  # one event per µs, starting late: windows follow the data
    frames = to_frames(make_events(t % 34, t % 34, t, t % 2), 10, by="time")
    assert frames.sum(dim=(1, 2, 3)).tolist() == [100.0] * 10


def test_count_binning_puts_equal_counts_in_each_frame():
    t = np.concatenate([np.zeros(95, int), np.arange(100, 105)])  # a burst, then a trickle
    frames = to_frames(make_events(np.zeros(100), np.zeros(100), t, np.ones(100)), 3, by="count")
    assert sorted(frames.sum(dim=(1, 2, 3)).tolist()) == [33.0, 33.0, 34.0]


def test_empty_recording_gives_zero_frames():
    frames = to_frames(np.zeros(0, dtype=EVENT_DTYPE), 4)
    assert frames.shape == (4, 2, 34, 34) and frames.abs().sum() == 0


@pytest.mark.parametrize("n_frames", [0, -1, 2.5, True])
def test_n_frames_must_be_a_positive_int(n_frames):
    with pytest.raises(ValueError, match="n_frames"):
        to_frames(random_events(10), n_frames)


def test_unknown_binning_is_rejected():
    with pytest.raises(ValueError, match="by must be one of"):
        to_frames(random_events(10), 2, by="space")


def test_events_outside_the_sensor_are_rejected():
    with pytest.raises(ValueError, match=r"event y must lie in \[0, 33\]"):
        to_frames(make_events([1], [34], [0], [1]))
