"""Graph classification: the spiking model on batches and unseen graphs, the folds of the
protocol, the command line, and a quick end-to-end run on MUTAG."""

import dataclasses
import json
import time

import pytest
import torch
import torch.nn.functional as F
from torch_geometric.data import Batch, Data
from torch_geometric.loader import DataLoader

from spikegraph.tasks import graph_classification as gc


def _graph(n: int, seed: int, label: int = 0) -> Data:
    g = torch.Generator().manual_seed(seed)
    x = F.one_hot(torch.randint(0, 4, (n,), generator=g), 4).float()
    src = torch.randint(0, n, (2 * n,), generator=g)
    dst = torch.randint(0, n, (2 * n,), generator=g)
    keep = src != dst
    edge_index = torch.stack([torch.cat([src[keep], dst[keep]]), torch.cat([dst[keep], src[keep]])])
    return Data(x=x, edge_index=edge_index, y=torch.tensor([label]))


def _trained_snn(graphs: list[Data], **kwargs) -> gc.SpikingGraphClassifier:
    model = gc.SpikingGraphClassifier(4, 8, 2, num_layers=2, T=4, dropout=0.0, **kwargs)
    opt = torch.optim.Adam(model.parameters(), lr=0.01)
    for batch in DataLoader(graphs, batch_size=3, shuffle=True):
        opt.zero_grad()
        out = model(batch.x, batch.edge_index, batch.batch, batch.num_graphs)
        F.cross_entropy(out, batch.y).backward()
        opt.step()
    return model.eval()


@pytest.mark.parametrize("variant", [{}, {"normalize": True, "mlp": False}])
def test_a_batch_of_graphs_gives_the_outputs_of_the_graphs_one_by_one(variant):
    graphs = [_graph(n, s, s % 2) for s, n in enumerate([7, 5, 9, 6, 8, 4])]
    model = _trained_snn(graphs, **variant).double()
    batch = Batch.from_data_list(graphs)
    with torch.no_grad():
        together = model(batch.x.double(), batch.edge_index, batch.batch, batch.num_graphs)
        alone = torch.cat([model(g.x.double(), g.edge_index) for g in graphs])
    assert model.convs[0].experience_mode() == "layer"
    torch.testing.assert_close(together, alone)


def test_a_trained_model_runs_on_an_unseen_graph():
    model = _trained_snn([_graph(n, s, s % 2) for s, n in enumerate([7, 5, 9, 6])])
    unseen = _graph(13, seed=99)  # more nodes than any training graph
    with torch.no_grad():
        out = model(unseen.x, unseen.edge_index)
    assert out.shape == (1, 2)
    assert torch.isfinite(out).all()
    assert len(model.firing_rates) == 4  # graph layer and spiking MLP, twice


def test_target_rate_brings_the_hidden_firing_near_its_target():
    graphs = [_graph(n, s, s % 2) for s, n in enumerate([7, 5, 9, 6, 8, 4] * 4)]
    model = gc.SpikingGraphClassifier(4, 8, 2, num_layers=2, T=4, target_rate=0.1)
    batch = Batch.from_data_list(graphs)
    with torch.no_grad():
        model(batch.x, batch.edge_index, batch.batch)
        free = model.firing_rates
        for _ in range(30):  # training calls adjust the gains
            model(batch.x, batch.edge_index, batch.batch)
        model.eval()
        model(batch.x, batch.edge_index, batch.batch)
    assert free[0] > 0.2  # well above the target before the gains adapt
    assert all(abs(r - 0.1) < 0.05 for r in model.firing_rates)


def test_folds_are_stratified_disjoint_and_cover_the_dataset():
    y = torch.tensor([0] * 30 + [1] * 20 + [2] * 7)
    folds = gc.stratified_folds(y, 5, seed=3)
    joined = torch.cat(folds)
    assert joined.numel() == y.numel() and joined.unique().numel() == y.numel()
    for fold in folds:
        counts = torch.bincount(y[fold], minlength=3)
        assert counts[0] == 6 and counts[1] == 4 and counts[2] in (1, 2)


def test_inner_holdout_takes_a_tenth_of_every_class_from_the_training_part():
    y = torch.tensor([0] * 40 + [1] * 20)
    index = torch.arange(0, 60, 2).flip(0)  # 20 of class 0, 10 of class 1
    train, val = gc.holdout_split(y, index, 0.1, seed=1)
    assert torch.bincount(y[val], minlength=2).tolist() == [2, 1]
    assert set(train.tolist()) | set(val.tolist()) == set(index.tolist())
    assert not set(train.tolist()) & set(val.tolist())


def test_imdb_binary_gets_one_hot_degree_features(shared_datasets, tmp_path):
    ds = gc.load_tu("IMDB-BINARY", shared_datasets / "TU", tmp_path)
    g = ds[0]
    assert g.x.sum(1).eq(1).all()  # one-hot
    deg = torch.bincount(g.edge_index[0], minlength=g.num_nodes)
    assert torch.equal(g.x.argmax(1), deg)


def test_missing_raw_files_name_the_root(tmp_path):
    with pytest.raises(FileNotFoundError, match="--root"):
        gc.load_tu("MUTAG", tmp_path / "nowhere", tmp_path / "cache")


def test_a_saved_fold_without_a_later_field_ran_the_code_before_that_field():
    current = dataclasses.asdict(gc.Config())
    old = {k: v for k, v in current.items() if k != "mlp"}  # saved before the spiking MLP
    assert not gc._same_recipe(old, current)
    assert gc._same_recipe(old, {**current, "mlp": False})
    assert not gc._same_recipe({**old, "hidden": 32}, current)
    twin = {**current, "model": "gin"}
    assert gc._same_recipe({**twin, "T": 99}, twin)  # a twin ignores the spiking fields


def test_impossible_arguments_exit_with_one_line(capsys):
    with pytest.raises(SystemExit) as exc:
        gc.parse_args(["--folds", "1"])
    assert exc.value.code == 2
    assert capsys.readouterr().err.strip().splitlines()[-1].endswith("--folds must be >= 2, got 1")


@pytest.mark.slow
def test_quick_run_on_mutag_writes_resumable_folds_and_a_summary(shared_datasets, tmp_path):
    runs = tmp_path / "runs"
    argv = ["--dataset", "MUTAG", "--folds", "2", "--epochs", "3", "--hidden", "16", "--T", "2"]
    argv += ["--root", str(shared_datasets / "TU"), "--cache", str(tmp_path / "cache")]
    argv += ["--runs-dir", str(runs), "--no-progress", "--threads", "1"]
    start = time.perf_counter()
    report = gc.main([*argv, "--summary", str(tmp_path / "summary.json")])
    gc.main([*argv, "--model", "gin", "--summary", str(tmp_path / "summary.json")])
    assert time.perf_counter() - start < 20
    assert report["folds"] == 2 and 0.0 <= report["acc_mean"] <= 1.0
    assert sorted(p.name for p in runs.iterdir()) == [
        "MUTAG_gin_fold0of2.json",
        "MUTAG_gin_fold1of2.json",
        "MUTAG_snn_fold0of2.json",
        "MUTAG_snn_fold1of2.json",
    ]
    summary = json.loads((tmp_path / "summary.json").read_text())
    assert [(r["model"], r["folds"]) for r in summary["rows"]] == [("snn", 2), ("gin", 2)]
    assert summary["targets"][0]["better_twin"] == "gin"
    # a second call finds the folds and trains nothing
    (runs / "MUTAG_snn_fold0of2.json").write_text(
        json.dumps({**report["runs"][0], "test_acc": 0.25})
    )
    again = gc.main(argv)
    assert again["runs"][0]["test_acc"] == 0.25
