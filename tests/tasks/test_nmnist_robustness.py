"""The N-MNIST robustness experiment: summary arithmetic and a tiny end-to-end run."""

from __future__ import annotations

import json

import pytest

from spikegraph.events.simulator import generate_nmnist
from spikegraph.tasks.nmnist_robustness import main, summarize


def _report(curves: dict[str, list[float]]) -> dict:
    runs = [
        {"model": model, "seed": 0, "clean_acc": {"sim_test": curve[0]},
         "perturbed_acc": {"sim_test": {"drop": curve}, "real_test": {"drop": curve}}}
        for model, curve in curves.items()
    ]  # fmt: skip
    return {"config": {"perturbations": ["drop"]}, "sizes": {"sim_test": 1}, "runs": runs}


def test_summary_excludes_the_clean_level_and_computes_gains():
    s = summarize(_report({"scaling": [0.9, 0.6, 0.4], "baseline": [1.0, 0.4, 0.2]}))
    overall = s["sim_test"]["overall"]
    assert overall["scaling"] == pytest.approx(0.5)  # mean of 0.6 and 0.4, not of 0.9
    assert overall["baseline"] == pytest.approx(0.3)
    assert overall["gain_points"] == pytest.approx(20.0)
    assert overall["gain_relative_pct"] == pytest.approx(100 * 0.2 / 0.3)
    # the baseline starts 10 points ahead on clean input, so scaling's gain beyond it is 30
    assert overall["beyond_clean_points"] == pytest.approx(30.0)
    assert overall["retained"]["scaling"] == pytest.approx(0.5 / 0.9)
    assert s["clean_acc"]["baseline"]["sim_test"] == 1.0


def test_summary_compares_scaling_with_the_mean_field_control():
    curves = {
        "scaling": [0.9, 0.6, 0.4],
        "baseline": [1.0, 0.4, 0.2],
        "mean_field": [0.8, 0.5, 0.5],
    }
    overall = summarize(_report(curves))["sim_test"]["overall"]
    assert overall["mean_field"] == pytest.approx(0.5)
    assert overall["vs_mean_field_points"] == pytest.approx(0.0)
    # the mean field starts 10 points behind on clean input: scaling's lead beyond it is -10
    assert overall["vs_mean_field_beyond_clean"] == pytest.approx(-10.0)
    without = summarize(_report({m: curves[m] for m in ("scaling", "baseline")}))
    assert "vs_mean_field_points" not in without["sim_test"]["overall"]


def test_the_gains_need_scaling_and_baseline(capsys):
    with pytest.raises(SystemExit) as exc:
        main(["--sim-root", "x", "--real-root", "y", "--models", "scaling", "mean_field"])
    assert exc.value.code == 2 and "need scaling and baseline" in capsys.readouterr().err


def test_missing_simulated_data_names_the_command(tmp_path, shared_datasets):
    argv = ["--sim-root", str(tmp_path / "none"), "--real-root", str(shared_datasets / "NMNIST")]
    with pytest.raises(FileNotFoundError, match="spikegraph.events.simulator"):
        main(argv + ["--out", str(tmp_path / "out"), "--no-progress"])


@pytest.mark.slow
def test_tiny_run_end_to_end(tmp_path, shared_datasets, monkeypatch):
    sim = tmp_path / "sim"
    generate_nmnist(shared_datasets / "MNIST", sim, limit=40, progress=False)
    out = tmp_path / "out"
    ckpt = tmp_path / "ckpt"
    argv = ["--sim-root", str(sim), "--real-root", str(shared_datasets / "NMNIST"),
            "--epochs", "1", "--hidden", "32", "--levels", "3", "--val-size", "8",
            "--checkpoint-dir", str(ckpt),
            "--perturbations", "salt", "occlusion", "--out", str(out), "--no-progress"]  # fmt: skip
    report = main(argv)
    saved = json.loads((out / "nmnist_robustness.json").read_text())
    for key in ("sim_test", "real_test"):
        assert saved["summary"][key]["overall"]["gain_points"] == pytest.approx(
            report["summary"][key]["overall"]["gain_points"]
        )
    assert saved["sizes"] == {
        "sim_train": 32, "sim_val": 8, "sim_test": 40, "real_train": 1000, "real_test": 100
    }  # fmt: skip
    assert {r["model"] for r in saved["runs"]} == {"scaling", "baseline"}
    for run in saved["runs"]:
        for curve in run["perturbed_acc"]["real_test"].values():
            assert len(curve) == 3 and all(0.0 <= a <= 1.0 for a in curve)
            assert curve[0] == run["clean_acc"]["real_test"]  # level 0 is the clean input
    assert (out / "accuracy_vs_level_sim_test.png").stat().st_size > 10_000

    # a second run loads the two finished models instead of training them again
    assert sorted(p.name for p in ckpt.iterdir()) == ["baseline_seed0.pt", "scaling_seed0.pt"]

    def no_training(*args, **kwargs):
        raise AssertionError("a finished checkpoint was trained again")

    monkeypatch.setattr("spikegraph.tasks.nmnist_training.train_epoch", no_training)
    again = main([*argv[:-3], "--perturbations", "salt", "--out", str(tmp_path / "again"),
                  "--no-progress"])  # fmt: skip
    for first, second in zip(report["runs"], again["runs"], strict=True):
        assert second["history"] == first["history"]
        assert second["clean_acc"] == first["clean_acc"]
