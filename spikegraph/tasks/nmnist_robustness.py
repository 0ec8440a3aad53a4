"""Perturbation resistance on N-MNIST: adaptive scaling against the baseline.

Both models (the same :class:`~spikegraph.models.SpikingMLP`, scaling on and off; with
``--models`` also the mean-field control, whose scale is the layer's mean) train on
clean simulated recordings, then every perturbation of :mod:`spikegraph.events.perturb` is
applied at test time at its 15 levels to the simulated test set and to the real test
recordings. Both models see exactly the same perturbed inputs (one seed per perturbation,
level and seed). The summary is the mean accuracy over all perturbed levels (level 0, the
clean input, excluded), scaling minus baseline, in points and relative to the baseline
(and scaling minus the mean field where that control ran).
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
import zlib
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any

import torch
from tqdm.auto import tqdm

from spikegraph.events.perturb import LEVELS, perturb
from spikegraph.events.training import FrameSet, evaluate
from spikegraph.tasks.cli import positive_int
from spikegraph.tasks.nmnist_training import (
    DEFAULT_MODELS,
    MODELS,
    ModelConfig,
    add_model_arguments,
    check_model_arguments,
    checkpoint_path,
    fit,
    load_splits,
)
from spikegraph.tasks.node_classification import machine_info
from spikegraph.utils.paths import portable_fields

__all__ = ["Config", "run_experiment", "summarize", "mean_curve", "plot", "main"]


@dataclass
class Config:
    """Everything that defines the experiment; saved verbatim in the JSON. The model and
    training fields are those of :class:`~spikegraph.tasks.nmnist_training.ModelConfig`."""

    sim_root: str = ""
    real_root: str = ""
    n_frames: int = 10
    train_limit: int | None = None
    test_limit: int | None = None
    val_size: int = 5000
    hidden: int = 512
    scaling: str = "relative"
    surrogate: str = "atan"
    readout: str = "membrane"
    input_clip: float | None = None
    epochs: int = 8
    batch_size: int = 100
    lr: float = 3e-3
    schedule: str = "cosine"
    weight_decay: float = 0.0
    seeds: list[int] = field(default_factory=lambda: [0])
    models: list[str] = field(default_factory=lambda: list(DEFAULT_MODELS))
    perturbations: list[str] = field(default_factory=lambda: list(LEVELS))
    levels: int = 15
    checkpoint_dir: str | None = None
    frame_cache: str | None = None
    threads: int | None = None

    def model_config(self) -> ModelConfig:
        return ModelConfig(**{f.name: getattr(self, f.name) for f in fields(ModelConfig)})


def load_data(cfg: Config, progress: bool) -> dict[str, FrameSet]:
    """Simulated train (minus validation), validation and test, and the real recordings."""
    if not (Path(cfg.sim_root) / "Train").is_dir():
        raise FileNotFoundError(
            f"no simulated N-MNIST under {cfg.sim_root!r}; make it with: python -m "
            "spikegraph.events.simulator --mnist-root <MNIST idx folder> --out <sim root>"
        )
    return load_splits(
        cfg.sim_root, cfg.real_root, n_frames=cfg.n_frames, train_limit=cfg.train_limit,
        test_limit=cfg.test_limit, val_size=cfg.val_size, cache=cfg.frame_cache,
        progress=progress,
    )  # fmt: skip


def train_model(cfg: Config, model_name: str, data: dict[str, FrameSet], seed: int, progress: bool):
    """A :class:`SpikingMLP` trained on clean frames (:func:`~spikegraph.tasks.nmnist_training.fit`);
    with ``checkpoint_dir`` a finished model found there is loaded instead of retrained."""
    ckpt = checkpoint_path(cfg.checkpoint_dir, model_name, seed) if cfg.checkpoint_dir else None
    return fit(
        cfg.model_config(), model_name, seed, data["sim_train"], data["sim_val"],
        checkpoint=ckpt, progress=progress,
    )  # fmt: skip


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


def run_experiment(
    cfg: Config, progress: bool = True, out_json: Path | None = None, resume: bool = False
) -> dict[str, Any]:
    """Train (or load) both models for every seed and evaluate them clean and perturbed.

    With ``out_json`` the report is rewritten after every finished model; with ``resume`` the
    models already in that file (same settings) are kept and not run again.
    """
    if cfg.threads:
        torch.set_num_threads(cfg.threads)
    start = time.perf_counter()
    data = load_data(cfg, progress)
    report: dict[str, Any] = {
        "config": report_config(cfg),
        "sizes": {k: len(v) for k, v in data.items()},
        "levels": {name: LEVELS[name][: cfg.levels] for name in cfg.perturbations},
        "runs": _saved_runs(out_json, report_config(cfg)) if resume else [],
        "machine": machine_info(),
    }
    done = {(r["model"], r["seed"]) for r in report["runs"]}
    jobs = [(m, s) for s in cfg.seeds for m in cfg.models if (m, s) not in done]
    for model_name, seed in tqdm(jobs, desc="models", disable=not progress):
        t0 = time.perf_counter()
        model, history = train_model(cfg, model_name, data, seed, progress)
        train_s = time.perf_counter() - t0
        clean = {k: evaluate(model, v) for k, v in data.items()}
        grid = robustness_grid(cfg, model, data, seed)
        report["runs"].append(
            {"model": model_name, "seed": seed, "history": history, "train_time_s": train_s,
             "clean_acc": clean, "perturbed_acc": grid}
        )  # fmt: skip
        if out_json is not None:
            out_json.parent.mkdir(parents=True, exist_ok=True)
            out_json.write_text(json.dumps(report, indent=2))
    report["wall_time_s"] = time.perf_counter() - start
    report["summary"] = summarize(report)
    return report


PATH_FIELDS = ("sim_root", "real_root", "checkpoint_dir", "frame_cache")


def report_config(cfg: Config) -> dict[str, Any]:
    """``cfg`` as the report keeps it: its folders relative to the working directory."""
    return portable_fields(asdict(cfg), PATH_FIELDS)


# may differ between resumed runs (a resumed run may add models)
_RUN_ONLY = ("checkpoint_dir", "frame_cache", "threads", "models")


def _saved_runs(path: Path | None, config: dict[str, Any]) -> list[dict]:
    if path is None or not path.exists():
        return []
    saved = json.loads(path.read_text())
    diff = sorted(k for k in config if k not in _RUN_ONLY and saved["config"].get(k) != config[k])
    if diff:
        raise ValueError(f"{path} was written with other settings ({', '.join(diff)}); "
                         "use another --out or drop --resume")  # fmt: skip
    return saved["runs"]


def mean_curve(runs: list[dict], model: str, set_name: str, name: str) -> list[float]:
    """Accuracy per level of one perturbation, averaged over the seeds of ``model``."""
    curves = [r["perturbed_acc"][set_name][name] for r in runs if r["model"] == model]
    return [statistics.fmean(level) for level in zip(*curves, strict=True)]


def summarize(report: dict) -> dict[str, Any]:
    """Mean accuracy over perturbed levels (level 0 excluded), per set and perturbation."""
    out: dict[str, Any] = {}
    names = report["config"]["perturbations"]
    models = models_of(report)
    for set_name in ("sim_test", "real_test"):
        per_name, overall, clean = {}, {m: [] for m in models}, {}
        for name in names:
            row = {}
            for model in models:
                curve = mean_curve(report["runs"], model, set_name, name)
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
        for model in models
    }
    return out


def models_of(report: dict) -> list[str]:
    """The models a report has runs of, in :data:`~spikegraph.tasks.nmnist_training.MODELS`
    order."""
    return [m for m in MODELS if any(r["model"] == m for r in report["runs"])]


def _gain(row: dict[str, float], clean: dict[str, float]) -> dict[str, float]:
    """Gain of scaling over the baseline, also net of the gap they already have on clean
    input (``beyond_clean_points``) and as retained fraction of the clean accuracy; with the
    mean-field control, scaling minus it (``vs_mean_field_points``, and net of the clean gap)."""
    base, scaled = row["baseline"], row["scaling"]
    rel = 100 * (scaled - base) / base if base > 0 else float("nan")
    gain = 100 * (scaled - base)
    out = {
        **row,
        "gain_points": gain,
        "gain_relative_pct": rel,
        "beyond_clean_points": gain - 100 * (clean["scaling"] - clean["baseline"]),
        "retained": {m: row[m] / clean[m] if clean[m] > 0 else float("nan") for m in row},
    }
    if "mean_field" in row:
        vs = 100 * (scaled - row["mean_field"])
        out["vs_mean_field_points"] = vs
        out["vs_mean_field_beyond_clean"] = vs - 100 * (clean["scaling"] - clean["mean_field"])
    return out


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
        if "mean_field" in o:
            lines.append(
                f"  mean field {100 * o['mean_field']:.2f} %: scaling minus mean field "
                f"{o['vs_mean_field_points']:+.2f} points, beyond the clean gap "
                f"{o['vs_mean_field_beyond_clean']:+.2f}"
            )
        for name, row in s[set_name]["per_perturbation"].items():
            control = f"  mean field {100 * row['mean_field']:6.2f}" if "mean_field" in row else ""
            lines.append(
                f"  {name:12s} scaling {100 * row['scaling']:6.2f}  baseline "
                f"{100 * row['baseline']:6.2f}  gain {row['gain_points']:+6.2f} points, "
                f"beyond clean {row['beyond_clean_points']:+6.2f}{control}"
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
        for model in models_of(report):
            style = {"scaling": "-o", "baseline": "--s", "mean_field": ":^"}[model]
            acc = [100 * a for a in mean_curve(report["runs"], model, set_name, name)]
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
    add_model_arguments(p, d.model_config())
    p.add_argument(
        "--checkpoint-dir", default=None, help="load finished models from here, save new ones"
    )
    p.add_argument("--frame-cache", default=None, help="folder for binned-frame caches")
    p.add_argument("--resume", action="store_true", help="keep the finished models of --out")
    p.add_argument("--seeds", type=int, nargs="+", default=d.seeds)
    p.add_argument(
        "--models",
        nargs="+",
        choices=MODELS,
        default=d.models,
        help="the models (scaling and baseline, and mean_field for the control)",
    )
    p.add_argument(
        "--levels", type=positive_int, default=d.levels, help="first L of the 15 levels (2..15)"
    )
    p.add_argument("--perturbations", nargs="+", default=d.perturbations, choices=list(LEVELS))
    p.add_argument("--threads", type=positive_int, default=None)
    p.add_argument("--out", type=Path, default=Path("results/nmnist_robustness"))
    p.add_argument("--no-progress", action="store_true")
    p.add_argument(
        "--from-json", type=Path, default=None, help="re-summarise and re-plot a saved report"
    )
    args = p.parse_args(argv)
    if args.from_json is None and not (args.sim_root and args.real_root):
        p.error("--sim-root and --real-root are required (or --from-json to re-plot a report)")
    if not 2 <= args.levels <= max(len(v) for v in LEVELS.values()):
        p.error(f"--levels {args.levels}: give 2..15 (level 0 is the clean input)")
    if not {"scaling", "baseline"} <= set(args.models):
        p.error(f"--models {' '.join(args.models)}: the gains need scaling and baseline")
    model = check_model_arguments(p, args)
    fields_ = {k: v for k, v in vars(args).items() if k in Config.__dataclass_fields__}
    return Config(**{**fields_, "input_clip": model.input_clip}), args


def main(argv: list[str] | None = None) -> dict:
    """Command-line entry point of ``examples/nmnist_robustness.py``."""
    cfg, args = parse_args(argv)
    if args.from_json is not None:
        report = json.loads(args.from_json.read_text())
        report["summary"] = summarize(report)
    else:
        out_json = args.out / "nmnist_robustness.json"
        report = run_experiment(cfg, not args.no_progress, out_json, resume=args.resume)
    print(format_summary(report))
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "nmnist_robustness.json").write_text(json.dumps(report, indent=2))
    for set_name in ("sim_test", "real_test"):
        plot(report, set_name, args.out / f"accuracy_vs_level_{set_name}.png")
    print(f"results written to {args.out}/")
    return report
