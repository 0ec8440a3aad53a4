"""Data-parallel mini-batch training: 1 process x 1 thread against 2 processes x 1 thread.

Three variants train the same spiking GNN (hidden 128, 2 layers, T = 4, scaling ``"tent"``, Adam
lr 0.01, dropout 0.5) on ``NeighborLoader`` subgraphs (10 x 10 neighbours, per-edge experience at
global edge ids) of the arxiv-sized synthetic graph (:mod:`spikegraph.datasets.synthetic`) for
the same number of epochs: one process with ``--batch-size`` seeds (default 1,024), two processes
with ``--batch-size`` seeds each (the usual data-parallel scaling: twice the global batch, half
the optimiser steps per epoch), and two processes with half of it each (the one-process global
batch). Each is launched by ``torchrun`` (``--nproc-per-node`` 1 or 2) and trains through
:func:`spikegraph.tasks.minibatch.train_minibatch_epoch`; with two processes DDP averages the
gradients and :class:`spikegraph.distributed.ExperienceSync` keeps the experience in sync.
Per variant:

- training seed nodes per second (wall time of the training epochs only; every epoch visits all
  training nodes once), and the ratio 2 processes / 1 process (the target is >= 1.6);
- the same from CPU time (seeds over the busiest rank's process CPU time): what the wall time
  would be on otherwise idle cores, since other jobs may share this machine;
- peak resident memory of every rank in training (Linux ``VmHWM``, reset after loading) and over
  its lifetime (``ru_maxrss``), and the resident memory before training (graph and model);
- ogb's Evaluator accuracy (valid, test) of the model after the last epoch, full batch on rank 0.

    python benchmarks/distributed.py --data /data/arxiv_like   # full size (written if absent)
    python benchmarks/distributed.py --quick --epochs 3         # 20,000 nodes, a few minutes
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

RESULTS = Path(__file__).resolve().parent / "results"


def proc_status_kib(field: str) -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise RuntimeError(f"no {field} in /proc/self/status")


class Timed:
    """A callable wrapped to count its calls and the wall time spent in them."""

    def __init__(self, inner):
        self.inner, self.calls, self.seconds = inner, 0, 0.0

    def __call__(self, *args, **kwargs):
        start = time.perf_counter()
        try:
            return self.inner(*args, **kwargs)
        finally:
            self.calls += 1
            self.seconds += time.perf_counter() - start


def child(args: argparse.Namespace) -> None:
    """One rank of one variant (started by torchrun); rank 0 writes the JSON to --child-out."""
    import torch
    import torch.distributed as dist

    from spikegraph.datasets.ogb import load_ogb_node, ogb_evaluator
    from spikegraph.distributed import (
        init_distributed,
        main_process_first,
        out_of_sync,
        wrap_model,
    )
    from spikegraph.synapse import SynapticScaling
    from spikegraph.tasks import minibatch
    from spikegraph.tasks.minibatch import (
        build_minibatch_model,
        global_gcn_graph,
        train_minibatch_epoch,
    )
    from spikegraph.tasks.node_classification import Config
    from spikegraph.tasks.ogb_node import evaluate, ogb_node_data

    ctx = init_distributed("gloo")
    torch.set_num_threads(args.threads)
    data_dir = Path(args.data)
    with main_process_first(ctx):
        dataset, split = load_ogb_node(
            "synthetic", data_dir, meta=data_dir / "meta_dict.json", cache_dir=args.cache_dir
        )
    data = global_gcn_graph(ogb_node_data(dataset, split))
    evaluator = ogb_evaluator("synthetic", dataset.meta_info)
    num_classes = dataset.num_classes
    del dataset
    cfg = Config(hidden=128, layers=2, T=args.T, scaling="tent", weight_decay=0.0)
    torch.manual_seed(0)
    model = build_minibatch_model(cfg, data, num_classes)
    net = wrap_model(model) if ctx.distributed else model
    opt = torch.optim.Adam(model.parameters(), lr=cfg.lr)
    # Measuring only: the time inside ExperienceSync (waiting for the other rank included) and
    # the edges of every sampled subgraph (the work a step does).
    sync = Timed(None)
    if ctx.distributed:
        scalings = [m for m in model.modules() if isinstance(m, SynapticScaling)]
        sync.inner = scalings[0].update_reducer
        for m in scalings:
            m.update_reducer = sync
    edges = [0]
    real_step = minibatch.train_step

    def counting_step(model, batch, *rest):
        edges[0] += batch.num_edges
        return real_step(model, batch, *rest)

    minibatch.train_step = counting_step
    Path("/proc/self/clear_refs").write_text("5")  # reset VmHWM: the peak from here on
    rss_before = proc_status_kib("VmRSS")
    ctx.barrier()
    wall, cpu, losses = 0.0, 0.0, []
    for epoch in range(args.epochs):
        torch.manual_seed(1000 * epoch + ctx.rank)
        order = torch.Generator().manual_seed(epoch)
        t0, c0 = time.perf_counter(), time.process_time()
        losses.append(
            train_minibatch_epoch(
                net, data, opt, batch_size=args.batch_size, generator=order, ctx=ctx
            )
        )
        wall, cpu = wall + time.perf_counter() - t0, cpu + time.process_time() - c0
    peak_train = proc_status_kib("VmHWM")
    diverged = out_of_sync(model) if ctx.distributed else []
    mine = {
        "rank": ctx.rank,
        "train_wall_s": wall,
        "train_cpu_s": cpu,
        "rss_before_train_mib": rss_before / 1024,
        "peak_rss_train_mib": peak_train / 1024,
        "peak_rss_process_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "sampled_edges": edges[0],
        "experience_sync_calls": sync.calls,
        "experience_sync_s": sync.seconds,
    }
    ranks = [mine]
    if ctx.distributed:
        ranks = [None] * ctx.world_size
        dist.all_gather_object(ranks, mine)
    if ctx.is_main:
        scores = evaluate(model, data, evaluator)
        seeds = int(data.train_mask.sum()) * args.epochs
        out = {
            "processes": ctx.world_size,
            "threads_per_process": torch.get_num_threads(),
            "epochs": args.epochs,
            "T": args.T,
            "batch_size_per_process": args.batch_size,
            "train_seeds": seeds,
            "seeds_per_s": seeds / max(r["train_wall_s"] for r in ranks),
            "seeds_per_cpu_s": seeds / max(r["train_cpu_s"] for r in ranks),
            "sampled_edges": sum(r["sampled_edges"] for r in ranks),
            "loss_per_epoch": losses,
            "val_acc": scores["valid"],
            "test_acc": scores["test"],
            "out_of_sync": diverged,
            "ranks": ranks,
            "graph": {
                "num_nodes": data.num_nodes,
                "num_synapses": data.num_edges,
                "train": int(data.train_mask.sum()),
            },
        }
        Path(args.child_out).write_text(json.dumps(out))
    if ctx.distributed:
        del net  # DDP goes before its process group: destroyed after it, its reducer can hang
        dist.destroy_process_group()


def run_variant(args: argparse.Namespace, procs: int, batch_size: int) -> dict:
    out = Path(tempfile.mkdtemp(prefix="dist_bench_")) / "result.json"
    cmd = [sys.executable, "-m", "torch.distributed.run", "--standalone"]
    cmd += [f"--nproc-per-node={procs}", __file__, "--data", str(args.data)]
    cmd += ["--cache-dir", str(args.cache_dir), "--threads", str(args.threads)]
    cmd += ["--epochs", str(args.epochs), "--T", str(args.T), "--batch-size", str(batch_size)]
    cmd += ["--child-out", str(out)]
    env = dict(os.environ, OMP_NUM_THREADS=str(args.threads))
    load = os.getloadavg()
    start = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env)
    if proc.returncode != 0:
        raise RuntimeError(f"{procs} process(es) failed:\n{proc.stderr[-4000:]}")
    result = json.loads(out.read_text())
    result["process_wall_s"] = time.perf_counter() - start
    result["load_avg_before"] = load[0]
    result["load_avg_after"] = os.getloadavg()[0]
    return result


def ensure_graph(args: argparse.Namespace) -> None:
    from spikegraph.datasets.synthetic import write_arxiv_like

    record = Path(args.data) / "generator.json"
    if record.is_file():
        params = json.loads(record.read_text())
        if (params.get("num_nodes"), params.get("num_edges"), params.get("seed")) == (
            args.nodes,
            args.edges,
            0,
        ):
            return
    write_arxiv_like(args.data, num_nodes=args.nodes, num_edges=args.edges, seed=0)


def markdown(report: dict) -> str:
    one = report["variants"][0]
    g = one["graph"]
    lines = [
        f"Synthetic arxiv-like graph ({report['size']}): {g['num_nodes']:,} nodes, "
        f"{g['num_synapses']:,} synapses (symmetrised edges + self-loops), {g['train']:,} "
        f"training nodes. Spiking GNN, hidden 128, 2 layers, T = {one['T']}, tent scaling, Adam "
        f"lr 0.01, dropout 0.5; NeighborLoader with 10 x 10 neighbours; {one['epochs']} "
        f"epoch(s), one torch thread per process; gloo; {report['machine']['cpus']} CPUs "
        "visible, shared with other jobs (load average in the last column). Accuracy: ogb's "
        "Evaluator on the model after the last epoch, full graph.",
        "",
        "| processes | seeds per process (global batch) | seeds/s (wall) | seeds/s (CPU) "
        "| peak RSS per rank in training (MiB) | RSS per rank before training (MiB) "
        "| valid acc | test acc | load avg before / after |",
        "|---:|---|---:|---:|---|---|---:|---:|---|",
    ]
    for v in report["variants"]:
        per = v["ranks"]
        b = v["batch_size_per_process"]
        lines.append(
            f"| {v['processes']} | {b} ({b * v['processes']}) | {v['seeds_per_s']:.0f} | "
            f"{v['seeds_per_cpu_s']:.0f} | "
            + " / ".join(f"{r['peak_rss_train_mib']:.0f}" for r in per)
            + " | "
            + " / ".join(f"{r['rss_before_train_mib']:.0f}" for r in per)
            + f" | {100 * v['val_acc']:.1f} % | {100 * v['test_acc']:.1f} % | "
            f"{v['load_avg_before']:.1f} / {v['load_avg_after']:.1f} |"
        )
    lines += [
        "",
        "Work and synchronisation per variant (all ranks): sampled subgraph edges "
        + ", ".join(f"{v['sampled_edges'] / 1e6:.1f} M" for v in report["variants"])
        + "; wall time inside ExperienceSync per rank (waits for the other rank included) "
        + ", ".join(
            " / ".join(
                f"{r['experience_sync_s']:.1f} s of {r['train_wall_s']:.0f} s" for r in v["ranks"]
            )
            for v in report["variants"][1:]
        )
        + ".",
    ]
    lines += [
        "",
        f"Ratio 2 processes / 1 process at {one['batch_size_per_process']} seeds per process: "
        f"**{report['ratio_wall']:.2f}** in seeds per wall second (target >= 1.6), "
        f"{report['ratio_cpu']:.2f} in seeds per CPU second (seeds over the busiest rank's "
        f"process CPU time); at the same global batch: {report['ratio_wall_same_global_batch']:.2f}"
        f" / {report['ratio_cpu_same_global_batch']:.2f}.",
        "",
        f"Command: `{report['command']}`",
        "",
    ]
    return "\n".join(lines)


def main() -> None:
    from spikegraph.datasets.ogb import default_ogb_cache_dir, load_ogb_node
    from spikegraph.datasets.synthetic import ARXIV_SHAPE

    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--data", type=Path, default=None, help="dataset folder (written if absent)")
    p.add_argument("--cache-dir", type=Path, default=None, help="OGB working copy")
    p.add_argument("--quick", action="store_true", help="a 20,000-node graph")
    p.add_argument("--epochs", type=int, default=1)
    p.add_argument("--T", type=int, default=4)
    p.add_argument("--batch-size", type=int, default=1024, help="seed nodes per process")
    p.add_argument("--threads", type=int, default=1, help="torch threads per process")
    p.add_argument("--out", type=Path, default=None, help="results stem")
    p.add_argument("--child-out", help=argparse.SUPPRESS)
    args = p.parse_args()
    if args.child_out:
        child(args)
        return
    args.nodes, args.edges = ARXIV_SHAPE["num_nodes"], ARXIV_SHAPE["num_edges"]
    stem, size = "distributed", "full size"
    if args.quick:
        args.nodes, args.edges = 20_000, 137_738  # arxiv's average degree
        stem, size = "distributed_quick", "20,000 nodes, same generator"
    if args.data is None:
        base = default_ogb_cache_dir().parent
        args.data = base / ("arxiv_like_quick" if args.quick else "arxiv_like")
    if args.cache_dir is None:
        args.cache_dir = Path(tempfile.mkdtemp(prefix="dist_bench_cache_"))
    ensure_graph(args)
    data_dir = Path(args.data)
    load_ogb_node("synthetic", data_dir, meta=data_dir / "meta_dict.json", cache_dir=args.cache_dir)
    variants = []
    half = max(1, args.batch_size // 2)
    for procs, batch_size in ((1, args.batch_size), (2, args.batch_size), (2, half)):
        print(f"running {procs} process(es) x {batch_size} seeds ...", flush=True)
        variants.append(run_variant(args, procs, batch_size))
        print(json.dumps(variants[-1]), flush=True)
    from spikegraph.utils.paths import portable_command  # the parent never imports torch

    report = {
        "command": "python benchmarks/distributed.py " + portable_command(sys.argv[1:]),
        "size": size,
        "variants": variants,
        "ratio_wall": variants[1]["seeds_per_s"] / variants[0]["seeds_per_s"],
        "ratio_cpu": variants[1]["seeds_per_cpu_s"] / variants[0]["seeds_per_cpu_s"],
        "ratio_wall_same_global_batch": variants[2]["seeds_per_s"] / variants[0]["seeds_per_s"],
        "ratio_cpu_same_global_batch": variants[2]["seeds_per_cpu_s"]
        / variants[0]["seeds_per_cpu_s"],
        "machine": {
            "platform": platform.platform(),
            "processor": platform.machine(),
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
        },
    }
    out = args.out or RESULTS / stem
    out.parent.mkdir(parents=True, exist_ok=True)
    out.with_suffix(".json").write_text(json.dumps(report, indent=2))
    out.with_suffix(".md").write_text(markdown(report))
    print(markdown(report))


if __name__ == "__main__":
    main()
