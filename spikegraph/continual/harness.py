"""The one training loop of the continual-learning experiments, with a checkpoint per task.

:func:`run_tasks` trains one model on a sequence of tasks in turn, the method being a
:class:`~spikegraph.continual.plugins.Plugin`. After every task it evaluates on every task
(seen or not) to fill one row of the accuracy matrix ``R`` per test set, then writes a
checkpoint atomically (to a temporary file, then :func:`os.replace`), so that a run killed at
any moment loses at most the task in progress. The checkpoint holds the model's ``state_dict``
(the synapses' long-term experience buffers are persistent buffers, so they travel in it), the
optimizer, the global torch RNG state and the shuffling generator, the plugin's state (e.g. EWC's
Fisher matrices and anchors), ``R`` and the losses so far, and a description of the run
(``meta``) that must match on resume. ``resume=True`` continues after the last finished task
and ends with the same results as an uninterrupted run (same seed, CPU, one thread).

At the end of each task, before the evaluation, :func:`~spikegraph.synapse.consolidate` folds
the task's experience into the long-term memory of every layer built with ``consolidation >
0`` (a no-op for the others), so that later tasks change the synapses that carried it less.
"""

from __future__ import annotations

import os
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import torch
from torch import nn
from tqdm.auto import tqdm

from spikegraph.continual.metrics import summarize
from spikegraph.continual.plugins import Plugin
from spikegraph.events.training import FrameSet, evaluate, train_epoch
from spikegraph.synapse import consolidate, consolidate_updates

__all__ = ["TrainConfig", "make_optimizer", "run_tasks", "save_checkpoint", "load_checkpoint"]

FORMAT = "spikegraph.continual/1"


@dataclass
class TrainConfig:
    """How each task is trained.

    Args:
        epochs: passes over each task's training set.
        batch_size: mini-batch size.
        lr: learning rate.
        optimizer: ``"adam"`` (default) or ``"sgd"`` (with ``momentum``).
        momentum: SGD momentum.
        seed: seed of the mini-batch order.
        reset_optimizer: start every task with a fresh optimizer state (Adam's moments, SGD's
            momentum) instead of carrying it over from the previous task.
    """

    epochs: int = 1
    batch_size: int = 100
    lr: float = 1e-3
    optimizer: str = "adam"
    momentum: float = 0.9
    seed: int = 0
    reset_optimizer: bool = False


def make_optimizer(model: nn.Module, cfg: TrainConfig) -> torch.optim.Optimizer:
    """The optimizer of ``cfg`` over all parameters of ``model``; consolidated layers scale its
    steps (:func:`~spikegraph.synapse.consolidate_updates`), so consolidation works with any
    optimizer."""
    if cfg.optimizer == "adam":
        opt = torch.optim.Adam(model.parameters(), lr=cfg.lr)
    elif cfg.optimizer == "sgd":
        opt = torch.optim.SGD(model.parameters(), lr=cfg.lr, momentum=cfg.momentum)
    else:
        raise ValueError(f"unknown optimizer {cfg.optimizer!r}; choose 'adam' or 'sgd'")
    consolidate_updates(opt, model)
    return opt


def save_checkpoint(path: str | os.PathLike, state: dict[str, Any]) -> None:
    """``torch.save`` to ``path.tmp``, then an atomic rename over ``path``."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    torch.save(state, tmp)
    os.replace(tmp, path)


def load_checkpoint(
    path: str | os.PathLike,
    meta: dict[str, Any],
    fmt: str = FORMAT,
    kind: str = "continual-learning",
) -> dict[str, Any]:
    """Read a checkpoint of format ``fmt`` and check that it was written by a run described by
    ``meta`` (``kind`` names such checkpoints in the error message)."""
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as err:  # torch raises many types for a damaged file
        raise ValueError(f"checkpoint {path} is corrupt or unreadable: {err}") from err
    if not isinstance(state, dict) or state.get("format") != fmt:
        raise ValueError(f"{path} is not a {kind} checkpoint ({fmt})")
    if state["meta"] != meta:
        diff = sorted(
            k for k in meta.keys() | state["meta"].keys() if state["meta"].get(k) != meta.get(k)
        )
        raise ValueError(
            f"checkpoint {path} belongs to another run; differing settings: "
            + ", ".join(f"{k}: saved {state['meta'].get(k)!r}, now {meta.get(k)!r}" for k in diff)
        )
    return state


def _check_tasks(train: list[FrameSet], tests: dict[str, list[FrameSet]]) -> int:
    n = len(train)
    if n < 1:
        raise ValueError("need at least one task")
    for name, sets in tests.items():
        if len(sets) != n:
            raise ValueError(f"test set {name!r} has {len(sets)} tasks, training has {n}")
    return n


def _fresh(tests: dict[str, list[FrameSet]]) -> dict[str, Any]:
    return {"tasks_done": 0, "R": {k: [] for k in tests}, "train_loss": [], "task_time_s": []}


def _train_task(model, plugin, data, opt, cfg, gen, task_id, progress) -> list[float]:
    kw = plugin.forward_kwargs(task_id)
    plugin.before_task(task_id, model, data, kw)
    hook = lambda loss: plugin.loss(loss, model)  # noqa: E731
    losses = [
        train_epoch(
            model,
            data,
            opt,
            batch_size=cfg.batch_size,
            generator=gen,
            loss_hook=hook,
            progress=progress,
            **kw,
        )
        for _ in range(cfg.epochs)
    ]
    plugin.after_task(task_id, model, data, kw)
    return losses


def run_tasks(
    model: nn.Module,
    plugin: Plugin,
    train: list[FrameSet],
    tests: dict[str, list[FrameSet]],
    cfg: TrainConfig,
    *,
    checkpoint: str | os.PathLike | None = None,
    resume: bool = False,
    meta: dict[str, Any] | None = None,
    progress: bool = True,
    test_unseen: bool = True,
) -> dict[str, Any]:
    """Train on ``train[0], train[1], ...`` in turn; after each, test on every task.

    Args:
        model: the network, freshly initialised (its weights are the starting point).
        plugin: the continual-learning method.
        train: one training set per task.
        tests: named lists of test sets, one per task (e.g. ``{"sim_test": [...]}``).
        cfg: optimisation settings.
        checkpoint: file written after every task (``None``: no checkpoints).
        resume: continue from ``checkpoint`` if it exists (otherwise start afresh).
        meta: JSON-able description of the run, stored in the checkpoint and compared on resume
            (the training settings, the plugin's settings, the task count and the set sizes
            are added to it).
        progress: show progress bars.
        test_unseen: also test on the tasks not trained yet (``False``: those entries of
            ``R`` are ``None``; ACC, LA, BWT and forgetting never read them, and with 20
            tasks the testing time halves).

    Returns:
        ``{"R": {set: [[acc]]}, "metrics": {set: summarize(R)}, "train_loss": [[per epoch]],
        "task_time_s": [...], "resumed_from": tasks done at start}``.
    """
    n = _check_tasks(train, tests)
    meta = {
        **(meta or {}),
        "train": asdict(cfg),
        "tasks": n,
        "plugin": plugin.config(),
        "sizes": {"train": len(train[0]), **{k: len(v[0]) for k, v in tests.items()}},
    }
    opt = make_optimizer(model, cfg)
    gen = torch.Generator().manual_seed(cfg.seed)
    state = _fresh(tests)
    if resume and checkpoint is not None and Path(checkpoint).exists():
        state = load_checkpoint(checkpoint, meta)
        model.load_state_dict(state["model"])
        opt.load_state_dict(state["optimizer"])
        plugin.load_state_dict(state["plugin"])
        torch.set_rng_state(state["rng"]["torch"])
        gen.set_state(state["rng"]["shuffle"])
    start = state["tasks_done"]
    bar = tqdm(range(start, n), desc=f"tasks ({plugin.name})", disable=not progress, leave=False)
    for t in bar:
        t0 = time.perf_counter()
        if cfg.reset_optimizer:
            opt = make_optimizer(model, cfg)
        state["train_loss"].append(_train_task(model, plugin, train[t], opt, cfg, gen, t, progress))
        consolidate(model)
        for name, sets in tests.items():
            row = [
                evaluate(model, sets[j], **plugin.forward_kwargs(j))
                if j <= t or test_unseen
                else None
                for j in range(n)
            ]
            state["R"][name].append(row)
        state["task_time_s"].append(time.perf_counter() - t0)
        state["tasks_done"] = t + 1
        if checkpoint is not None:
            rng = {"torch": torch.get_rng_state(), "shuffle": gen.get_state()}
            state.update(
                format=FORMAT,
                meta=meta,
                model=model.state_dict(),
                rng=rng,
                optimizer=opt.state_dict(),
                plugin=plugin.state_dict(),
            )
            save_checkpoint(checkpoint, state)
    return {
        "R": state["R"],
        "metrics": {k: summarize(R) for k, R in state["R"].items()},
        "train_loss": state["train_loss"],
        "task_time_s": state["task_time_s"],
        "resumed_from": start,
    }
