"""Every example refuses impossible or inconsistent flags with argparse's usage error: exit
status 2 and one line that names the flag, never a traceback (nothing here trains)."""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from spikegraph.tasks import (
    nmnist_continual,
    nmnist_robustness,
    nmnist_training,
    node_classification,
    ogb_node,
)
from spikegraph.tasks.cli import DEFAULT_TARGET_RATE
from spikegraph.tasks.firing_callback import cli as firing_cli

REPO = Path(__file__).resolve().parents[1]


def _example(name: str):
    spec = importlib.util.spec_from_file_location(f"_example_{name}", REPO / "examples" / name)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


ROOTS = ["--sim-root", "sim", "--real-root", "real"]
TRAIN = ["--sim-root", "sim", "--out", "o.json"]

PARSERS: dict[str, Callable[[list[str]], object]] = {
    "cora": lambda argv: node_classification.parse_args(argv, "Cora"),
    "ogbn_arxiv": ogb_node.parse_args,
    "nmnist_robustness": nmnist_robustness.parse_args,
    "nmnist_train": nmnist_training.parse_args,
    "nmnist_continual": nmnist_continual.parse_args,
    "firing_callback": firing_cli.parse_args,
    "nmnist_calibration": lambda argv: _example("nmnist_calibration.py").parse_args(argv),
    "results_table": lambda argv: _example("results_table.py").main(argv),
}

# (example, arguments, the flag the error line must name)
REFUSED = [
    ("cora", ["--target-rate", "1.5"], "--target-rate"),
    ("cora", ["--target-rate", "fast"], "--target-rate"),
    ("cora", ["--scaling", "tents"], "--scaling"),
    ("cora", ["--surrogate", "relu"], "--surrogate"),
    ("cora", ["--rate-penalty", "300"], "--target-rate none"),
    ("cora", ["--penalty-target", "0.1"], "--rate-penalty"),
    ("cora", ["--dropout", "1"], "--dropout"),
    ("cora", ["--epochs", "0"], "--epochs"),
    ("ogbn_arxiv", ["--distributed"], "--minibatch"),
    ("ogbn_arxiv", ["--resume"], "--minibatch"),
    ("ogbn_arxiv", ["--minibatch", "--num-neighbors", "10"], "--num-neighbors"),
    ("ogbn_arxiv", ["--minibatch", "--num-neighbors", "0", "5"], "--num-neighbors"),
    ("ogbn_arxiv", ["--scaling", "gauss"], "--scaling"),
    ("ogbn_arxiv", ["--target-rate", "0"], "--target-rate"),
    ("nmnist_robustness", [*ROOTS, "--train-limit", "300"], "--val-size"),
    ("nmnist_robustness", ["--train-limit", "3000"], "--sim-root"),
    ("nmnist_robustness", [*ROOTS, "--levels", "1"], "--levels"),
    ("nmnist_robustness", [*ROOTS, "--readout", "spikes"], "--readout"),
    ("nmnist_robustness", [*ROOTS, "--scaling", "none"], "--scaling"),
    ("nmnist_train", [*TRAIN, "--train-limit", "100", "--val-size", "100"], "--val-size"),
    ("nmnist_train", [*TRAIN, "--epochs", "0"], "--epochs"),
    ("nmnist_train", [*TRAIN, "--schedule", "linear"], "--schedule"),
    ("nmnist_train", [*TRAIN, "--lr", "0"], "--lr"),
    ("nmnist_continual", ["--sim-root", "sim", "--tasks", "25"], "--tasks"),
    (
        "nmnist_continual",
        ["--sim-root", "sim", "--train-limit", "600", "--validation", "600"],
        "--validation",
    ),  # fmt: skip
    ("nmnist_continual", ["--sim-root", "sim", "--xdg-keep", "0"], "--xdg-keep"),
    ("nmnist_continual", ["--sim-root", "sim", "--scaling", "none"], "--scaling"),
    ("firing_callback", ["--target-rates", "0.1", "none"], "--target-rates"),
    ("firing_callback", ["--scaling", "none"], "--scaling"),
    ("firing_callback", ["--seeds", "0"], "--seeds"),
    ("nmnist_calibration", ["--n", "0"], "--n"),
    ("nmnist_calibration", ["--nmnist-root", "no/such/folder"], "--nmnist-root"),
    ("results_table", ["no/such/report.json"], "no such report"),
]


@pytest.mark.parametrize(
    "example, argv, flag", REFUSED, ids=[f"{e}:{' '.join(a[-2:])}" for e, a, _ in REFUSED]
)
def test_impossible_flags_end_in_one_usage_error_naming_the_flag(example, argv, flag, capsys):
    with pytest.raises(SystemExit) as exit_:
        PARSERS[example](argv)
    assert exit_.value.code == 2
    last = capsys.readouterr().err.strip().splitlines()[-1]
    assert "error:" in last and flag in last, last


def test_node_classification_is_sparse_by_default_and_free_one_flag_away():
    cfg, _ = node_classification.parse_args([], "Cora")
    assert cfg.target_rate == DEFAULT_TARGET_RATE == 0.1 and cfg.scaling == "relative"
    assert node_classification.parse_args(["--target-rate", "none"], "Cora")[0].target_rate is None
    penalty = ["--rate-penalty", "300", "--target-rate", "none"]
    assert node_classification.parse_args(penalty, "Cora")[0].rate_penalty == 300
    assert node_classification.parse_args(["--model", "gcn"], "Cora")[0].target_rate is None


def test_ogb_example_shares_the_node_classification_defaults():
    ogb, _ = ogb_node.parse_args([])
    planetoid, _ = node_classification.parse_args([], "Cora")
    for key in ("scaling", "target_rate", "T", "hidden", "layers", "dropout", "lr"):
        assert getattr(ogb, key) == getattr(planetoid, key), key


def test_the_reported_command_from_a_shell_is_one_line_and_exit_2(tmp_path):
    # the command that used to die with a ValueError traceback: --val-size > --train-limit
    script = REPO / "examples" / "nmnist_robustness.py"
    env = dict(
        os.environ, PYTHONPATH=os.pathsep.join([str(REPO), os.environ.get("PYTHONPATH", "")])
    )
    proc = subprocess.run(
        [sys.executable, str(script), *ROOTS, "--train-limit", "300"],
        capture_output=True, text=True, cwd=tmp_path, env=env, timeout=120,
    )  # fmt: skip
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr
    assert "--val-size" in proc.stderr.strip().splitlines()[-1]
