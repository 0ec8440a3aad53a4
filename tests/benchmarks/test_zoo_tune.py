"""The zoo tuner: variants, their checks, the ranking on validation, resumable run files."""

import json
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "benchmarks"))
import zoo  # noqa: E402
import zoo_tune  # noqa: E402

from spikegraph.models import TrainResult  # noqa: E402
from spikegraph.tasks.node_classification import Config  # noqa: E402


def test_a_variant_reads_literals_and_keeps_other_text():
    name, settings = zoo_tune.parse_variant("fast:lr=1e-3,graph_weight=1.0,scaling=relative")
    assert name == "fast"
    assert settings == {"lr": 0.001, "graph_weight": 1.0, "scaling": "relative"}
    assert zoo_tune.parse_variant("lr1e-3:lr=1e-3") == ("lr1e-3", {"lr": 0.001})
    for bad in ("nocolon", "x:", "x:lr", "a/b:lr=1", "x:1=2"):
        with pytest.raises(ValueError, match="cannot read"):
            zoo_tune.parse_variant(bad)


def test_a_pipeline_recipe_refuses_a_key_that_is_not_a_config_field():
    zoo_tune.check_settings("gcn", {"a": {"lr": 0.1, "weight_decay": 0.0}})
    with pytest.raises(ValueError, match=r"\['graph_weight'\] are not fields"):
        zoo_tune.check_settings("gcn", {"a": {"graph_weight": 1.0}})


def test_variants_are_ranked_by_validation_not_test():
    runs = [
        {"variant": "a", "settings": {}, "seed": 0, "val_acc": 0.7, "test_acc": 0.9,
         "firing_rate": 0.1},
        {"variant": "b", "settings": {"lr": 1}, "seed": 0, "val_acc": 0.8, "test_acc": 0.5,
         "firing_rate": None},
    ]  # fmt: skip
    rows = zoo_tune.ranking(runs)
    assert [r["variant"] for r in rows] == ["b", "a"]
    table = zoo_tune.markdown(rows)
    assert "| b | lr=1 | 1 | 80.00 ± 0.00 | 50.00 | – |" in table  # no firing: not a zero
    assert "| a | recipe | 1 | 70.00 ± 0.00 | 90.00 | 0.100 |" in table


def test_runs_reach_the_fit_function_and_resume(tmp_path, monkeypatch, capsys):
    calls = []

    def fit(data, *, seed, epochs, lr=0.01):
        calls.append((seed, lr))
        return TrainResult(0.5 + lr, 0.4, 0.1, 0.2, best_epoch=1, epochs_run=2)

    recipe = zoo.Recipe("Toy", None, Config(model="toy", T=2), "nowhere", fit=fit)
    monkeypatch.setitem(zoo.REGISTRY, "toy", recipe)
    argv = ["--model", "toy", "--seeds", "0-1", "--variant", "big:lr=0.2", "--out", str(tmp_path)]
    rows = zoo_tune.main(argv)
    assert calls == [(0, 0.01), (1, 0.01), (0, 0.2), (1, 0.2)]
    assert [r["variant"] for r in rows] == ["big", "default"]
    saved = json.loads((tmp_path / "toy" / "big__Cora__random__1.json").read_text())
    assert saved["settings"] == {"lr": 0.2} and saved["fit_overrides"] == {"lr": 0.2}
    assert zoo_tune.main(argv) == rows and len(calls) == 4  # nothing trained twice
    with pytest.raises(SystemExit):  # the same variant name with other settings is refused
        zoo_tune.main([*argv[:-3], "big:lr=0.3", "--out", str(tmp_path)])
    assert "was made with {'lr': 0.2}" in capsys.readouterr().err
