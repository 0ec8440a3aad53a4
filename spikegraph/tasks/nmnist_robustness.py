"""Perturbation resistance on N-MNIST: adaptive scaling against the baseline.

Both models (the same :class:`~spikegraph.models.SpikingMLP`, scaling on and off) train on
clean simulated recordings, then every perturbation of :mod:`spikegraph.events.perturb` is
applied at test time at its 15 levels to the simulated test set and to the real test
recordings. Both models see exactly the same perturbed inputs (one seed per perturbation,
level and seed). The summary is the mean accuracy over all perturbed levels (level 0, the
clean input, excluded), scaling minus baseline, in points and relative to the baseline.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
import zlib
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import torch
from tqdm.auto import tqdm

from spikegraph.events.perturb import LEVELS, perturb
from spikegraph.events.training import FrameSet, evaluate, load_frames, train_epoch
from spikegraph.models import SpikingMLP
from spikegraph.tasks.node_classification import machine_info

__all__ = ["Config", "run_experiment", "summarize", "plot", "main"]

MODELS = {"scaling": "tent", "baseline": None}


@dataclass
class Config:
    """Everything that defines the experiment; saved verbatim in the JSON."""

    sim_root: str = ""
    real_root: str = ""
    n_frames: int = 10
    train_limit: int | None = None
    test_limit: int | None = None
    hidden: int = 512
    scaling: str = "tent"
    epochs: int = 10
    batch_size: int = 100
    lr: float = 1e-3
    seeds: list[int] = field(default_factory=lambda: [0])
    perturbations: list[str] = field(default_factory=lambda: list(LEVELS))
    levels: int = 15
    threads: int | None = None


def load_data(cfg: Config, progress: bool) -> dict[str, FrameSet]:
    """Simulated train/test and the real recordings (train subset, test), as frames."""
    if not (Path(cfg.sim_root) / "Train").is_dir():
        raise FileNotFoundError(
            f"no simulated N-MNIST under {cfg.sim_root!r}; make it with: python -m "
            "spikegraph.events.simulator --mnist-root <MNIST idx folder> --out <sim root>"
        )
    kw = {"n_frames": cfg.n_frames, "progress": progress}
    return {
        "sim_train": load_frames(cfg.sim_root, True, limit=cfg.train_limit, name="sim_train", **kw),
        "sim_test": load_frames(cfg.sim_root, False, limit=cfg.test_limit, name="sim_test", **kw),
        "real_train": load_frames(cfg.real_root, True, name="real_train", **kw),
        "real_test": load_frames(cfg.real_root, False, name="real_test", **kw),
    }


def train_model(cfg: Config, scaling: str | None, train: FrameSet, seed: int, progress: bool):
    """A fresh :class:`SpikingMLP` trained with Adam on clean frames."""
    torch.manual_seed(seed)
    model = SpikingMLP(train.frames[0, 0].numel(), cfg.hidden, 10, scaling=scaling)
    opt = torch.optim.Adam(model.parameters(), lr=cfg.lr)
    gen = torch.Generator().manual_seed(seed)
    losses = []
    for _ in range(cfg.epochs):
        losses.append(train_epoch(model, train, opt, generator=gen, progress=progress))
    return model, losses


def _seed_of(seed: int, name: str, level: float) -> int:
    return zlib.crc32(f"{seed}/{name}/{level}".encode())


def robustness_grid(cfg: Config, model, data: dict[str, FrameSet], seed: int) -> dict:
    """Accuracy per evaluation set, perturbation and level: ``{set: {name: [acc, ...]}}``."""
    grid: dict[str, dict[str, list[float]]] = {}
    for set_name in ("sim_test", "real_test"):
        grid[set_name] = {}
        for name in cfg.perturbations:
            accs = []
            for level in LEVELS[name][: cfg.levels]:
                gen = torch.Generator().manual_seed(_seed_of(seed, name, level))
                transform = lambda f, n=name, lv=level, g=gen: perturb(n, f, lv, g)  # noqa: E731
                accs.append(evaluate(model, data[set_name], transform=transform))
            grid[set_name][name] = accs
    return grid


def run_experiment(cfg: Config, progress: bool = True) -> dict[str, Any]:
    """Train both models for every seed and evaluate them clean and perturbed."""
    if cfg.threads:
        torch.set_num_threads(cfg.threads)
    start = time.perf_counter()
    data = load_data(cfg, progress)
    runs = []
    jobs = [(m, s) for s in cfg.seeds for m in MODELS]
    for model_name, seed in tqdm(jobs, desc="models", disable=not progress):
        scaling = cfg.scaling if model_name == "scaling" else None
        t0 = time.perf_counter()
        model, losses = train_model(cfg, scaling, data["sim_train"], seed, progress)
        train_s = time.perf_counter() - t0
        clean = {k: evaluate(model, v) for k, v in data.items()}
        grid = robustness_grid(cfg, model, data, seed)
        runs.append(
            {"model": model_name, "seed": seed, "train_loss": losses, "train_time_s": train_s,
             "clean_acc": clean, "perturbed_acc": grid}
        )  # fmt: skip
    report = {
        "config": asdict(cfg),
        "sizes": {k: len(v) for k, v in data.items()},
        "levels": {name: LEVELS[name][: cfg.levels] for name in cfg.perturbations},
        "runs": runs,
        "wall_time_s": time.perf_counter() - start,
        "machine": machine_info(),
    }
    report["summary"] = summarize(report)
    return report


def _mean_curve(runs: list[dict], model: str, set_name: str, name: str) -> list[float]:
    curves = [r["perturbed_acc"][set_name][name] for r in runs if r["model"] == model]
    return [statistics.fmean(level) for level in zip(*curves, strict=True)]


def summarize(report: dict) -> dict[str, Any]:
    """Mean accuracy over perturbed levels (level 0 excluded), per set and perturbation."""
    out: dict[str, Any] = {}
    names = report["config"]["perturbations"]
    for set_name in ("sim_test", "real_test"):
        per_name, overall, clean = {}, {m: [] for m in MODELS}, {}
        for name in names:
            row = {}
            for model in MODELS:
                curve = _mean_curve(report["runs"], model, set_name, name)
                clean[model] = curve[0]
                overall[model] += curve[1:]
                row[model] = statistics.fmean(curve[1:]) if len(curve) > 1 else float("nan")
            per_name[name] = _gain(row, clean)
        out[set_name] = {
            "overall": _gain({m: statistics.fmean(v) for m, v in overall.items() if v}, clean),
            "per_perturbation": per_name,
        }
    out["clean_acc"] = {
        model: {
            k: statistics.fmean(r["clean_acc"][k] for r in report["runs"] if r["model"] == model)
            for k in report["sizes"]
        }
        for model in MODELS
    }
    return out


def _gain(row: dict[str, float], clean: dict[str, float]) -> dict[str, float]:
    """Gain of scaling over the baseline, also net of the gap they already have on clean
    input (``beyond_clean_points``) and as retained fraction of the clean accuracy."""
    base, scaled = row["baseline"], row["scaling"]
    rel = 100 * (scaled - base) / base if base > 0 else float("nan")
    gain = 100 * (scaled - base)
    return {
        **row,
        "gain_points": gain,
        "gain_relative_pct": rel,
        "beyond_clean_points": gain - 100 * (clean["scaling"] - clean["baseline"]),
        "retained": {m: row[m] / clean[m] if clean[m] > 0 else float("nan") for m in MODELS},
    }


def format_summary(report: dict) -> str:
    s = report["summary"]
    lines = [f"clean accuracy: {json.dumps(s['clean_acc'])}"]
    for set_name in ("sim_test", "real_test"):
        o = s[set_name]["overall"]
        lines.append(
            f"{set_name}: mean accuracy over perturbed levels: scaling {100 * o['scaling']:.2f} %, "
            f"baseline {100 * o['baseline']:.2f} % -> {o['gain_points']:+.2f} points "
            f"({o['gain_relative_pct']:+.1f} % relative); beyond the clean gap "
            f"{o['beyond_clean_points']:+.2f} points"
        )
        for name, row in s[set_name]["per_perturbation"].items():
            lines.append(
                f"  {name:12s} scaling {100 * row['scaling']:6.2f}  baseline "
                f"{100 * row['baseline']:6.2f}  gain {row['gain_points']:+6.2f} points, "
                f"beyond clean {row['beyond_clean_points']:+6.2f}"
            )
    return "\n".join(lines)


def plot(report: dict, set_name: str, path: Path) -> None:
    """Accuracy against level, one panel per perturbation, both models (mean over seeds)."""
    from matplotlib.figure import Figure  # not pyplot: the user's backend stays as it is

    names = report["config"]["perturbations"]
    cols = 4
    rows = -(-len(names) // cols)
    fig = Figure(figsize=(3.2 * cols, 2.6 * rows))
    axes = fig.subplots(rows, cols, squeeze=False)
    for ax, name in zip(axes.flat, names, strict=False):
        levels = report["levels"][name]
        for model, style in (("scaling", "-o"), ("baseline", "--s")):
            acc = [100 * a for a in _mean_curve(report["runs"], model, set_name, name)]
            ax.plot(levels, acc, style, ms=3, label=model)
        ax.set_title(name)
        ax.set_xlabel("level")
        ax.set_ylabel("accuracy (%)")
        ax.set_ylim(0, 100)
        ax.grid(alpha=0.3)
    for ax in axes.flat[len(names) :]:
        ax.axis("off")
    axes.flat[0].legend()
    seeds = len(report["config"]["seeds"])
    fig.suptitle(
        f"N-MNIST {set_name}: accuracy under test-time perturbation (mean of {seeds} seeds)"
    )
    fig.tight_layout()
    fig.savefig(path, dpi=110)


def parse_args(argv: list[str] | None) -> tuple[Config, argparse.Namespace]:
    d = Config()
    p = argparse.ArgumentParser(description="N-MNIST perturbation resistance: scaling vs none")
    p.add_argument("--sim-root", default="", help="simulated N-MNIST (Train/, Test/)")
    p.add_argument("--real-root", default="", help="real N-MNIST recordings (Train/, Test/)")
    p.add_argument("--train-limit", type=int, default=None, help="use N simulated train samples")
    p.add_argument("--test-limit", type=int, default=None, help="use N simulated test samples")
    p.add_argument("--epochs", type=int, default=d.epochs)
    p.add_argument("--batch-size", type=int, default=d.batch_size)
    p.add_argument("--lr", type=float, default=d.lr)
    p.add_argument("--hidden", type=int, default=d.hidden)
    p.add_argument("--scaling", default=d.scaling, help="the shape of the scaling model")
    p.add_argument("--seeds", type=int, nargs="+", default=d.seeds)
    p.add_argument("--levels", type=int, default=d.levels, help="first L of the 15 levels")
    p.add_argument("--perturbations", nargs="+", default=d.perturbations, choices=list(LEVELS))
    p.add_argument("--threads", type=int, default=None)
    p.add_argument("--out", type=Path, default=Path("results/nmnist_robustness"))
    p.add_argument("--no-progress", action="store_true")
    p.add_argument(
        "--from-json", type=Path, default=None, help="re-summarise and re-plot a saved report"
    )
    args = p.parse_args(argv)
    fields_ = {k: v for k, v in vars(args).items() if k in Config.__dataclass_fields__}
    return Config(**fields_), args


def main(argv: list[str] | None = None) -> dict:
    """Command-line entry point of ``examples/nmnist_robustness.py``."""
    cfg, args = parse_args(argv)
    if args.from_json is not None:
        report = json.loads(args.from_json.read_text())
        report["summary"] = summarize(report)
    elif not (cfg.sim_root and cfg.real_root):
        raise SystemExit("--sim-root and --real-root are required (or --from-json)")
    else:
        report = run_experiment(cfg, progress=not args.no_progress)
    print(format_summary(report))
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "nmnist_robustness.json").write_text(json.dumps(report, indent=2))
    for set_name in ("sim_test", "real_test"):
        plot(report, set_name, args.out / f"accuracy_vs_level_{set_name}.png")
    print(f"results written to {args.out}/")
    return report
