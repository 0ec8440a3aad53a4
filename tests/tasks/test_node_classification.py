import json
import runpy
import sys
from pathlib import Path

import pytest

from spikegraph.datasets import load_planetoid
from spikegraph.tasks.node_classification import Config, run_experiment

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


@pytest.fixture(scope="module")
def cora(tmp_path_factory):
    return load_planetoid("Cora", cache_dir=tmp_path_factory.mktemp("cache"))


@pytest.mark.slow
def test_short_training_on_cora_beats_a_graph_blind_floor(cora):
    # Floor 0.70: a model that learns nothing predicts the majority class (31.9 % of the test
    # nodes) and an MLP that ignores the edges reaches about 57-59 % on this split; so 70 % needs
    # both working training and working message passing. Measured: 76.7 % for this setting.
    cfg = Config(epochs=30, T=4, hidden=32, runs=1)
    report = run_experiment(cfg, cora[0], cora.num_classes, progress=False)
    assert report["test_acc_mean"] >= 0.70
    assert 0.0 < report["firing_rate_mean"] < 1.0


def test_gcn_baseline_runs_through_the_same_pipeline(cora):
    report = run_experiment(
        Config(model="gcn", epochs=3), cora[0], cora.num_classes, progress=False
    )
    assert len(report["test_acc"]) == 1 and "firing_rate_mean" not in report


@pytest.mark.parametrize("script,dataset", [("cora.py", "Cora"), ("citeseer.py", "CiteSeer")])
def test_example_scripts_run_end_to_end(script, dataset, tmp_path, monkeypatch):
    out = tmp_path / "report.json"
    monkeypatch.setenv("SPIKEGRAPH_CACHE", str(tmp_path / "cache"))
    argv = ["--epochs", "2", "--T", "2", "--runs", "2", "--json", str(out), "--no-progress"]
    monkeypatch.setattr(sys, "argv", [script, *argv])
    runpy.run_path(str(EXAMPLES / script), run_name="__main__")
    report = json.loads(out.read_text())
    for key in (
        "config",
        "test_acc",
        "test_acc_mean",
        "test_acc_std",
        "firing_rate_mean",
        "sops",
        "energy_uj",
        "ann_energy_uj",
        "wall_time_s",
    ):
        assert key in report, key
    assert len(report["test_acc"]) == 2 and 0 <= report["firing_rate_mean"] <= 1
    assert report["config"]["dataset"] == dataset


def test_scaling_none_flag_turns_scaling_off(tmp_path, monkeypatch):
    from spikegraph.tasks.node_classification import parse_args

    cfg, _ = parse_args(["--scaling", "none"], "Cora")
    assert cfg.scaling is None
