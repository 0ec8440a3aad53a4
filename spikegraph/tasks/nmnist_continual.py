"""Continual learning on permuted N-MNIST: four methods, each with adaptive scaling and without.

The grid {finetune, EWC, XdG, XdG+EWC} x {scaling (tent), none} runs through one harness
(:func:`~spikegraph.continual.run_tasks`): the same :class:`~spikegraph.models.SpikingMLP`
(2312 -> hidden -> 10, shared head) learns the permuted tasks one after another and is tested on
every task after each one. Each model trains on the simulated recordings; its accuracy matrix
``R`` is measured on the simulated test set and, when ``--real-root`` is given, on the real
test recordings under the same permutations. Both members of a pair start from the same weights
(scaling has no parameters) and see the same batches. The headline is ACC with scaling minus
ACC without, per method, in points and relative to the baseline, next to the paper's +25 %.

The network and its input follow the robustness experiment's recipe (relative scaling shape,
membrane read-out, atan surrogate, unclipped event counts): the membrane read-out gives every
output unit a gradient on every sample, so no output neuron falls silent for good (the
former rate read-out with the rectangular surrogate lost its plasticity after two or three
tasks). The defaults (SGD with momentum 0.9 at lr 0.01, EWC's lambda = 100) were chosen on a
validation split carved from the simulated training recordings (``--validation N``: the test
sets are then not loaded), with the same grid for the scaling and the baseline model
(``results/nmnist_continual/run_screen.sh``; the continual-learning guide shows the screen).
Consolidation (``--consolidation``) scales each synapse's weight updates by its plasticity
after every optimizer step (:class:`~spikegraph.synapse.ConsolidatedUpdates`), so it works with
``--optimizer adam`` as with SGD.
"""

from __future__ import annotations

import argparse
import json
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
from tqdm.auto import tqdm

from spikegraph.continual import METHODS, TrainConfig, make_permutations, make_plugin, run_tasks
from spikegraph.continual.tasks import permuted_task
from spikegraph.events.training import FrameSet, load_frames
from spikegraph.models import SpikingMLP
from spikegraph.synapse import SHAPES
from spikegraph.tasks.cli import nonnegative_int, positive_int
from spikegraph.tasks.nmnist_training import split_validation
from spikegraph.tasks.node_classification import machine_info
from spikegraph.utils.paths import portable_fields

__all__ = [
    "Config",
    "run_experiment",
    "summarize",
    "format_table",
    "study_summary",
    "format_study_table",
    "plot",
    "main",
]

MAX_TASKS = 20
PAPER_GAIN_PCT = 25.0
QUICK = {"tasks": 3, "train_limit": 600, "test_limit": 200, "epochs": 1, "fisher_samples": 50}


@dataclass
class Config:
    """Everything that defines the experiment; saved verbatim in the JSON."""

    sim_root: str = ""
    real_root: str | None = None
    n_frames: int = 10
    tasks: int = 10
    train_limit: int | None = None
    test_limit: int | None = None
    hidden: int = 512
    scaling: str = "relative"
    input_clip: float | None = None
    consolidation: float = 0.0
    variants: list[str] = field(default_factory=lambda: ["scaling", "none"])
    validation: int = 0
    seen_only: bool = False
    frame_cache: str | None = None
    methods: list[str] = field(default_factory=lambda: list(METHODS))
    epochs: int = 1
    batch_size: int = 100
    lr: float = 0.01
    optimizer: str = "sgd"
    reset_optimizer: bool = False
    ewc_lambda: float = 100.0
    fisher_samples: int = 200
    xdg_keep: float = 0.2
    seed: int = 0
    threads: int | None = 1

    def check(self) -> None:
        if not 1 <= self.tasks <= MAX_TASKS:
            raise ValueError(f"tasks must lie in [1, {MAX_TASKS}], got {self.tasks}")
        bad = [m for m in self.methods if m not in METHODS]
        if bad or not self.methods:
            raise ValueError(f"unknown methods {bad}; choose from {', '.join(METHODS)}")
        if not self.scaling or self.scaling.lower() == "none":
            raise ValueError("scaling names the shape of the scaling models; 'none' is the pair")
        if self.epochs < 1:
            raise ValueError(f"epochs must be >= 1, got {self.epochs}")
        if not self.variants or not set(self.variants) <= {"scaling", "none"}:
            raise ValueError(f"variants must be 'scaling' and/or 'none', got {self.variants}")
        if self.validation < 0:
            raise ValueError(f"validation must be >= 0, got {self.validation}")


def load_data(cfg: Config, progress: bool) -> dict[str, FrameSet]:
    """Simulated train/test and, if configured, the real test recordings; with
    ``cfg.validation`` the simulated training set and a validation split carved from it."""
    if not (Path(cfg.sim_root) / "Train").is_dir():
        raise FileNotFoundError(
            f"no simulated N-MNIST under {cfg.sim_root!r}; make it with: python -m "
            "spikegraph.events.simulator --mnist-root <MNIST idx folder> --out <sim root>"
        )
    kw = {"n_frames": cfg.n_frames, "progress": progress, "cache_dir": cfg.frame_cache}
    if cfg.validation:
        limit = None if cfg.train_limit is None else cfg.train_limit + cfg.validation
        sim = load_frames(cfg.sim_root, True, limit=limit, name="sim_train", **kw)
        train, val = split_validation(sim, cfg.validation)
        return {"sim_train": train, "sim_val": val}
    data = {
        "sim_train": load_frames(cfg.sim_root, True, limit=cfg.train_limit, name="sim_train", **kw),
        "sim_test": load_frames(cfg.sim_root, False, limit=cfg.test_limit, name="sim_test", **kw),
    }
    if cfg.real_root:
        data["real_test"] = load_frames(cfg.real_root, False, name="real_test", **kw)
    return data


def _run_name(method: str, scaling: str | None) -> str:
    return f"{method.replace('+', '_')}_{scaling or 'none'}"


def run_one(
    cfg: Config,
    method: str,
    scaling: str | None,
    data: dict[str, FrameSet],
    perms: torch.Tensor,
    ckpt_dir: Path,
    resume: bool,
    progress: bool,
) -> dict[str, Any]:
    """One method with one scaling setting through the whole task sequence."""
    torch.manual_seed(cfg.seed)
    n_inputs = data["sim_train"].frames[0, 0].numel()
    consolidation = cfg.consolidation if scaling else 0.0  # it reads the scaling's experience
    model = SpikingMLP(
        n_inputs,
        cfg.hidden,
        10,
        scaling=scaling,
        input_clip=cfg.input_clip,
        consolidation=consolidation,
    )
    plugin = make_plugin(
        method,
        [cfg.hidden],
        ewc_lambda=cfg.ewc_lambda,
        fisher_samples=cfg.fisher_samples,
        xdg_keep=cfg.xdg_keep,
        seed=cfg.seed,
    )
    train = [permuted_task(data["sim_train"], p, t) for t, p in enumerate(perms)]
    tests = {
        k: [permuted_task(v, p, t) for t, p in enumerate(perms)]
        for k, v in data.items()
        if k != "sim_train"
    }
    train_cfg = TrainConfig(
        cfg.epochs,
        cfg.batch_size,
        cfg.lr,
        cfg.optimizer,
        seed=cfg.seed,
        reset_optimizer=cfg.reset_optimizer,
    )
    meta = {
        "method": method,
        "scaling": scaling,
        "consolidation": consolidation,
        "hidden": cfg.hidden,
        "input_clip": cfg.input_clip,
        "seed": cfg.seed,
        "n_frames": cfg.n_frames,
    }
    t0 = time.perf_counter()
    out = run_tasks(
        model,
        plugin,
        train,
        tests,
        train_cfg,
        meta=meta,
        resume=resume,
        checkpoint=ckpt_dir / f"{_run_name(method, scaling)}.pt",
        progress=progress,
        test_unseen=not cfg.seen_only,
    )
    return {
        "method": method,
        "scaling": scaling or "none",
        "consolidation": consolidation,
        **out,
        "wall_time_s": time.perf_counter() - t0,
    }


def run_experiment(
    cfg: Config, out: Path, *, resume: bool = False, progress: bool = True
) -> dict[str, Any]:
    """The whole grid; the JSON report is rewritten after every finished run."""
    cfg.check()
    if cfg.threads:
        torch.set_num_threads(cfg.threads)
    start = time.perf_counter()
    data = load_data(cfg, progress)
    perms = make_permutations(cfg.tasks, data["sim_train"].frames[0, 0].numel(), cfg.seed)
    report: dict[str, Any] = {
        "config": portable_fields(asdict(cfg), ("sim_root", "real_root", "frame_cache")),
        "sizes": {k: len(v) for k, v in data.items()},
        "runs": [],
        "machine": machine_info(),
    }
    shapes = {"scaling": cfg.scaling, "none": None}
    jobs = [(m, shapes[v]) for m in cfg.methods for v in cfg.variants]
    for method, scaling in tqdm(jobs, desc="runs", disable=not progress):
        run = run_one(cfg, method, scaling, data, perms, out / "checkpoints", resume, progress)
        report["runs"].append(run)
        report["wall_time_s"] = time.perf_counter() - start
        report["summary"] = summarize(report)
        _write_json(report, out / "nmnist_continual.json")
    return report


def _write_json(report: dict, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(report, indent=2))


def summarize(report: dict) -> dict[str, Any]:
    """Per test set and method: ACC, LA, BWT, forgetting with and without scaling, the gain."""
    out: dict[str, Any] = {"paper_gain_pct": PAPER_GAIN_PCT}
    runs = {(r["method"], r["scaling"]): r for r in report["runs"]}
    for set_name in report["sizes"]:
        if set_name == "sim_train":
            continue
        rows = {}
        for method in report["config"]["methods"]:
            scaled = runs.get((method, report["config"]["scaling"]))
            base = runs.get((method, "none"))
            if scaled is None or base is None:
                continue
            rows[method] = _gain(scaled["metrics"][set_name], base["metrics"][set_name])
        out[set_name] = rows
    return out


def _gain(scaled: dict, base: dict) -> dict[str, float]:
    row = {}
    for key in ("acc", "la", "bwt", "forgetting"):
        row[f"{key}_scaling"], row[f"{key}_none"] = scaled[key], base[key]
    row["gain_points"] = 100 * (scaled["acc"] - base["acc"])
    row["gain_relative_pct"] = (
        100 * (scaled["acc"] - base["acc"]) / base["acc"] if base["acc"] > 0 else float("nan")
    )
    return row


def format_table(report: dict, set_name: str = "sim_test") -> str:
    """A markdown table per method: ACC, its gain, LA, BWT and forgetting (scaling / none, %)."""
    lines = [
        "| method | ACC (scaling / none) | ACC gain: points | ACC gain: relative "
        "| LA (scaling / none) | BWT (scaling / none) | forgetting (scaling / none) |",
        "|---|---|---|---|---|---|---|",
    ]
    for method, r in report["summary"].get(set_name, {}).items():
        pair = {k: f"{100 * r[k + '_scaling']:.1f} / {100 * r[k + '_none']:.1f}"
                for k in ("acc", "la", "bwt", "forgetting")}  # fmt: skip
        lines.append(
            f"| {method} | {pair['acc']} | {r['gain_points']:+.1f} "
            f"| {r['gain_relative_pct']:+.1f} % | {pair['la']} | {pair['bwt']} "
            f"| {pair['forgetting']} |"
        )
    return "\n".join(lines)


def plot(report: dict, method: str, path: Path) -> None:
    """Heatmaps of R (after task i, on task j), scaling and none side by side, per test set."""
    from matplotlib.figure import Figure  # not pyplot: the user's backend stays as it is

    sets = [k for k in report["sizes"] if k != "sim_train"]
    labels = (report["config"]["scaling"], "none")
    fig = Figure(figsize=(9.0, 4.0 * len(sets)), layout="constrained")
    axes = fig.subplots(len(sets), 2, squeeze=False)
    runs = {(r["method"], r["scaling"]): r for r in report["runs"]}
    for row, set_name in enumerate(sets):
        for col, scaling in enumerate(labels):
            ax = axes[row, col]
            run = runs.get((method, scaling))
            if run is None:
                ax.axis("off")
                continue
            R = 100 * np.array(run["R"][set_name], dtype=float)  # None (not tested): nan
            im = ax.imshow(R, vmin=0, vmax=100, cmap="viridis")
            if len(R) <= 10:
                for (i, j), v in zip(
                    np.ndindex(*R.shape),
                    R.ravel().tolist(),
                    strict=True,
                ):
                    if np.isnan(v):
                        continue
                    ax.text(
                        j,
                        i,
                        f"{v:.0f}",
                        ha="center",
                        va="center",
                        fontsize=7,
                        color="white" if v < 60 else "black",
                    )
            m = run["metrics"][set_name]
            ax.set_title(
                f"{set_name}, {scaling}: ACC {100 * m['acc']:.1f}, BWT {100 * m['bwt']:+.1f}",
                fontsize=9,
            )
            step = 1 if len(R) <= 10 else 5
            ax.set_xticks(range(0, R.shape[1], step))
            ax.set_yticks(range(0, R.shape[0], step))
            ax.set_xlabel("tested on task j")
            ax.set_ylabel("after training task i")
    fig.colorbar(im, ax=axes, shrink=0.8, label="accuracy (%)")
    fig.suptitle(f"permuted N-MNIST, {method}: accuracy matrix R")
    fig.savefig(path, dpi=110)


def _variant(run: dict) -> str:
    if run["scaling"] == "none":
        return "none"
    strength = run.get("consolidation", 0.0)
    return run["scaling"] + (f" + consolidation {strength:g}" if strength else "")


def study_summary(reports: list[dict], set_name: str = "sim_test") -> list[dict[str, Any]]:
    """Several runs of the experiment (seeds, methods, variants in any split over reports):
    per method and variant, ACC, LA, BWT and forgetting as mean and std over seeds, and the
    relative ACC gain over the same method without scaling, on the seeds both have."""
    by: dict[tuple[str, str], dict[int, dict]] = {}
    for report in reports:
        for run in report["runs"]:
            if set_name in run["metrics"]:
                key, seed = (run["method"], _variant(run)), report["config"]["seed"]
                if seed in by.setdefault(key, {}):
                    raise ValueError(
                        f"two runs of {key} with seed {seed}: pool one study at a time"
                    )
                by[key][seed] = run["metrics"][set_name]
    rows = []
    for (method, variant), seeds in sorted(by.items(), key=lambda kv: _order(*kv[0])):
        row: dict[str, Any] = {"method": method, "variant": variant, "seeds": sorted(seeds)}
        for key in ("acc", "la", "bwt", "forgetting"):
            values = np.array([m[key] for m in seeds.values()])
            row[key] = (float(values.mean()), float(values.std(ddof=1)) if len(values) > 1 else 0.0)
        base = by.get((method, "none"), {})
        paired = sorted(set(seeds) & set(base))
        if variant != "none" and paired:
            gains = [seeds[s]["acc"] / base[s]["acc"] - 1 for s in paired]
            row["gain_relative_pct"] = 100 * float(np.mean(gains))
        rows.append(row)
    return rows


def _order(method: str, variant: str) -> tuple[int, int, int, str]:
    """Per method: the scaling variants, then the mean-field control, then no scaling."""
    return (
        list(METHODS).index(method),
        variant == "none",
        variant.startswith("mean_field"),
        variant,
    )


def format_study_table(rows: list[dict[str, Any]]) -> str:
    """:func:`study_summary` as markdown, in %: mean ± std over seeds."""
    lines = [
        "| method | synapses | seeds | ACC | ACC vs none | LA | BWT | forgetting |",
        "|---|---|---:|---:|---:|---:|---:|---:|",
    ]
    for r in rows:
        acc, la, bwt, forget = (
            f"{100 * r[k][0]:.1f} ± {100 * r[k][1]:.1f}" for k in ("acc", "la", "bwt", "forgetting")
        )
        gain = f"{r['gain_relative_pct']:+.1f} %" if "gain_relative_pct" in r else "–"
        lines.append(
            f"| {r['method']} | {r['variant']} | {len(r['seeds'])} | {acc} | {gain} "
            f"| {la} | {bwt} | {forget} |"
        )
    return "\n".join(lines)


def format_summary(report: dict) -> str:
    lines = []
    for set_name in [k for k in report["sizes"] if k != "sim_train"]:
        lines += [f"{set_name}:", format_table(report, set_name)]
        for method, r in report["summary"].get(set_name, {}).items():
            lines.append(
                f"  headline {method}: ACC scaling - none = {r['gain_points']:+.1f} points "
                f"({r['gain_relative_pct']:+.1f} % relative; paper: +{PAPER_GAIN_PCT:.0f} %)"
            )
    return "\n".join(lines)


def parse_args(argv: list[str] | None) -> tuple[Config, argparse.Namespace]:
    d = Config()
    p = argparse.ArgumentParser(description="Continual learning on permuted N-MNIST")
    p.add_argument("--sim-root", required=True, help="simulated N-MNIST (Train/, Test/)")
    p.add_argument("--real-root", default=None, help="real N-MNIST (its Test/ is also scored)")
    p.add_argument(
        "--quick",
        action="store_true",
        help="small defaults: " + ", ".join(f"{k}={v}" for k, v in QUICK.items()),
    )
    p.add_argument(
        "--tasks", type=positive_int, default=None, help=f"number of tasks (default {d.tasks})"
    )
    p.add_argument("--methods", nargs="+", default=d.methods, choices=list(METHODS))
    p.add_argument(
        "--epochs", type=positive_int, default=None, help=f"per task (default {d.epochs})"
    )
    p.add_argument("--train-limit", type=positive_int, default=None, help="simulated train ones")
    p.add_argument("--test-limit", type=positive_int, default=None, help="simulated test ones")
    p.add_argument("--fisher-samples", type=positive_int, default=None)
    p.add_argument("--batch-size", type=positive_int, default=d.batch_size)
    p.add_argument("--lr", type=float, default=d.lr)
    p.add_argument("--optimizer", choices=("adam", "sgd"), default=d.optimizer)
    p.add_argument("--reset-optimizer", action="store_true", help="fresh optimizer per task")
    p.add_argument("--ewc-lambda", type=float, default=d.ewc_lambda)
    p.add_argument("--xdg-keep", type=float, default=d.xdg_keep)
    p.add_argument("--hidden", type=positive_int, default=d.hidden)
    p.add_argument(
        "--scaling",
        type=str.lower,
        choices=list(SHAPES),
        default=d.scaling,
        help="the shape of the scaling models (default: %(default)s)",
    )
    p.add_argument(
        "--variants",
        nargs="+",
        default=d.variants,
        choices=("scaling", "none"),
        help="which member(s) of each pair to run",
    )
    p.add_argument(
        "--input-clip", type=float, default=d.input_clip, help="clip the frames (default: none)"
    )
    p.add_argument(
        "--validation",
        type=nonnegative_int,
        default=d.validation,
        help="hold out N simulated training recordings and test on them (for tuning; "
        "the test sets are not loaded)",
    )
    p.add_argument(
        "--consolidation",
        type=float,
        default=d.consolidation,
        help="consolidation strength of the scaling models (0: off; any optimizer)",
    )
    p.add_argument(
        "--seen-only",
        action="store_true",
        help="after each task test only the tasks trained so far (what the metrics read)",
    )
    p.add_argument("--frame-cache", default=None, help="folder for the binned frames (reused)")
    p.add_argument("--seed", type=int, default=d.seed)
    p.add_argument("--threads", type=positive_int, default=d.threads)
    p.add_argument("--resume", action="store_true", help="continue from the last checkpoints")
    p.add_argument("--out", type=Path, default=Path("results/nmnist_continual"))
    p.add_argument("--no-progress", action="store_true")
    args = p.parse_args(argv)
    for key, quick in QUICK.items():
        if getattr(args, key) is None:
            setattr(args, key, quick if args.quick else getattr(d, key))
    if args.tasks > MAX_TASKS:
        p.error(f"--tasks {args.tasks}: at most {MAX_TASKS} permuted tasks")
    if args.validation and args.train_limit is not None and args.validation >= args.train_limit:
        p.error(
            f"--validation {args.validation} leaves no training recordings of --train-limit "
            f"{args.train_limit}: give a smaller --validation"
        )
    if not 0.0 < args.xdg_keep <= 1.0:
        p.error(f"--xdg-keep {args.xdg_keep} is not a fraction in (0, 1]")
    if args.consolidation < 0 or args.ewc_lambda < 0:
        p.error("--consolidation and --ewc-lambda must be >= 0")
    if args.lr <= 0:
        p.error(f"--lr {args.lr} must be positive")
    fields_ = {k: v for k, v in vars(args).items() if k in Config.__dataclass_fields__}
    cfg = Config(**fields_)
    try:
        cfg.check()
    except ValueError as err:
        p.error(str(err))
    return cfg, args


def main(argv: list[str] | None = None) -> dict:
    """Command-line entry point of ``examples/nmnist_continual.py``."""
    cfg, args = parse_args(argv)
    report = run_experiment(cfg, args.out, resume=args.resume, progress=not args.no_progress)
    print(format_summary(report))
    (args.out / "table.md").write_text(
        "\n\n".join(
            f"{k}\n\n{format_table(report, k)}" for k in report["summary"] if k != "paper_gain_pct"
        )
        + "\n"
    )
    for method in cfg.methods:
        plot(report, method, args.out / f"R_{method.replace('+', '_')}.png")
    print(f"results written to {args.out}/")
    return report
