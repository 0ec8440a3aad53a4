"""The command line of ``examples/firing_callback.py``: run the study, write JSON and figures."""

from __future__ import annotations

import argparse
import json
import statistics
import sys
from dataclasses import asdict
from pathlib import Path
from typing import Any

import torch

from spikegraph.synapse import SHAPES
from spikegraph.tasks.cli import positive_int, rate
from spikegraph.tasks.firing_callback.analysis import VARIANTS, Settings, run
from spikegraph.tasks.firing_callback.figures import (
    plot_callback,
    plot_fixed_point,
    plot_robustness,
    plot_sparse_coding,
)
from spikegraph.tasks.node_classification import machine_info
from spikegraph.utils.paths import portable_command

__all__ = ["main", "parse_args", "write_results", "format_summary"]


def write_results(results: dict[str, Any], s: Settings, out: Path, extra: dict[str, Any]) -> dict:
    """One JSON per part and one PNG per figure in ``out``; returns the summary."""
    out.mkdir(parents=True, exist_ok=True)
    for part in ("callback", "fixed_point", "sparse_coding", "robustness"):
        (out / f"{part}.json").write_text(json.dumps(results[part], indent=1, default=float))
    plot_callback(results, out / "callback.png")
    plot_fixed_point(results, out / "fixed_point.png")
    plot_sparse_coding(results, out / "sparse_coding.png")
    plot_robustness(results, out / "robustness.png")
    summary = {"settings": asdict(s), "shape": repr(s.shape()), **extra, **headline(results)}
    summary.update(
        trained=results["trained"], wall_time_s=results["wall_time_s"], machine=machine_info()
    )
    (out / "summary.json").write_text(json.dumps(summary, indent=1))
    return summary


def headline(results: dict[str, Any]) -> dict[str, Any]:
    """The key numbers: clean accuracy, robustness gain, callback distances."""
    rob = results["robustness"]
    first = {
        v: statistics.fmean(run[v]["test_acc"] for run in results["trained"]) for v in VARIANTS
    }
    return {
        "clean_test_acc_mean": first,
        "robustness_gain_mean_disturbed": rob["gain_mean_disturbed"],
        "robustness_gain_by_perturbation": {
            k: r["gain_mean_disturbed"] for k, r in rob["perturbations"].items()
        },
        "callback_table": results["callback"]["table"],
    }


def format_summary(summary: dict[str, Any]) -> str:
    """A readable summary of :func:`write_results`'s output."""
    acc = summary["clean_test_acc_mean"]
    lines = [
        f"clean test accuracy: scaling {100 * acc['scaling']:.1f} %, none {100 * acc['none']:.1f} %",
        f"robustness: mean gain of scaling over all disturbed levels "
        f"{100 * summary['robustness_gain_mean_disturbed']:+.2f} points",
    ]
    for name, gain in summary["robustness_gain_by_perturbation"].items():
        lines.append(f"  {name}: {100 * gain:+.2f} points")
    lines.append("callback: |final-step rate - clean final-step rate|, scaling vs none")
    for r in summary["callback_table"]:
        lines.append(
            f"  {r['perturbation']}={r['level']:g}: {r['scaling_distance_final']:.3f} vs "
            f"{r['none_distance_final']:.3f}"
        )
    lines.append(f"wall time {summary['wall_time_s']:.0f} s")
    return "\n".join(lines)


def parse_args(argv: list[str] | None) -> tuple[Settings, argparse.Namespace]:
    p = argparse.ArgumentParser(description="Firing-rate callback, sparse coding, robustness")
    p.add_argument("--quick", action="store_true", help="tiny version for CI (< 1 min)")
    p.add_argument("--seeds", type=positive_int, default=None, help="seeds 0..seeds-1 (default 5)")
    p.add_argument("--epochs", type=positive_int, default=None, help="training epochs (200)")
    p.add_argument(
        "--sweep-epochs", type=positive_int, default=None, help="epochs per sweep model (100)"
    )
    p.add_argument(
        "--scaling",
        type=str.lower,
        choices=list(SHAPES),
        default=None,
        help="scaling shape of the scaling model (default: relative, the layer default)",
    )
    p.add_argument(
        "--target", type=float, default=None, help="the shape's set point (homeostatic only)"
    )
    p.add_argument("--alpha", type=float, default=None, help="the shape's gain (default: its own)")
    p.add_argument(
        "--target-rates",
        type=rate,
        nargs="+",
        default=None,
        help="expected firing rates of the sparse-coding sweep (default 0.05 0.1 0.2)",
    )
    p.add_argument("--dataset", default="Cora", choices=["Cora", "CiteSeer", "PubMed"])
    p.add_argument("--root", default=None, help="folder with <Name>/raw/ (default: vendored)")
    p.add_argument("--out", type=Path, default=Path("results/firing_callback"))
    p.add_argument("--threads", type=positive_int, default=None, help="torch CPU threads")
    p.add_argument("--no-progress", action="store_true", help="no progress bars")
    args = p.parse_args(argv)
    names = ("seeds", "epochs", "sweep_epochs", "scaling", "target", "alpha", "target_rates")
    given = {k: getattr(args, k) for k in names if getattr(args, k) is not None}
    if "target_rates" in given:
        if None in given["target_rates"]:
            p.error("--target-rates: the sweep's rates are numbers in (0, 1), not none")
        given["target_rates"] = tuple(given["target_rates"])
    given["dataset"] = args.dataset
    try:
        settings = Settings.quick_run(**given) if args.quick else Settings(**given)
    except ValueError as err:
        p.error(str(err))
    return settings, args


def main(argv: list[str] | None = None) -> dict[str, Any]:
    """Command-line entry point of ``examples/firing_callback.py``."""
    from spikegraph.datasets import load_planetoid

    s, args = parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    ds = load_planetoid(s.dataset, root=args.root)
    results = run(s, ds[0], ds.num_classes, progress=not args.no_progress)
    words = sys.argv[1:] if argv is None else argv
    command = "python examples/firing_callback.py " + portable_command(words)
    summary = write_results(results, s, args.out, {"command": command.strip()})
    print(format_summary(summary))
    print(f"results written to {args.out}/")
    return summary
