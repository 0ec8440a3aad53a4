"""Training the N-MNIST spiking MLP: validation split, schedule, resumable checkpoints.

One recipe trains both models of the robustness and continual experiments (the same
:class:`~spikegraph.models.SpikingMLP`, scaling on and off), so that they differ in the scaling
only: the same hyper-parameters, the same epochs and the same batches. Hyper-parameters are
chosen on a validation split carved once from the simulated training recordings
(:func:`split_validation`, the same for every seed and model); the test sets are not seen
until the end.

A run writes a checkpoint after every epoch (weights, experience buffers, optimiser, schedule,
random state and the history so far) and, when restarted with the same settings, continues from
it; a finished checkpoint is what :func:`load_trained` reads back, e.g. for the perturbation
study of :mod:`spikegraph.tasks.nmnist_robustness`.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, fields
from pathlib import Path
from typing import Any

import torch
from torch import nn

from spikegraph.continual.harness import load_checkpoint, save_checkpoint
from spikegraph.events.training import FrameSet, evaluate, load_frames, train_epoch
from spikegraph.models import SpikingMLP
from spikegraph.models.spiking_mlp import READOUTS
from spikegraph.synapse import SHAPES
from spikegraph.tasks.cli import SURROGATE_CHOICES, positive_int
from spikegraph.tasks.node_classification import machine_info
from spikegraph.utils.paths import portable_command, portable_path

__all__ = [
    "ModelConfig",
    "MODELS",
    "build_model",
    "split_validation",
    "fit",
    "load_trained",
    "checkpoint_path",
    "main",
]

#: The models of the N-MNIST comparisons: the scaling one takes ``ModelConfig.scaling``, the
#: mean-field control (``scaling="mean_field"``, for the relative shape only) averages that
#: synapse's scale over the layer.
MODELS = ("scaling", "baseline", "mean_field")
#: The models trained when none are named.
DEFAULT_MODELS = ("scaling", "baseline")
SCHEDULES = ("constant", "cosine")
FORMAT = "spikegraph-nmnist-mlp-v1"


@dataclass
class ModelConfig:
    """The network and its training recipe (the same for both models).

    The defaults were chosen on a 2,000-recording validation split of the first 12,000
    simulated training recordings, 3 epochs per setting (``results/nmnist_training/tuning``):
    the membrane read-out with the atan surrogate (92.4 % baseline / 92.8 % scaling, against
    74.7 % / 74.5 % for the former rate read-out with the rectangular window), then lr 3e-3
    (94.1 / 94.7 %) and unclipped counts (94.1 / 94.2 % at lr 1e-3; 95.5 % for the baseline
    with both). ``input_clip=None`` feeds the event counts as they are.
    """

    hidden: int = 512
    n_frames: int = 10
    scaling: str = "relative"
    surrogate: str = "atan"
    readout: str = "membrane"
    input_clip: float | None = None
    epochs: int = 8
    batch_size: int = 100
    lr: float = 3e-3
    schedule: str = "cosine"
    weight_decay: float = 0.0

    def check(self) -> None:
        if self.readout not in READOUTS:
            raise ValueError(f"readout must be one of {READOUTS}, got {self.readout!r}")
        if self.schedule not in SCHEDULES:
            raise ValueError(f"schedule must be one of {SCHEDULES}, got {self.schedule!r}")
        if self.epochs < 1 or self.batch_size < 1 or not self.lr > 0:
            raise ValueError(
                f"need epochs >= 1, batch_size >= 1 and lr > 0, got {self.epochs}, "
                f"{self.batch_size}, {self.lr}"
            )


def _scaling_of(cfg: ModelConfig, model: str) -> str | None:
    if model not in MODELS:
        raise ValueError(f"model must be one of {MODELS}, got {model!r}")
    if model == "mean_field" and cfg.scaling != "relative":
        raise ValueError(
            f"the mean-field control pools the relative shape's scale; scaling={cfg.scaling!r} "
            "has no mean-field form"
        )
    return {"scaling": cfg.scaling, "mean_field": "mean_field"}.get(model)


def build_model(cfg: ModelConfig, model: str, in_features: int = 2312) -> SpikingMLP:
    """A fresh network for ``model`` (one of :data:`MODELS`)."""
    cfg.check()
    return SpikingMLP(
        in_features,
        cfg.hidden,
        10,
        scaling=_scaling_of(cfg, model),
        surrogate=cfg.surrogate,
        readout=cfg.readout,
        input_clip=cfg.input_clip,
    )


def split_validation(data: FrameSet, n_val: int, seed: int = 0) -> tuple[FrameSet, FrameSet]:
    """``(train, val)``: ``n_val`` samples drawn at random (``seed``) are held out."""
    if not 0 < n_val < len(data):
        raise ValueError(f"n_val must lie in [1, {len(data) - 1}], got {n_val}")
    order = torch.randperm(len(data), generator=torch.Generator().manual_seed(seed))
    keep, held = order[:-n_val].sort().values, order[-n_val:].sort().values
    return (
        FrameSet(data.frames[keep], data.labels[keep], f"{data.name}[train]"),
        FrameSet(data.frames[held], data.labels[held], f"{data.name}[val]"),
    )


def checkpoint_path(directory: str | os.PathLike, model: str, seed: int) -> Path:
    return Path(directory) / f"{model}_seed{seed}.pt"


def _optimizer(cfg: ModelConfig, model: nn.Module):
    opt = torch.optim.Adam(model.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay)
    if cfg.schedule == "cosine":
        sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=cfg.epochs)
    else:
        sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda _: 1.0)
    return opt, sched


def _meta(cfg: ModelConfig, model: str, seed: int, n_train: int) -> dict[str, Any]:
    return {**asdict(cfg), "model": model, "seed": seed, "n_train": n_train}


def fit(
    cfg: ModelConfig,
    model_name: str,
    seed: int,
    train: FrameSet,
    val: FrameSet | None = None,
    *,
    checkpoint: str | os.PathLike | None = None,
    progress: bool = True,
    on_epoch: Callable[[list[dict[str, float]]], None] | None = None,
) -> tuple[SpikingMLP, list[dict[str, float]]]:
    """Train ``model_name`` with Adam and the configured schedule; returns the model after the
    last epoch and the history (loss, validation accuracy, lr, seconds per epoch).

    With ``checkpoint``, the state is saved after every epoch and a run with the same settings
    resumes from it (a finished one only loads); other settings raise a ``ValueError``.
    ``on_epoch`` is called with the history after every epoch (e.g. to rewrite a report).
    """
    torch.manual_seed(seed)
    model = build_model(cfg, model_name, train.frames[0, 0].numel())
    opt, sched = _optimizer(cfg, model)
    gen = torch.Generator().manual_seed(seed)
    meta = _meta(cfg, model_name, seed, len(train))
    history: list[dict[str, float]] = []
    if checkpoint is not None and Path(checkpoint).exists():
        state = load_checkpoint(checkpoint, meta, FORMAT, "N-MNIST model")
        model.load_state_dict(state["model"])
        opt.load_state_dict(state["optimizer"])
        sched.load_state_dict(state["scheduler"])
        gen.set_state(state["generator"])
        history = state["history"]
        print(f"{model_name} seed {seed}: resumed after epoch {len(history)} from {checkpoint}")
    for epoch in range(len(history), cfg.epochs):
        t0 = time.perf_counter()
        lr = opt.param_groups[0]["lr"]
        loss = train_epoch(
            model, train, opt, batch_size=cfg.batch_size, generator=gen, progress=progress
        )
        sched.step()
        row = {"epoch": epoch + 1, "loss": loss, "lr": lr, "time_s": time.perf_counter() - t0}
        if val is not None:
            row["val_acc"] = evaluate(model, val)
        history.append(row)
        val_txt = f", val {100 * row['val_acc']:.2f} %" if val is not None else ""
        print(f"{model_name} seed {seed} epoch {epoch + 1}/{cfg.epochs}: loss {loss:.4f}"
              f"{val_txt} ({row['time_s']:.0f} s)", flush=True)  # fmt: skip
        if checkpoint is not None:
            save_checkpoint(checkpoint, {
                "format": FORMAT, "meta": meta, "model": model.state_dict(),
                "optimizer": opt.state_dict(), "scheduler": sched.state_dict(),
                "generator": gen.get_state(), "history": history,
            })  # fmt: skip
        if on_epoch is not None:
            on_epoch(history)
    return model, history


def load_trained(path: str | os.PathLike) -> tuple[SpikingMLP, dict[str, Any]]:
    """The model of a finished checkpoint written by :func:`fit`, in eval mode, and its
    ``meta`` (the :class:`ModelConfig` fields, ``model``, ``seed``, ``n_train``) plus its
    ``history``."""
    state = torch.load(path, map_location="cpu", weights_only=True)
    if not isinstance(state, dict) or state.get("format") != FORMAT:
        raise ValueError(f"{path} is not an N-MNIST model checkpoint ({FORMAT})")
    meta = dict(state["meta"])
    cfg = ModelConfig(**{f.name: meta[f.name] for f in fields(ModelConfig)})
    if len(state["history"]) < cfg.epochs:
        raise ValueError(
            f"{path} holds {len(state['history'])} of {cfg.epochs} epochs: finish the run first"
        )
    in_features = state["model"]["layers.0.weight"].shape[1]
    model = build_model(cfg, meta["model"], in_features)
    model.load_state_dict(state["model"])
    return model.eval(), {**meta, "history": state["history"]}


def load_splits(
    sim_root: str, real_root: str | None, *, n_frames: int, train_limit: int | None,
    test_limit: int | None, val_size: int, cache: str | None, progress: bool, test: bool = True,
) -> dict[str, FrameSet]:  # fmt: skip
    """Simulated train (minus the validation split) and validation; with ``test`` also the
    simulated test set and, with ``real_root``, the real recordings (train and test)."""
    kw = {"n_frames": n_frames, "progress": progress, "cache_dir": cache}
    sim = load_frames(sim_root, True, limit=train_limit, name="sim_train", **kw)
    data = dict(zip(("sim_train", "sim_val"), split_validation(sim, val_size), strict=True))
    if not test:
        return data
    data["sim_test"] = load_frames(sim_root, False, limit=test_limit, name="sim_test", **kw)
    if real_root:
        data["real_train"] = load_frames(real_root, True, name="real_train", **kw)
        data["real_test"] = load_frames(real_root, False, name="real_test", **kw)
    return data


def add_model_arguments(p: argparse.ArgumentParser, d: ModelConfig) -> None:
    """One flag per :class:`ModelConfig` field, with its choices, defaults ``d``."""
    choices = {
        "scaling": list(SHAPES),
        "surrogate": SURROGATE_CHOICES,
        "readout": list(READOUTS),
        "schedule": list(SCHEDULES),
    }
    kinds = {"hidden": positive_int, "n_frames": positive_int, "epochs": positive_int}
    kinds |= {"batch_size": positive_int, "input_clip": float}
    for f in fields(ModelConfig):
        default = getattr(d, f.name)
        kind = str.lower if f.name in choices else kinds.get(f.name, type(default))
        p.add_argument(
            f"--{f.name.replace('_', '-')}",
            type=kind,
            choices=choices.get(f.name),
            default=default,
            help="(default: %(default)s)",
        )
    p.add_argument(
        "--train-limit", type=positive_int, default=None, help="N simulated training recordings"
    )
    p.add_argument("--test-limit", type=positive_int, default=None, help="N simulated test ones")
    p.add_argument(
        "--val-size", type=positive_int, default=5000, help="held out of the training recordings"
    )


def check_model_arguments(p: argparse.ArgumentParser, args: argparse.Namespace) -> ModelConfig:
    """The :class:`ModelConfig` of ``args``; inconsistent values end in ``p.error``."""
    if args.train_limit is not None and args.val_size >= args.train_limit:
        p.error(
            f"--val-size {args.val_size} leaves no training recordings of --train-limit "
            f"{args.train_limit}: give a smaller --val-size (e.g. {max(1, args.train_limit // 10)})"
        )
    if args.lr <= 0:
        p.error(f"--lr {args.lr} must be positive")
    if args.weight_decay < 0:
        p.error(f"--weight-decay {args.weight_decay} must be >= 0")
    cfg = ModelConfig(**{f.name: getattr(args, f.name) for f in fields(ModelConfig)})
    if cfg.input_clip is not None and cfg.input_clip <= 0:
        cfg.input_clip = None  # --input-clip 0: no clipping
    try:
        cfg.check()
    except ValueError as err:
        p.error(str(err))
    return cfg


def parse_args(argv: list[str] | None) -> tuple[ModelConfig, argparse.Namespace]:
    d = ModelConfig()
    p = argparse.ArgumentParser(description="Train the N-MNIST spiking MLP (scaling / baseline)")
    p.add_argument("--sim-root", required=True, help="simulated N-MNIST (Train/, Test/)")
    p.add_argument("--real-root", default=None, help="real N-MNIST recordings (Train/, Test/)")
    p.add_argument("--models", nargs="+", default=list(DEFAULT_MODELS), choices=MODELS)
    p.add_argument("--seeds", type=int, nargs="+", default=[0])
    p.add_argument("--eval-test", action="store_true", help="also report the test sets")
    add_model_arguments(p, d)
    p.add_argument("--checkpoint-dir", default=None, help="save/resume models here")
    p.add_argument("--frame-cache", default=None, help="folder for binned-frame caches")
    p.add_argument("--threads", type=positive_int, default=1)
    p.add_argument("--out", type=Path, required=True, help="JSON report (rewritten per epoch)")
    p.add_argument("--no-progress", action="store_true")
    args = p.parse_args(argv)
    return check_model_arguments(p, args), args


def main(argv: list[str] | None = None) -> dict[str, Any]:
    """Command line of ``examples/nmnist_train.py``: train, validate, optionally test."""
    cfg, args = parse_args(argv)
    torch.set_num_threads(args.threads)
    start = time.perf_counter()
    data = load_splits(
        args.sim_root, args.real_root, n_frames=cfg.n_frames, train_limit=args.train_limit,
        test_limit=args.test_limit, val_size=args.val_size, cache=args.frame_cache,
        progress=not args.no_progress, test=args.eval_test,
    )  # fmt: skip
    report: dict[str, Any] = {
        "config": asdict(cfg),
        "command": "python " + portable_command([sys.argv[0], *(argv or sys.argv[1:])]),
        "sizes": {k: len(v) for k, v in data.items()},
        "runs": [],
        "machine": machine_info(),
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)

    def save() -> None:
        args.out.write_text(json.dumps(report, indent=2))

    for seed in args.seeds:
        for name in args.models:
            run: dict[str, Any] = {"model": name, "seed": seed, "history": []}
            report["runs"].append(run)
            ckpt = checkpoint_path(args.checkpoint_dir, name, seed) if args.checkpoint_dir else None
            model, run["history"] = fit(
                cfg, name, seed, data["sim_train"], data["sim_val"],
                checkpoint=ckpt, progress=not args.no_progress,
                on_epoch=lambda h, run=run: (run.update(history=h), save()),
            )  # fmt: skip
            run["clean_acc"] = {k: evaluate(model, v) for k, v in data.items() if k != "sim_train"}
            run["checkpoint"] = portable_path(ckpt)
            save()
            print(f"{name} seed {seed}: " + ", ".join(
                f"{k} {100 * v:.2f} %" for k, v in run["clean_acc"].items()), flush=True)  # fmt: skip
    report["wall_time_s"] = time.perf_counter() - start
    save()
    return report
