"""peer_accuracy: the zoo's splits handed to SGNNBench's trainer, and the summary (its flag
check is beside peer_speed's)."""

import importlib.util
import json
import sys
from pathlib import Path

import pytest
import torch

from spikegraph.datasets import load_planetoid, with_class_random_split

BENCH = Path(__file__).resolve().parents[2] / "benchmarks"


@pytest.fixture(scope="module")
def peer_accuracy():
    sys.path.insert(0, str(BENCH))  # it imports its neighbours peer_speed and zoo
    spec = importlib.util.spec_from_file_location(
        "peer_accuracy_benchmark", BENCH / "peer_accuracy.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_their_trainer_gets_the_zoo_split_of_the_seed(peer_accuracy):
    data = load_planetoid("Cora")[0]
    for seed in (0, 3):
        train, val, test = peer_accuracy.our_split("Cora", data, seed)
        zoo = with_class_random_split(data, seed=seed)
        for index, mask in ((train, zoo.train_mask), (val, zoo.val_mask), (test, zoo.test_mask)):
            assert torch.equal(index, mask.nonzero().view(-1))
    assert not torch.equal(peer_accuracy.our_split("Cora", data, 0)[0], train)


def test_summary_pools_seeds_per_model_and_dataset(peer_accuracy):
    runs = [
        {"model": "spikegcl", "dataset": "Cora", "seed": s, "test_acc": a}
        for s, a in ((1, 0.70), (0, 0.80))
    ] + [{"model": "spikegt", "dataset": "Cora", "seed": 0, "test_acc": 0.5}]
    rows = {r["model"]: r for r in peer_accuracy.summarize(runs)}
    gcl = rows["spikegcl"]
    assert gcl["acc_mean"] == pytest.approx(0.75) and gcl["seeds"] == [0, 1]
    assert gcl["acc_std"] == pytest.approx(0.0707107, rel=1e-5)
    assert gcl["sgnnbench_table13"] == pytest.approx(80.43)
    assert rows["spikegt"]["acc_std"] == 0.0


def test_an_interrupted_write_leaves_the_previous_report_whole(
    peer_accuracy, tmp_path, monkeypatch
):
    path = tmp_path / "peer.json"
    peer_accuracy.write_run(path, {"runs": [1]})
    peer_accuracy.write_run(path, {"runs": [1, 2]})
    assert json.loads(path.read_text()) == {"runs": [1, 2]}

    def half_then_fail(self, text, *args, **kwargs):  # a write cut off (disk full, a kill)
        with open(self, "w") as f:
            f.write(text[: len(text) // 2])
        raise OSError("no space left on device")

    monkeypatch.setattr(Path, "write_text", half_then_fail)
    with pytest.raises(OSError):
        peer_accuracy.write_run(path, {"runs": [1, 2, 3]})
    monkeypatch.undo()
    assert json.loads(path.read_text()) == {"runs": [1, 2]}
