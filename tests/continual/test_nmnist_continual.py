"""The continual-learning experiment: a tiny grid end to end, and refused settings."""

from __future__ import annotations

import json

import numpy as np
import pytest

from spikegraph.continual import METHODS
from spikegraph.events.simulator import generate_nmnist
from spikegraph.tasks.nmnist_continual import (
    Config,
    format_study_table,
    main,
    parse_args,
    study_summary,
)


@pytest.mark.slow
def test_tiny_grid_end_to_end_and_resume(tmp_path, shared_datasets):
    sim = tmp_path / "sim"
    generate_nmnist(shared_datasets / "MNIST", sim, limit=40, progress=False)
    out = tmp_path / "out"
    argv = ["--sim-root", str(sim), "--real-root", str(shared_datasets / "NMNIST"),
            "--tasks", "2", "--epochs", "1", "--hidden", "16", "--fisher-samples", "5",
            "--out", str(out), "--no-progress"]  # fmt: skip
    report = main(argv)
    saved = json.loads((out / "nmnist_continual.json").read_text())
    assert saved["sizes"] == {"sim_train": 40, "sim_test": 40, "real_test": 100}
    assert {(r["method"], r["scaling"]) for r in saved["runs"]} == {
        (m, s) for m in METHODS for s in ("relative", "none")
    }
    for run in saved["runs"]:
        for R in run["R"].values():
            assert len(R) == 2 and all(len(row) == 2 for row in R)
    for set_name in ("sim_test", "real_test"):
        assert set(saved["summary"][set_name]) == set(METHODS)
        row = saved["summary"][set_name]["xdg+ewc"]
        assert row["gain_points"] == pytest.approx(100 * (row["acc_scaling"] - row["acc_none"]))
    assert "| xdg+ewc |" in (out / "table.md").read_text()
    for name in ("finetune", "ewc", "xdg", "xdg_ewc"):
        assert (out / f"R_{name}.png").stat().st_size > 10_000
        assert (out / "checkpoints" / f"{name}_relative.pt").is_file()
    again = main(argv + ["--resume"])  # every run is finished: nothing is retrained
    assert all(r["resumed_from"] == 2 for r in again["runs"])
    assert again["summary"] == report["summary"]


@pytest.mark.slow
def test_validation_carve_replaces_the_test_sets(tmp_path, shared_datasets):
    sim = tmp_path / "sim"
    generate_nmnist(shared_datasets / "MNIST", sim, limit=30, split="train", progress=False)
    out = tmp_path / "out"
    report = main(["--sim-root", str(sim), "--real-root", str(shared_datasets / "NMNIST"),
                   "--validation", "10", "--tasks", "2", "--hidden", "8", "--methods", "finetune",
                   "--variants", "scaling", "--seen-only", "--out", str(out), "--no-progress"])  # fmt: skip
    assert report["sizes"] == {"sim_train": 20, "sim_val": 10}
    assert [(r["method"], r["scaling"]) for r in report["runs"]] == [("finetune", "relative")]
    assert report["runs"][0]["R"]["sim_val"][0][1] is None  # --seen-only: task 1 not tested
    assert report["runs"][0]["R"]["sim_val"][1][1] is not None
    assert report["summary"]["sim_val"] == {}  # no pair to compare


def test_quick_fills_only_what_was_not_given():
    cfg, _ = parse_args(["--sim-root", "x", "--quick", "--tasks", "4"])
    assert (cfg.tasks, cfg.train_limit, cfg.epochs) == (4, 600, 1)
    cfg, _ = parse_args(["--sim-root", "x"])
    assert (cfg.tasks, cfg.train_limit, cfg.methods) == (10, None, list(METHODS))


@pytest.mark.parametrize(
    ("change", "match"),
    [({"tasks": 0}, "tasks must lie"), ({"tasks": 21}, "tasks must lie"),
     ({"methods": ["si"]}, "unknown methods"), ({"epochs": 0}, "epochs"),
     ({"scaling": "none"}, "scaling names"), ({"variants": ["tent"]}, "variants"),
     ({"variants": []}, "variants"), ({"validation": -1}, "validation")],
)  # fmt: skip
def test_bad_settings_are_refused(change, match):
    with pytest.raises(ValueError, match=match):
        Config(sim_root="x", **change).check()


def test_missing_data_names_the_simulator(tmp_path):
    with pytest.raises(FileNotFoundError, match="spikegraph.events.simulator"):
        main(["--sim-root", str(tmp_path / "none"), "--out", str(tmp_path), "--no-progress"])


def _report(seed: int, runs: list[tuple[str, str, float, float]]) -> dict:
    metrics = lambda acc: {"acc": acc, "la": acc + 0.1, "bwt": -0.1, "forgetting": 0.1}  # noqa: E731
    return {
        "config": {"seed": seed},
        "runs": [
            {"method": m, "scaling": s, "consolidation": c, "metrics": {"sim_test": metrics(a)}}
            for m, s, c, a in runs
        ],
    }


def test_study_summary_pools_seeds_and_pairs_the_gain_by_seed():
    reports = [
        _report(0, [("ewc", "relative", 0.0, 0.6), ("ewc", "none", 0.0, 0.5)]),
        _report(1, [("ewc", "relative", 0.0, 0.8), ("ewc", "none", 0.0, 0.4)]),
        _report(0, [("ewc", "relative", 0.1, 0.55)]),
        _report(2, [("ewc", "relative", 0.0, 0.9)]),  # no baseline for seed 2: not in the gain
    ]
    rows = {r["variant"]: r for r in study_summary(reports)}
    assert list(rows) == ["relative", "relative + consolidation 0.1", "none"]
    scaled = rows["relative"]
    assert scaled["seeds"] == [0, 1, 2]
    assert scaled["acc"][0] == pytest.approx(np.mean([0.6, 0.8, 0.9]))
    assert scaled["acc"][1] == pytest.approx(np.std([0.6, 0.8, 0.9], ddof=1))
    assert scaled["gain_relative_pct"] == pytest.approx(
        100 * np.mean([0.6 / 0.5 - 1, 0.8 / 0.4 - 1])
    )
    assert rows["relative + consolidation 0.1"]["gain_relative_pct"] == pytest.approx(10.0)
    assert "gain_relative_pct" not in rows["none"]
    table = format_study_table(study_summary(reports))
    assert "| ewc | relative | 3 | 76.7 ± 15.3 | +60.0 % |" in table


def test_study_summary_puts_the_mean_field_control_between_scaling_and_none():
    # the control runs in a report of its own (run_study.sh with --scaling mean_field)
    reports = [
        _report(0, [("finetune", "relative", 0.0, 0.8), ("finetune", "none", 0.0, 0.5)]),
        _report(0, [("finetune", "mean_field", 0.0, 0.6)]),
    ]
    rows = study_summary(reports)
    assert [r["variant"] for r in rows] == ["relative", "mean_field", "none"]
    assert rows[1]["gain_relative_pct"] == pytest.approx(20.0)  # paired with the same seed


def test_study_summary_refuses_the_same_run_twice():
    twice = [_report(0, [("ewc", "none", 0.0, 0.5)]), _report(0, [("ewc", "none", 0.0, 0.6)])]
    with pytest.raises(ValueError, match="two runs"):
        study_summary(twice)
