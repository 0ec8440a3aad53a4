from collections import Counter

import numpy as np
import pytest
import torch

from spikegraph.events import NMNIST, read_nmnist_bin, write_nmnist_bin

from .conftest import random_events

TRAIN_CLASS_COUNTS = [97, 116, 99, 93, 105, 92, 94, 117, 87, 100]  # shared/datasets/README.md


def test_real_subset_lengths_and_item_shapes(shared_datasets):
    train, test = NMNIST(shared_datasets / "NMNIST"), NMNIST(shared_datasets / "NMNIST", False)
    assert (len(train), len(test)) == (1000, 100)
    frames, label = train[0]
    assert frames.shape == (10, 2, 34, 34) and frames.dtype == torch.float32
    assert isinstance(label, int) and label == 0
    assert test[-1][1] == 9


def test_labels_are_the_folder_names(shared_datasets):
    train = NMNIST(shared_datasets / "NMNIST")
    assert [Counter(train.labels)[c] for c in range(10)] == TRAIN_CLASS_COUNTS
    assert all(int(f.parent.name) == y for f, y in zip(train.files, train.labels, strict=True))


def test_files_are_sorted_by_label_then_number(tmp_path):
    for label, index in [(1, 3), (0, 10), (0, 9), (1, 1)]:
        (tmp_path / "Train" / str(label)).mkdir(parents=True, exist_ok=True)
        write_nmnist_bin(tmp_path / "Train" / str(label) / f"{index}.bin", random_events(5))
    files = NMNIST(tmp_path).files
    assert [f"{f.parent.name}/{f.stem}" for f in files] == ["0/9", "0/10", "1/1", "1/3"]


def test_events_returns_the_raw_recording(shared_datasets):
    test = NMNIST(shared_datasets / "NMNIST", train=False)
    events = test.events(3)
    assert np.array_equal(events, read_nmnist_bin(test.files[3]))
    assert test[3][0].sum().item() == len(events)


def test_missing_split_folder_is_a_clear_error(tmp_path):
    with pytest.raises(FileNotFoundError, match="Train does not exist"):
        NMNIST(tmp_path)


def test_empty_split_folder_is_a_clear_error(tmp_path):
    (tmp_path / "Test" / "3").mkdir(parents=True)
    with pytest.raises(FileNotFoundError, match="no <label>/<index>.bin"):
        NMNIST(tmp_path, train=False)


def test_transform_sees_a_copy_of_the_cached_frames(tmp_path):
    (tmp_path / "Train" / "4").mkdir(parents=True)
    write_nmnist_bin(tmp_path / "Train" / "4" / "00001.bin", random_events(50))
    ds = NMNIST(tmp_path, n_frames=3, by="count", transform=lambda x: x.mul_(0), cache=True)
    assert ds[0][0].sum() == 0
    assert ds._cache[0].sum() == 50  # the in-place transform did not reach the cache


def test_invalid_binning_fails_at_construction(shared_datasets):
    with pytest.raises(ValueError, match="n_frames"):
        NMNIST(shared_datasets / "NMNIST", n_frames=0)
