import struct

import numpy as np
import pytest

from spikegraph.events import (
    NMNIST_SENSOR_SIZE,
    EventFileError,
    IdxFileError,
    make_events,
    read_idx,
    read_nmnist_bin,
    write_nmnist_bin,
)

from .conftest import random_events, write_idx


def test_write_then_read_gives_the_same_events(tmp_path):
    events = random_events(1000, size=256, t_max=2**23)
    write_nmnist_bin(tmp_path / "a.bin", events)
    back = read_nmnist_bin(tmp_path / "a.bin")
    assert back.dtype.names == ("x", "y", "t", "p")
    assert all(np.array_equal(back[f], events[f]) for f in "xytp")


def test_encoding_follows_the_40_bit_layout(tmp_path):
    write_nmnist_bin(tmp_path / "a.bin", make_events([10], [30], [937], [1]))
    assert (tmp_path / "a.bin").read_bytes() == bytes([0x0A, 0x1E, 0x80, 0x03, 0xA9])


def test_real_recording_has_5028_events_on_the_34x34_sensor(shared_datasets):
    events = read_nmnist_bin(shared_datasets / "NMNIST/Train/0/00002.bin")
    assert len(events) == 5028
    assert events["x"].min() >= 0 and events["x"].max() <= 33
    assert events["y"].min() >= 0 and events["y"].max() <= 33
    assert np.all(np.diff(events["t"]) >= 0)


def test_real_recording_first_event_decodes_by_hand(shared_datasets):
    # The file starts 0a 1e 80 03 a9: x=10, y=30, polarity bit set, t=0x0003a9=937 µs.
    first = read_nmnist_bin(shared_datasets / "NMNIST/Train/0/00002.bin")[0]
    assert (first["x"], first["y"], first["t"], first["p"]) == (10, 30, 937, 1)


def test_real_recording_is_rewritten_byte_for_byte(shared_datasets, tmp_path):
    source = shared_datasets / "NMNIST/Test/0/00004.bin"
    write_nmnist_bin(tmp_path / "copy.bin", read_nmnist_bin(source))
    assert (tmp_path / "copy.bin").read_bytes() == source.read_bytes()


def test_truncated_file_error_names_the_file(tmp_path):
    path = tmp_path / "truncated_sample.bin"
    path.write_bytes(bytes(12))
    with pytest.raises(EventFileError, match="truncated_sample.bin.*multiple of 5"):
        read_nmnist_bin(path)


def test_empty_file_is_rejected_unless_allowed(tmp_path):
    path = tmp_path / "empty.bin"
    path.write_bytes(b"")
    with pytest.raises(EventFileError, match="empty.bin"):
        read_nmnist_bin(path)
    assert len(read_nmnist_bin(path, allow_empty=True)) == 0


def test_sensor_check_names_the_file(tmp_path):
    path = tmp_path / "wide.bin"
    write_nmnist_bin(path, make_events([40], [3], [5], [0]))
    assert read_nmnist_bin(path)["x"][0] == 40  # no check requested
    with pytest.raises(EventFileError, match="wide.bin.*34x34"):
        read_nmnist_bin(path, sensor_size=NMNIST_SENSOR_SIZE)


@pytest.mark.parametrize("field,value", [("x", 256), ("y", -1), ("t", 2**23), ("t", -5), ("p", 2)])
def test_write_rejects_values_the_format_cannot_hold(tmp_path, field, value):
    events = make_events([1], [1], [1], [1])
    events[field] = value
    with pytest.raises(ValueError, match=f"'{field}'"):
        write_nmnist_bin(tmp_path / "bad.bin", events)
    assert not list(tmp_path.iterdir())


def test_write_leaves_only_the_finished_file(tmp_path):
    write_nmnist_bin(tmp_path / "a.bin", random_events(10))
    assert [p.name for p in tmp_path.iterdir()] == ["a.bin"]


def test_read_idx_real_mnist_labels_and_images(shared_datasets):
    raw = shared_datasets / "MNIST/raw"
    labels = read_idx(raw / "train-labels-idx1-ubyte")
    assert labels.shape == (60000,) and labels.dtype == np.uint8 and labels[0] == 5
    images = read_idx(raw / "t10k-images-idx3-ubyte")
    assert images.shape == (10000, 28, 28) and images.max() == 255


def test_read_idx_decodes_big_endian_integers(tmp_path):
    values = np.array([[1, -2], [70000, 3]], dtype=">i4")
    header = struct.pack(">HBB", 0, 0x0C, 2) + struct.pack(">2I", 2, 2)
    (tmp_path / "a.idx").write_bytes(header + values.tobytes())
    assert np.array_equal(read_idx(tmp_path / "a.idx"), values.astype(np.int32))


def test_read_idx_size_mismatch_names_the_file(tmp_path):
    path = tmp_path / "short-labels-idx1-ubyte"
    write_idx(path, np.arange(10))
    path.write_bytes(path.read_bytes()[:-3])
    with pytest.raises(IdxFileError, match="short-labels-idx1-ubyte.*7 data bytes"):
        read_idx(path)


def test_read_idx_bad_magic_names_the_file(tmp_path):
    path = tmp_path / "not-idx"
    path.write_bytes(b"GIF89a....")
    with pytest.raises(IdxFileError, match="not-idx.*not an idx file"):
        read_idx(path)
