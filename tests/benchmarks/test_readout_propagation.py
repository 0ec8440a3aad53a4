"""The APPNP read-out benchmark: the propagation it applies, and that K = 0 is the pipeline."""

import json
import sys
from pathlib import Path

import pytest
import torch
from torch import nn

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "benchmarks"))
import readout_propagation as rp  # noqa: E402

from spikegraph.datasets import load_planetoid  # noqa: E402
from spikegraph.tasks import node_classification as nc  # noqa: E402


class FixedLogits(nn.Module):
    def __init__(self, logits: torch.Tensor) -> None:
        super().__init__()
        self.logits = logits
        self.convs = nn.ModuleList([nn.Linear(1, 1)])

    def forward(self, x, edge_index):  # noqa: ANN001, ANN201
        return self.logits


def test_the_logits_are_propagated_by_personalised_pagerank():
    edge_index = torch.tensor([[0, 1, 1, 2], [1, 0, 2, 1]])  # a path 0 - 1 - 2
    h = torch.tensor([[1.0, 0.0], [0.0, 1.0], [2.0, -1.0]])
    adj = torch.eye(3)
    adj[edge_index[0], edge_index[1]] = 1.0
    d = adj.sum(1).rsqrt()
    a_hat = d[:, None] * adj * d[None, :]
    z = h
    for _ in range(3):
        z = 0.8 * a_hat @ z + 0.2 * h
    model = rp.PropagatedLogits(FixedLogits(h), K=3, alpha=0.2)
    torch.testing.assert_close(model(torch.zeros(3, 1), edge_index), z)
    assert model.convs is model.model.convs  # the optimiser finds the first layer


def test_no_propagation_is_the_pipeline_run(tmp_path):
    args = ["--epochs", "3", "--runs", "1", "--hidden", "16", "--T", "2", "--no-progress"]
    out = tmp_path / "r.json"
    report = rp.main(["--K", "0", "--", *args, "--json", str(out)])
    cfg, _ = nc.parse_args(args, "Cora")
    ds = load_planetoid("Cora")
    plain = nc.run_experiment(cfg, ds[0], ds.num_classes, progress=False)
    assert [r["val_acc"] for r in report["runs"]] == [r["val_acc"] for r in plain["runs"]]
    assert [r["test_acc"] for r in report["runs"]] == [r["test_acc"] for r in plain["runs"]]
    saved = json.loads(out.read_text())
    assert saved["propagation"] == {"K": 0, "alpha": 0.1}
    assert saved["command"].startswith("python benchmarks/readout_propagation.py --K 0 --")


def test_propagation_changes_the_run(tmp_path):
    args = ["--epochs", "3", "--runs", "1", "--hidden", "16", "--T", "2", "--no-progress"]
    plain = rp.main(["--K", "0", "--", *args])
    spread = rp.main(["--K", "5", "--alpha", "0.1", "--", *args])
    assert spread["propagation"] == {"K": 5, "alpha": 0.1}
    rates = [
        [layer["firing_rate_per_step"] for layer in r["runs"][0]["firing"]["layers"].values()]
        for r in (plain, spread)
    ]
    assert rates[0] != rates[1]  # other gradients, other weights


@pytest.mark.parametrize("bad", [["--K", "-1"], ["--alpha", "0"], ["--alpha", "1.5"]])
def test_bad_settings_are_refused(bad, capsys):
    with pytest.raises(SystemExit):
        rp.main(bad)
    assert "need K >= 0 and alpha in (0, 1]" in capsys.readouterr().err


def test_the_best_mean_validation_is_chosen_and_a_tie_keeps_the_first(tmp_path, capsys):
    def report(k, alpha, vals):  # noqa: ANN001, ANN202
        return {"propagation": {"K": k, "alpha": alpha}, "runs": [{"val_acc": v} for v in vals]}

    none, low, high = (
        report(0, 0.1, [0.8, 0.7]),
        report(10, 0.1, [0.9, 0.7]),
        report(10, 0.2, [0.7, 0.7]),
    )
    assert rp.chosen([none, low, high]) == (10, 0.1)
    assert rp.chosen([none, report(10, 0.2, [0.7, 0.8])]) == (0, 0.1)  # equal means
    paths = []
    for i, r in enumerate((none, high, low)):
        paths.append(tmp_path / f"{i}.json")
        paths[-1].write_text(json.dumps(r))
    assert rp.main(["--chosen", *map(str, paths)]) == {"K": 10, "alpha": 0.1}
    assert capsys.readouterr().out.strip() == "10 0.1"
