"""Link prediction: the split, the metrics, inductive use and a short end-to-end run."""

import json

import pytest
import torch
from torch_geometric.data import Data
from torch_geometric.utils import to_undirected

from spikegraph.tasks.cli import SCALING_CHOICES
from spikegraph.tasks.link_prediction import (
    LinkConfig,
    average_precision,
    build_model,
    hits_at_k,
    main,
    parse_args,
    roc_auc,
    split_edges,
    train_run,
)


def _ring_graph(n: int = 30, chords: int = 15, features: int = 8, seed: int = 0) -> Data:
    g = torch.Generator().manual_seed(seed)
    ring = torch.stack([torch.arange(n), (torch.arange(n) + 1) % n])
    extra = torch.randint(0, n, (2, chords), generator=g)
    extra = extra[:, extra[0] != extra[1]]
    edge_index = to_undirected(torch.cat([ring, extra], 1), num_nodes=n)
    x = (torch.rand(n, features, generator=g) < 0.3).float()
    return Data(x=x, edge_index=edge_index, num_nodes=n)


def _pairs(edge_index: torch.Tensor) -> set[tuple[int, int]]:
    return {(min(a, b), max(a, b)) for a, b in edge_index.t().tolist()}


def _quick_cfg(**kw) -> LinkConfig:
    return LinkConfig(**{"hidden": 8, "out": 4, "T": 4, "epochs": 3, **kw})


@pytest.mark.parametrize("model", ["snn", "gae"])
def test_no_test_edge_enters_message_passing(model):
    data = _ring_graph()
    train, val, test = split_edges(data, seed=0)
    test_pos = _pairs(test.edge_label_index[:, test.edge_label == 1])
    assert test_pos  # the check below has something to find
    net = build_model(_quick_cfg(model=model), data.num_features)
    seen = []
    net.encoder.register_forward_pre_hook(lambda m, args: seen.append(args[1].clone()))
    train_run(net, (train, val, test), _quick_cfg(model=model), seed=0, progress=False)
    assert seen
    for edge_index in seen:
        assert not _pairs(edge_index) & test_pos


def test_split_message_passing_edges_per_stage():
    data = _ring_graph()
    train, val, test = split_edges(data, seed=1)
    val_pos = _pairs(val.edge_label_index[:, val.edge_label == 1])
    assert _pairs(val.edge_index) == _pairs(train.edge_index)
    assert _pairs(test.edge_index) == _pairs(train.edge_index) | val_pos


def test_split_is_reproducible_under_a_seed():
    data = _ring_graph()
    first, second = split_edges(data, seed=3)[2], split_edges(data, seed=3)[2]
    assert torch.equal(first.edge_label_index, second.edge_label_index)  # negatives included


def test_roc_auc_by_hand():
    pos, neg = torch.tensor([0.9, 0.4]), torch.tensor([0.5, 0.1])
    assert roc_auc(pos, neg) == pytest.approx(3 / 4)  # 3 of the 4 pairs ordered right


def test_roc_auc_counts_ties_as_half():
    assert roc_auc(torch.tensor([0.5]), torch.tensor([0.5])) == pytest.approx(0.5)


def test_average_precision_by_hand():
    pos, neg = torch.tensor([0.9, 0.4]), torch.tensor([0.5, 0.1])
    # ranked: pos (precision 1), neg, pos (precision 2/3), neg
    assert average_precision(pos, neg) == pytest.approx((1 + 2 / 3) / 2)


def test_metrics_match_scikit_learn():
    metrics = pytest.importorskip("sklearn.metrics")
    g = torch.Generator().manual_seed(0)
    pos = torch.randint(0, 5, (40,), generator=g).float()  # many ties
    neg = torch.randint(0, 4, (60,), generator=g).float()
    y = [1] * 40 + [0] * 60
    s = torch.cat([pos, neg]).tolist()
    assert roc_auc(pos, neg) == pytest.approx(metrics.roc_auc_score(y, s))
    assert average_precision(pos, neg) == pytest.approx(metrics.average_precision_score(y, s))


def test_hits_at_k_by_hand():
    pos, neg = torch.tensor([0.9, 0.4, 0.7]), torch.tensor([0.5, 0.8, 0.1])
    assert hits_at_k(pos, neg, 1) == pytest.approx(1 / 3)  # above 0.8: 0.9 only
    assert hits_at_k(pos, neg, 2) == pytest.approx(2 / 3)  # above 0.5: 0.9, 0.7


def test_metrics_reject_empty_scores():
    with pytest.raises(ValueError, match="at least one positive"):
        roc_auc(torch.tensor([]), torch.tensor([0.1]))


def test_trained_encoder_runs_on_an_unseen_graph():
    data = _ring_graph(seed=0)
    cfg = _quick_cfg()  # the library's default scaling, cached=False
    net = build_model(cfg, data.num_features)
    train_run(net, split_edges(data, seed=0), cfg, seed=0, progress=False)
    other = _ring_graph(n=23, chords=9, seed=5)
    net.eval()
    with torch.no_grad():
        z = net.encoder(other.x, other.edge_index)
    assert z.shape == (23, cfg.out)
    assert torch.isfinite(z).all()


@pytest.mark.slow
def test_end_to_end_writes_resumable_results(tmp_path, capsys):
    args = ["--dataset", "Cora", "--epochs", "4", "--hidden", "16", "--out", "8", "--T", "4"]
    args += ["--runs", "2", "--out-dir", str(tmp_path), "--no-progress", "--threads", "1"]
    main(args)
    files = sorted(p.name for p in tmp_path.glob("*_seed*.json"))
    assert files == ["cora_snn_seed0.json", "cora_snn_seed1.json"]
    (row,) = json.loads((tmp_path / "summary.json").read_text())
    assert row["seeds"] == [0, 1]
    assert 0.5 < row["auc_mean"] <= 1.0
    first = (tmp_path / files[0]).read_text()
    capsys.readouterr()
    main(args)  # resumes: nothing is re-run
    assert "seed 0: test AUC" not in capsys.readouterr().out
    assert (tmp_path / files[0]).read_text() == first


@pytest.mark.parametrize(
    "argv, flag",
    [
        (["--epochs", "0"], "--epochs"),
        (["--target-rate", "1.5"], "--target-rate"),
        (["--target-rate", "fast"], "--target-rate"),
        (["--dataset", "PubMed"], "--dataset"),
        (["--dropout", "1"], "--dropout"),
    ],
)
def test_impossible_argument_is_one_usage_error_naming_the_flag(argv, flag, capsys):
    with pytest.raises(SystemExit) as exc:
        main(argv)
    assert exc.value.code == 2
    last = capsys.readouterr().err.strip().splitlines()[-1]
    assert "error:" in last and flag in last


@pytest.mark.parametrize("shape", SCALING_CHOICES)
def test_every_scaling_shape_of_the_registry_is_a_choice(shape):
    cfg, _ = parse_args(["--scaling", shape])
    assert cfg.scaling == (None if shape == "none" else shape)
