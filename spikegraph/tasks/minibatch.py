"""Mini-batch node classification with PyG's ``NeighborLoader`` and global edge ids, in one
process or data-parallel across several (``torchrun``, :mod:`spikegraph.distributed`). Without
``pyg-lib`` or ``torch-sparse`` the loaders sample in pure torch
(:func:`spikegraph.loader.neighbor_loader`).

The per-edge experience of :class:`~spikegraph.nn.SpikingASConv` is indexed by the sampled
edges' global ids (``batch.e_id``), so every synapse needs one: the self-loops and the GCN
normalisation are added to the full graph once (:func:`global_gcn_graph`) and the layers neither
add nor normalise (:func:`build_minibatch_model`). The same model then evaluates full batch.

**Batches across ranks.** Each epoch the training nodes are shuffled by a generator that is
seeded alike on every rank, cut into *global* batches of ``world_size * batch_size`` seeds, and
every global batch is dealt out round-robin (:func:`epoch_batches`): the ranks' shares are
disjoint, cover every training node once per epoch and give every rank the same number of
steps. Each rank's loss is its seeds' summed cross-entropy times ``world_size / global batch
size``, so DDP's gradient average is the mean over the global batch, as if one process had
trained on it (with ``world_size = 1`` that is the usual batch mean).

**Experiments.** :func:`run_minibatch_experiment` repeats this over ``cfg.runs`` seeds with
model selection at the best validation score (scored by rank 0 on the full graph, the other
ranks wait), and writes an atomic checkpoint after every epoch from which a restarted job
(``torchrun --max-restarts``) resumes; see its docstring for what is bit-exact.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from dataclasses import asdict
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.distributed as dist
import torch.nn.functional as F
from torch import Tensor, nn
from torch_geometric.data import Data
from torch_geometric.loader import NodeLoader
from torch_geometric.nn.conv.gcn_conv import gcn_norm
from tqdm.auto import tqdm

from spikegraph.continual.harness import load_checkpoint, save_checkpoint
from spikegraph.distributed import (
    DistContext,
    broadcast_object,
    out_of_sync,
    unsync_experience,
    wrap_model,
)
from spikegraph.loader import neighbor_loader
from spikegraph.models import SpikingGNN
from spikegraph.monitor import FiringMonitor
from spikegraph.tasks.node_classification import Config, RunResult, build_model, runs_report
from spikegraph.utils.paths import portable_path

__all__ = [
    "global_gcn_graph",
    "build_minibatch_model",
    "layerwise_loader",
    "epoch_batches",
    "train_step",
    "train_minibatch_epoch",
    "run_minibatch_experiment",
    "load_minibatch_checkpoint",
]

FORMAT = "spikegraph.minibatch/1"

Score = Callable[[nn.Module, Data], tuple[float, float]]


def global_gcn_graph(data: Data) -> Data:
    """A copy of ``data`` whose graph has self-loops and symmetric GCN weights
    (``edge_weight``), computed once over the full graph."""
    edge_index, weight = gcn_norm(data.edge_index, None, data.num_nodes, add_self_loops=True)
    out = data.clone()
    out.edge_index, out.edge_weight = edge_index, weight
    return out


def build_minibatch_model(cfg: Config, data: Data, num_classes: int) -> SpikingGNN:
    """:class:`SpikingGNN` for a :func:`global_gcn_graph`, its experience named by its edges
    (global edge id ``k`` is column ``k`` of ``data.edge_index``)."""
    model = build_model(
        cfg, data.num_features, num_classes, normalize=False, add_self_loops=False, cached=False
    )
    model.reset_experience(data.edge_index, data.num_nodes)
    return model


def layerwise_loader(data: Data, batch_size: int = 4096) -> NodeLoader:
    """The loader of :meth:`SpikingGNN.inference <spikegraph.models.SpikingGNN.inference>`:
    every node once as a seed, in order, with all of its incoming edges (one hop,
    ``num_neighbors=[-1]``), their global ids ``e_id`` and weights. ``data`` is a
    :func:`global_gcn_graph`; only its graph is loaded (no features)."""
    graph = Data(edge_index=data.edge_index, num_nodes=data.num_nodes)
    if data.edge_weight is not None:
        graph.edge_weight = data.edge_weight
    return neighbor_loader(graph, num_neighbors=[-1], batch_size=batch_size, shuffle=False)


def epoch_batches(
    seeds: Tensor,
    batch_size: int,
    *,
    rank: int = 0,
    world_size: int = 1,
    generator: torch.Generator | None = None,
) -> list[tuple[Tensor, int]]:
    """This rank's seed nodes for every step of one epoch, each with its global batch size.

    ``seeds`` are shuffled with ``generator`` (seed it alike on every rank), cut into global
    batches of ``world_size * batch_size`` and each global batch is dealt out round-robin: rank
    ``r`` takes its positions ``r, r + world_size, ...``. A last global batch with fewer seeds
    than ranks joins the one before it, so every rank has at least one seed in every step.
    """
    if batch_size < 1:
        raise ValueError(f"batch_size must be >= 1, got {batch_size}")
    if not 0 <= rank < world_size:
        raise ValueError(f"rank must lie in [0, {world_size}), got {rank}")
    n = seeds.numel()
    if n < world_size:
        raise ValueError(f"{n} training nodes cannot be shared among {world_size} ranks")
    order = seeds[torch.randperm(n, generator=generator)]
    step = world_size * batch_size
    bounds = list(range(0, n, step)) + [n]
    if len(bounds) > 2 and bounds[-1] - bounds[-2] < world_size:
        del bounds[-2]
    return [
        (order[lo:hi][rank::world_size], hi - lo)
        for lo, hi in zip(bounds[:-1], bounds[1:], strict=True)
    ]


def train_step(
    model: nn.Module,
    batch: Data,
    optimizer: torch.optim.Optimizer,
    global_size: int | None = None,
    world_size: int = 1,
) -> float:
    """One optimiser step on a sampled subgraph; returns the summed loss of its seed nodes.

    The loss is scaled by ``world_size / global_size`` (``global_size``: seeds of this step on
    all ranks, default this batch's), so that averaging the gradients over the ranks gives the
    gradient of the mean loss over the global batch."""
    out = model(batch.x, batch.edge_index, batch.edge_weight, e_id=batch.e_id)
    n = batch.batch_size
    loss_sum = F.cross_entropy(out[:n], batch.y[:n], reduction="sum")
    loss = loss_sum / (n if global_size is None else global_size) * world_size
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
    return loss_sum.item()


def train_minibatch_epoch(
    model: nn.Module,
    data: Data,
    optimizer: torch.optim.Optimizer,
    *,
    batch_size: int = 1024,
    num_neighbors: tuple[int, ...] = (10, 10),
    generator: torch.Generator | None = None,
    progress: bool = False,
    ctx: DistContext | None = None,
) -> float:
    """One pass over the training nodes in sampled subgraphs; returns the mean loss.

    In a distributed run (``ctx`` of a process group, ``model`` wrapped by
    :func:`~spikegraph.distributed.wrap_model`) this rank trains on its share of every global
    batch (:func:`epoch_batches`; ``generator`` must be seeded alike on all ranks) and the
    returned loss is the mean over all ranks' seeds.
    """
    ctx = ctx or DistContext()
    seeds = data.train_mask.nonzero().view(-1)
    plan = epoch_batches(
        seeds, batch_size, rank=ctx.rank, world_size=ctx.world_size, generator=generator
    )
    offsets = np.cumsum([0] + [part.numel() for part, _ in plan]).tolist()
    loader = neighbor_loader(
        data,
        num_neighbors=list(num_neighbors),
        input_nodes=torch.cat([part for part, _ in plan]),
        batch_sampler=[list(range(a, b)) for a, b in zip(offsets[:-1], offsets[1:], strict=True)],
    )
    model.train()
    total = torch.zeros(2, dtype=torch.float64)  # summed loss, seeds
    steps = zip(loader, plan, strict=True)
    for batch, (_, global_size) in tqdm(
        steps, total=len(plan), desc="batches", disable=not progress, leave=False
    ):
        total[0] += train_step(model, batch, optimizer, global_size, ctx.world_size)
        total[1] += batch.batch_size
    if ctx.distributed:
        dist.all_reduce(total)
    return float(total[0] / total[1])


@torch.no_grad()
def _accuracies(
    model: nn.Module, data: Data, loader: NodeLoader | None = None
) -> tuple[float, float]:
    """Validation and test accuracy: layer-wise over ``loader`` (:func:`layerwise_loader`), or
    one full-graph call without it."""
    model.eval()
    if loader is not None:
        pred = model.inference(data.x, loader).argmax(-1)
    else:
        pred = model(data.x, data.edge_index, data.edge_weight).argmax(-1)
    return tuple(
        float((pred[m] == data.y[m]).float().mean()) for m in (data.val_mask, data.test_mask)
    )


@torch.no_grad()
def _firing(model: nn.Module, data: Data) -> dict[str, Any] | None:
    if not isinstance(model, SpikingGNN):
        return None
    model.eval()
    with FiringMonitor(model) as monitor:
        model(data.x, data.edge_index, data.edge_weight)
    return monitor.summary()


def _epoch_seed(*parts: int) -> int:
    """A well-mixed 63-bit seed from (run seed, epoch[, rank])."""
    return int(np.random.SeedSequence(list(parts)).generate_state(2, np.uint64)[0] >> np.uint64(1))


def load_minibatch_checkpoint(path: str | os.PathLike, meta: dict[str, Any]) -> dict[str, Any]:
    """Read a checkpoint of :func:`run_minibatch_experiment` and check that ``meta`` (the
    settings that shape the results) matches the run that wrote it."""
    return load_checkpoint(path, meta, FORMAT, "mini-batch training")


def run_minibatch_experiment(
    cfg: Config,
    data: Data,
    num_classes: int,
    *,
    batch_size: int = 1024,
    num_neighbors: tuple[int, ...] = (10, 10),
    score: Score | None = None,
    eval_batch_size: int | None = 4096,
    ctx: DistContext | None = None,
    checkpoint: str | os.PathLike | None = None,
    resume: bool = False,
    progress: bool = True,
) -> dict | None:
    """``cfg.runs`` seeds of mini-batch training, each scored at its best validation epoch.

    Args:
        cfg: the experiment (``model="snn"``; ``epochs``, ``runs``, ``seed``, ``lr``, ...).
        data: the graph with ``train_mask``, ``val_mask``, ``test_mask``; self-loops and GCN
            weights are added here (:func:`global_gcn_graph`).
        num_classes: number of classes.
        batch_size: seed nodes per batch *per rank*.
        num_neighbors: neighbours sampled per hop (``-1``: all).
        score: ``score(model, data) -> (val, test)`` on the full graph, called on rank 0
            after every epoch (default: accuracy from layer-wise inference,
            :meth:`SpikingGNN.inference <spikegraph.models.SpikingGNN.inference>`).
        eval_batch_size: seed nodes per batch of the default score's layer-wise inference;
            ``None`` scores with one full-graph call instead, faster where its memory is
            available (``benchmarks/results/layerwise_eval.md``).
        ctx: this process's place in a distributed run (default: one process).
        checkpoint: file that rank 0 rewrites atomically after every epoch (``None``: none).
        resume: continue from ``checkpoint`` if it exists (otherwise start afresh).
        progress: progress bars (rank 0).

    Returns:
        On rank 0 the report of :func:`~spikegraph.tasks.node_classification.runs_report`
        with a ``"minibatch"`` section; ``None`` on the other ranks.

    Every epoch draws its randomness afresh from ``(seed, epoch)`` (the order of the seed
    nodes, alike on all ranks) and ``(seed, epoch, rank)`` (dropout and neighbour sampling), and
    the checkpoint holds the model (with its experience), the optimiser, the best state so far and
    the finished runs. Because every rank holds the same parameters and experience after every
    step (checked after every epoch), rank 0's state stands for all; on resume rank 0 reads the
    file and sends it to the others, so only rank 0 needs to see it. A resumed job therefore
    ends bit for bit where an uninterrupted one does, on the same number of ranks and threads;
    on another number of ranks it continues correctly but with other batches.
    """
    ctx = ctx or DistContext()
    if cfg.model != "snn":
        raise ValueError("mini-batch training needs the spiking model (per-edge experience)")
    if cfg.epochs < 1 or cfg.runs < 1:
        raise ValueError(f"need epochs >= 1 and runs >= 1, got {cfg.epochs} and {cfg.runs}")
    if cfg.threads:
        torch.set_num_threads(cfg.threads)
    start = time.perf_counter()
    data = global_gcn_graph(data)
    if score is None:
        loader = None if eval_batch_size is None else layerwise_loader(data, eval_batch_size)
        score = partial(_accuracies, loader=loader)
    model = build_minibatch_model(cfg, data, num_classes)
    meta = {
        "config": {k: v for k, v in asdict(cfg).items() if k != "threads"},
        "batch_size": batch_size,
        "num_neighbors": list(num_neighbors),
        "graph": [data.num_nodes, data.num_edges],
    }
    state = _resume_state(checkpoint, meta, ctx) if resume and checkpoint is not None else None
    resumed_from = {"run": state["run"], "epoch": state["epoch"]} if state else None
    done = state["done"] if state and ctx.is_main else {"runs": [], "train_s": []}
    for i in range(state["run"] if state else 0, cfg.runs):
        seed = cfg.seed + i
        torch.manual_seed(seed)
        model.reset_parameters()
        opt = torch.optim.Adam(model.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay)
        first_epoch, best, best_state, seconds = 1, [-1.0, 0.0, 0], None, [0.0, 0.0]
        if state is not None and state["run"] == i:
            model.load_state_dict(state["model"])
            opt.load_state_dict(state["optimizer"])
            first_epoch = state["epoch"] + 1
            if ctx.is_main:
                best, best_state, seconds = state["best"], state["best_state"], state["seconds"]
        net = wrap_model(model) if ctx.distributed else model
        epochs = range(first_epoch, cfg.epochs + 1)
        bar = tqdm(epochs, desc=f"seed {seed}", disable=not (progress and ctx.is_main), leave=False)
        for epoch in bar:
            t0 = time.perf_counter()
            order = torch.Generator().manual_seed(_epoch_seed(seed, epoch))
            torch.manual_seed(_epoch_seed(seed, epoch, ctx.rank))
            loss = train_minibatch_epoch(
                net,
                data,
                opt,
                batch_size=batch_size,
                num_neighbors=num_neighbors,
                generator=order,
                ctx=ctx,
            )
            t_train = time.perf_counter() - t0
            if ctx.distributed and (diverged := out_of_sync(model)):
                raise RuntimeError(f"ranks hold different states after epoch {epoch}: {diverged}")
            if not ctx.is_main:
                continue
            val, test = score(model, data)
            if val > best[0]:
                best = [val, test, epoch]
                best_state = {k: v.clone() for k, v in model.state_dict().items()}
            seconds = [seconds[0] + time.perf_counter() - t0, seconds[1] + t_train]
            bar.set_postfix(loss=f"{loss:.3f}", val=f"{val:.3f}", best_test=f"{best[1]:.3f}")
            if checkpoint is not None:
                save_checkpoint(
                    checkpoint,
                    {
                        "format": FORMAT,
                        "meta": meta,
                        "run": i,
                        "epoch": epoch,
                        "model": model.state_dict(),
                        "optimizer": opt.state_dict(),
                        "best": best,
                        "best_state": best_state,
                        "seconds": seconds,
                        "done": done,
                        "world_size": ctx.world_size,
                    },
                )
        unsync_experience(model)
        state = None
        if ctx.is_main:
            model.load_state_dict(best_state)
            result = RunResult(seed, best[2], best[0], best[1], seconds[0] / cfg.epochs)
            result.firing = _firing(model, data)
            done = {
                "runs": [*done["runs"], asdict(result)],
                "train_s": [*done["train_s"], seconds[1]],
            }
    ctx.barrier()
    if not ctx.is_main:
        return None
    report = runs_report(cfg, model, [RunResult(**r) for r in done["runs"]], start)
    seeds_per_run = int(data.train_mask.sum()) * cfg.epochs
    report["minibatch"] = {
        "batch_size_per_rank": batch_size,
        "num_neighbors": list(num_neighbors),
        "world_size": ctx.world_size,
        "train_time_s": done["train_s"],
        "train_seeds_per_s": [seeds_per_run / t if t > 0 else None for t in done["train_s"]],
        "checkpoint": portable_path(checkpoint),
        "resumed_from": resumed_from,
    }
    return report


def _resume_state(
    checkpoint: str | os.PathLike, meta: dict[str, Any], ctx: DistContext
) -> dict[str, Any] | None:
    """Rank 0 reads the checkpoint (if there is one); the others get what they need of it."""
    state = None
    if ctx.is_main and Path(checkpoint).exists():
        state = load_minibatch_checkpoint(checkpoint, meta)
    if ctx.distributed:
        keys = ("run", "epoch", "model", "optimizer")
        shared = broadcast_object(None if state is None else {k: state[k] for k in keys})
        state = state if ctx.is_main else shared
    return state
