import json
import runpy
import sys
from pathlib import Path

import pytest
import torch

from spikegraph.datasets.ogb import load_ogb_node, ogb_evaluator
from spikegraph.datasets.synthetic import write_arxiv_like
from spikegraph.tasks.node_classification import Config
from spikegraph.tasks.ogb_node import evaluate, main, ogb_node_data, run_ogb_experiment
from spikegraph.testing import homophilous_graph

pytest.importorskip("ogb")

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "ogbn_arxiv.py"


@pytest.fixture(autouse=True)
def _restore_threads():
    """The runs below use one thread (--threads 1); give the next tests their count back."""
    threads = torch.get_num_threads()
    yield
    torch.set_num_threads(threads)


def test_example_runs_on_derived_cora_and_reports_the_evaluator(
    shared_datasets, tmp_path, monkeypatch, capsys
):
    src = shared_datasets / "ogbn_cora_derived"
    out = tmp_path / "report.json"
    argv = ["--name", "ogbn-cora", "--root", str(src), "--meta", str(src / "meta_dict.json")]
    argv += ["--cache-dir", str(tmp_path / "cache"), "--epochs", "2", "--runs", "2", "--T", "2"]
    argv += ["--json", str(out), "--no-progress", "--no-download", "--threads", "1"]
    monkeypatch.setattr(sys, "argv", [EXAMPLE.name, *argv])
    runpy.run_path(str(EXAMPLE), run_name="__main__")
    report = json.loads(out.read_text())
    assert report["evaluator"] == {"name": "ogbn-cora", "metric": "acc"}
    # the Evaluator's accuracy over the 1000 test nodes, once per run
    assert [round(1000 * a) for a in report["test_acc"]] == pytest.approx(
        [1000 * a for a in report["test_acc"]], abs=1e-3
    )
    assert len(report["test_acc"]) == 2
    assert report["graph"]["split"] == {"train": 140, "valid": 500, "test": 1000}
    assert report["graph"]["num_edges"] == 10556  # symmetric already; symmetrize keeps it
    assert "Evaluator('ogbn-cora') acc" in capsys.readouterr().out


def test_gcn_through_the_same_pipeline_beats_an_edge_blind_model(shared_datasets, tmp_path):
    # Cora's public split: the majority class is 31.9 % of the test nodes and an MLP that
    # ignores the edges reaches 57-59 %; measured here after 30 epochs: 0.818 (seeds 1, 2:
    # 0.817, 0.812).
    src = shared_datasets / "ogbn_cora_derived"
    argv = ["--name", "ogbn-cora", "--root", str(src), "--meta", str(src / "meta_dict.json")]
    argv += ["--cache-dir", str(tmp_path), "--epochs", "30", "--runs", "1", "--model", "gcn"]
    report = main([*argv, "--no-progress", "--threads", "1"])
    assert report["test_acc_mean"] > 0.7 and "firing_rate_mean" not in report


class FeaturesOnly(torch.nn.Module):
    def __init__(self, channels: int, classes: int) -> None:
        super().__init__()
        self.lin = torch.nn.Linear(channels, classes)

    def forward(self, x, edge_index, edge_weight=None):
        return self.lin(x)


def test_evaluator_score_is_the_plain_accuracy_of_each_split():
    data = homophilous_graph(num_nodes=90, num_classes=3)
    data.val_mask = data.test_mask & (torch.arange(90) % 2 == 0)
    data.test_mask = data.test_mask & ~data.val_mask
    model = FeaturesOnly(data.num_features, 3)
    scores = evaluate(model, data, ogb_evaluator("g", {"num tasks": 1, "eval metric": "acc"}))
    with torch.no_grad():
        pred = model(data.x, data.edge_index).argmax(-1)
    masks = {"train": data.train_mask, "valid": data.val_mask, "test": data.test_mask}
    for part, mask in masks.items():
        expected = float((pred[mask] == data.y[mask]).float().mean())
        assert scores[part] == pytest.approx(expected), part


@pytest.mark.slow
def test_gcn_learns_the_synthetic_graph(tmp_path):
    # 40 classes, the largest 8 % of the test nodes: 0.25 needs features and edges both
    # (measured: 0.45 for this graph and setting).
    src = tmp_path / "g"
    write_arxiv_like(src, num_nodes=2000, num_edges=14_000, seed=0)
    dataset, split = load_ogb_node("g", src, meta=src / "meta_dict.json", cache_dir=tmp_path)
    data = ogb_node_data(dataset, split)
    assert data.num_edges > 14_000  # symmetrised
    evaluator = ogb_evaluator("g", dataset.meta_info)
    cfg = Config(model="gcn", epochs=30, hidden=32, weight_decay=0.0, threads=1)
    report = run_ogb_experiment(cfg, data, dataset.num_classes, evaluator, progress=False)
    assert report["test_acc_mean"] > 0.25
