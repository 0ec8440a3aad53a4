import os

import numpy as np
import pytest

from spikegraph.events import (
    SimulatorParams,
    generate_nmnist,
    read_idx,
    read_nmnist_bin,
    sample_rng,
    simulate_recording,
    summary_stats,
    write_nmnist_bin,
)
from spikegraph.events.simulator import main, saccade_offsets

from .conftest import random_events


def digit() -> np.ndarray:
    image = np.zeros((28, 28), dtype=np.uint8)
    image[6:22, 12:16] = 255  # a "1"
    image[6:9, 9:16] = 200
    return image


def test_same_seed_gives_identical_bytes(tmp_path):
    for name in ("a", "b"):
        write_nmnist_bin(tmp_path / f"{name}.bin", simulate_recording(digit(), rng=7))
    assert (tmp_path / "a.bin").read_bytes() == (tmp_path / "b.bin").read_bytes()


def test_different_seeds_give_different_recordings():
    a, b = simulate_recording(digit(), rng=1), simulate_recording(digit(), rng=2)
    assert len(a) != len(b) or not np.array_equal(a, b)


def test_recording_is_valid_n_mnist():
    events = simulate_recording(digit(), rng=np.random.default_rng(0))
    assert len(events) > 100
    assert np.all(np.diff(events["t"]) >= 0) and events["t"].min() >= 0
    assert events["x"].max() <= 33 and events["y"].max() <= 33
    assert set(np.unique(events["p"])) == {0, 1}


def test_saccades_trace_a_closed_triangle_in_about_300_ms():
    params = SimulatorParams()
    t_us, offsets = saccade_offsets(params)
    assert np.allclose(offsets[0], offsets[-1]) and 290_000 <= t_us[-1] <= 340_000
    for end_ms, corner in zip((100, 200), params.vertices_px[1:], strict=True):
        assert np.allclose(offsets[t_us == end_ms * 1000][0], corner)


def test_blank_image_gives_only_background_noise():
    events = simulate_recording(np.zeros((28, 28)), rng=0)
    expected = SimulatorParams().noise_rate_hz * 34 * 34 * 0.31
    assert abs(len(events) - expected) < 4 * np.sqrt(expected)


def test_statistics_match_the_real_subset(shared_datasets):
    images = read_idx(shared_datasets / "MNIST/raw/train-images-idx3-ubyte")
    files = sorted((shared_datasets / "NMNIST/Train").glob("*/*.bin"), key=lambda p: int(p.stem))
    files = files[:20]
    real = summary_stats([read_nmnist_bin(f) for f in files])
    sim = summary_stats(
        [
            simulate_recording(images[int(f.stem) - 1], rng=sample_rng(0, "train", int(f.stem) - 1))
            for f in files
        ]
    )
    assert sim["events_mean"] == pytest.approx(real["events_mean"], rel=0.35)
    assert 0.4 <= sim["on_fraction"] <= 0.6
    assert sim["duration_ms_mean"] == pytest.approx(real["duration_ms_mean"], rel=0.1)
    assert sim["std_x_px"] == pytest.approx(real["std_x_px"], rel=0.2)
    assert sim["std_y_px"] == pytest.approx(real["std_y_px"], rel=0.2)
    assert sim["active_fraction"] == pytest.approx(real["active_fraction"], rel=0.25)


def test_generate_writes_the_original_layout_with_1_based_indices(tiny_mnist, tmp_path):
    counts = generate_nmnist(tiny_mnist, tmp_path / "out", split="test", progress=False)
    assert counts == {"written": 4, "skipped": 0}
    files = sorted(p.relative_to(tmp_path / "out").as_posix() for p in tmp_path.rglob("*.bin"))
    assert files == ["Test/0/00001.bin", "Test/0/00004.bin", "Test/1/00002.bin", "Test/2/00003.bin"]


def test_generated_file_is_the_seeded_simulation(tiny_mnist, tmp_path):
    generate_nmnist(tiny_mnist, tmp_path, split="train", limit=3, seed=5, progress=False)
    image = read_idx(tiny_mnist / "train-images-idx3-ubyte")[2]
    expected = simulate_recording(image, rng=sample_rng(5, "train", 2))
    assert np.array_equal(read_nmnist_bin(tmp_path / "Train/2/00003.bin"), expected)


def test_generate_resumes_without_redoing_complete_files(tiny_mnist, tmp_path):
    generate_nmnist(tiny_mnist, tmp_path, split="both", progress=False)
    before = {p: p.read_bytes() for p in tmp_path.rglob("*.bin")}
    mtime = os.stat(tmp_path / "Train/0/00001.bin").st_mtime_ns
    (tmp_path / "Train/1/00005.bin").unlink()
    counts = generate_nmnist(tiny_mnist, tmp_path, split="both", progress=False)
    assert counts == {"written": 1, "skipped": 9}
    assert os.stat(tmp_path / "Train/0/00001.bin").st_mtime_ns == mtime
    assert {p: p.read_bytes() for p in tmp_path.rglob("*.bin")} == before


def test_two_workers_write_the_same_bytes(tiny_mnist, tmp_path):
    generate_nmnist(tiny_mnist, tmp_path / "one", split="train", progress=False)
    generate_nmnist(tiny_mnist, tmp_path / "two", split="train", workers=2, progress=False)
    for path in (tmp_path / "one").rglob("*.bin"):
        assert (
            path.read_bytes()
            == (tmp_path / "two" / path.relative_to(tmp_path / "one")).read_bytes()
        )


def test_missing_mnist_files_are_named(tmp_path):
    with pytest.raises(FileNotFoundError, match="t10k-images-idx3-ubyte"):
        generate_nmnist(tmp_path, tmp_path / "out", split="test", progress=False)


def test_command_line_writes_the_requested_number(tiny_mnist, tmp_path, capsys):
    main(["--mnist-root", str(tiny_mnist), "--out", str(tmp_path / "o"), "--limit", "2",
          "--split", "train", "--seed", "3", "--no-progress"])  # fmt: skip
    assert len(list((tmp_path / "o/Train").rglob("*.bin"))) == 2
    assert "written 2" in capsys.readouterr().out


def test_summary_stats_of_known_recordings():
    events = random_events(400, seed=1)
    events["t"] = np.linspace(0, 250_000, 400).astype(int)
    events["p"] = np.arange(400) % 4 == 0
    stats = summary_stats([events, events[:200]])
    assert stats["events_mean"] == 300 and stats["events_std"] == 100
    assert stats["on_fraction"] == pytest.approx(0.25)
    assert stats["duration_ms_mean"] == pytest.approx((250 + 124.687) / 2, abs=0.01)
    assert 0 < stats["active_fraction"] < 400 / (34 * 34)


def test_summary_stats_needs_recordings():
    with pytest.raises(ValueError, match="at least one"):
        summary_stats([])
