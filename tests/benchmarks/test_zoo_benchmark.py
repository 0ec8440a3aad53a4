"""The zoo runner: seeds, resumable run files, the summary rows and the docs table."""

import importlib.util
import json
import sys
from pathlib import Path

import pytest
import torch

SCRIPT = Path(__file__).resolve().parents[2] / "benchmarks" / "zoo.py"


@pytest.fixture(scope="module")
def zoo():
    spec = importlib.util.spec_from_file_location("zoo_benchmark", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up
    spec.loader.exec_module(module)
    return module


def test_seed_ranges_and_lists(zoo):
    assert zoo.parse_seeds("0-3") == [0, 1, 2, 3]
    assert zoo.parse_seeds("1,4-5") == [1, 4, 5]
    with pytest.raises(ValueError, match="cannot read seeds"):
        zoo.parse_seeds("a")


def test_bad_seeds_are_a_usage_error(zoo, capsys):
    with pytest.raises(SystemExit) as err:
        zoo.main(["--seeds", "3-1", "--summary-only"])
    assert err.value.code == 2
    assert "empty seed range" in capsys.readouterr().err


def fake_run(model: str, split: str, seed: int, acc: float) -> dict:
    return {
        "model": model, "label": model.upper(), "dataset": "Cora", "split": split,
        "seed": seed, "T": 5, "test_acc": acc, "val_acc": acc, "epoch_s": 0.5,
        "firing_rate": 0.1, "energy_uj": 2.0,
    }  # fmt: skip


def test_summary_rows_average_the_seeds_of_each_model_dataset_and_split(zoo, tmp_path):
    runs = [("gcsnn", "random", 0, 0.8), ("gcsnn", "random", 1, 0.7), ("gcn", "public", 0, 0.9)]
    for model, split, seed, acc in runs:
        path = tmp_path / zoo.run_name(model, "Cora", split, seed)
        path.write_text(json.dumps(fake_run(model, split, seed, acc)))
    rows = zoo.write_summary(tmp_path, tmp_path / "summary.json")
    assert [(r["model"], r["split"]) for r in rows] == [("gcn", "public"), ("gcsnn", "random")]
    gcsnn = rows[1]
    assert gcsnn["seeds"] == [0, 1] and gcsnn["acc_mean"] == pytest.approx(0.75)
    assert gcsnn["acc_std"] == pytest.approx(0.0707107, rel=1e-5)
    assert {"firing_rate", "energy_uj", "epoch_s", "T", "dataset"} <= set(gcsnn)
    table = zoo.markdown_table(rows)
    assert "| GCSNN | 5 | Cora | random | 75.00 ± 7.07 | 2 | 0.100 | 2.0 | 0.50 |" in table
    saved = json.loads((tmp_path / "summary.json").read_text())["rows"]
    assert saved == rows


def test_reproduction_table_sets_random_rows_beside_sgnnbench(zoo):
    rows = [
        {**fake_run("gcsnn", "random", 0, 0.79), "acc_mean": 0.79, "acc_std": 0.01, "seeds": [0]},
        {**fake_run("gcsnn", "public", 0, 0.81), "acc_mean": 0.81, "acc_std": 0.0, "seeds": [0]},
    ]
    table = zoo.reproduction_table(rows).splitlines()
    assert len(table) == 3  # header, rule, the random row only
    assert table[2] == "| GCSNN | 5 | Cora | 80.00 | 79.00 ± 1.00 | 1 | -1.00 |"


def test_a_model_with_its_own_loop_is_run_through_fit(zoo, monkeypatch):
    from torch_geometric.data import Data

    from spikegraph.models import TrainResult
    from spikegraph.tasks.node_classification import Config

    calls = []

    def fit(data, *, seed, epochs):
        calls.append((data.name, seed, epochs))
        return TrainResult(0.6, 0.55, 0.12, 0.3, best_epoch=4, epochs_run=9, energy_uj=1.5)

    recipe = zoo.Recipe("Toy", None, Config(model="toy", T=3, epochs=7), "nowhere", fit=fit)
    monkeypatch.setitem(zoo.REGISTRY, "toy", recipe)
    graph = Data(x=torch.zeros(4, 2), edge_index=torch.empty(2, 0, dtype=torch.long))
    graph.name = "Cora"
    record = zoo.one_run("toy", graph, 2, "public", 5, progress=False, epochs=11)
    assert calls == [("Cora", 5, 11)]  # the seed and the --epochs override reach the loop
    assert (record["test_acc"], record["val_acc"], record["best_epoch"]) == (0.55, 0.6, 4)
    assert (record["firing_rate"], record["energy_uj"], record["epoch_s"]) == (0.12, 1.5, 0.3)
    assert (record["model"], record["T"], record["seed"]) == ("toy", 3, 5)


def test_every_peer_of_the_zoo_is_in_the_registry(zoo):
    assert {"spikinggcn", "gcsnn", "gasnn", "spikegcl", "spikegt", "gcn"} <= set(zoo.REGISTRY)
    for name, recipe in zoo.REGISTRY.items():
        assert (recipe.build is None) == (recipe.fit is not None), name
