"""SGNNBench's random split as zoo_spike_runs draws it, and peer_speed's flag checks."""

import importlib.util
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from torch_geometric.data import Data

BENCH = Path(__file__).resolve().parents[2] / "benchmarks"


def load(name: str):
    spec = importlib.util.spec_from_file_location(name, BENCH / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_random_split_has_20_per_class_500_val_1000_test_disjoint_and_seeded():
    runs = load("zoo_spike_runs")
    y = torch.arange(3).repeat_interleave(600)  # 3 classes of 600 nodes
    data = Data(x=torch.zeros(1800, 2), y=y)
    split = runs.class_random_split(data, seed=3)
    assert torch.bincount(y[split.train_mask]).tolist() == [20, 20, 20]
    assert int(split.val_mask.sum()) == 500 and int(split.test_mask.sum()) == 1000
    assert not (split.train_mask & split.val_mask).any()
    assert not ((split.train_mask | split.val_mask) & split.test_mask).any()
    again, other = runs.class_random_split(data, seed=3), runs.class_random_split(data, seed=4)
    assert torch.equal(again.test_mask, split.test_mask)
    assert not torch.equal(other.test_mask, split.test_mask)
    assert not hasattr(data, "train_mask")  # the input graph is left alone


@pytest.mark.slow  # a subprocess that imports torch and PyG
def test_peer_speed_refuses_a_checkout_without_its_package(tmp_path):
    proc = subprocess.run(
        [sys.executable, str(BENCH / "peer_speed.py"), "--peer-root", str(tmp_path)],
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 2
    assert "has no sgnnbenchmark/ folder" in proc.stderr
