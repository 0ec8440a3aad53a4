"""Full-batch training on the arxiv-sized synthetic graph: epoch time, peak memory, accuracy.

The graph (169,343 nodes, 1,166,243 directed edges made symmetric, 128 features, 40 classes,
time split) comes from :mod:`spikegraph.datasets.synthetic` and is read through the real OGB
loader. Each variant trains in its own fresh subprocess, so its memory peak is its own:

    snn T=2 / 4 / 8   SpikingGNN, hidden 128, 2 layers, scaling "tent"
    gcn               the ANN GCN of the same widths

Two more variants train SNN T=4 and T=8 on mini-batches from PyG's ``NeighborLoader``
(1,024 seed nodes, 10 x 10 neighbours, per-edge experience at global edge ids, no per-epoch
evaluation) and score the final model full batch; ``--only minibatch`` runs just those.

Per variant: mean epoch time (one training step plus the full-graph evaluation that model
selection needs) as wall time and as process CPU time (with one thread, the CPU time is what
the wall time would be on an idle core; on a shared machine the wall time is not), resident
memory before training (graph and model loaded), peak resident
memory during training (Linux ``VmHWM``, reset after loading through ``/proc/self/clear_refs``),
the process's lifetime peak (``ru_maxrss``, includes OGB's CSV parsing for the first load), and
the Evaluator's test accuracy at the best validation epoch after the stated number of epochs.

    python benchmarks/arxiv_scale.py --data /data/arxiv_like       # writes the graph if absent
    python benchmarks/arxiv_scale.py --quick                        # a 20k-node graph, minutes

The full-size defaults (3 SNN epochs, 5 GCN epochs) measure time and memory; accuracy needs
more epochs (``--snn-epochs``, ``--gcn-epochs``) than a shared 2-core machine allows, and
``--quick`` trains longer (30 / 60 epochs) on a 20,000-node graph from the same generator.
"""

from __future__ import annotations

import argparse
import inspect
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


def variants(args: argparse.Namespace) -> list[dict]:
    """What to run: (model, T, epochs)."""
    return [
        {"model": "snn", "T": 2, "epochs": args.mem_epochs},
        {"model": "snn", "T": 4, "epochs": args.snn_epochs},
        {"model": "snn", "T": 8, "epochs": args.snn_epochs},
        {"model": "gcn", "T": 1, "epochs": args.gcn_epochs},
        {"model": "snn", "T": 4, "epochs": args.mb_epochs, "batch_size": args.batch_size},
        {"model": "snn", "T": 8, "epochs": args.mb_epochs, "batch_size": args.batch_size},
    ]


def proc_status_kib(field: str) -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise RuntimeError(f"no {field} in /proc/self/status")


def child(args: argparse.Namespace) -> None:
    """One variant in this (fresh) process; prints one JSON line."""
    import torch

    from spikegraph.datasets.ogb import load_ogb_node, ogb_evaluator
    from spikegraph.tasks.minibatch import build_minibatch_model, global_gcn_graph
    from spikegraph.tasks.node_classification import (
        Config,
        build_model,
        measure_firing,
        train_run,
    )
    from spikegraph.tasks.ogb_node import evaluate, ogb_node_data

    torch.set_num_threads(args.threads)
    data_dir = Path(args.data)
    dataset, split = load_ogb_node(
        "synthetic", data_dir, meta=data_dir / "meta_dict.json", cache_dir=args.cache_dir
    )
    data = ogb_node_data(dataset, split)
    evaluator = ogb_evaluator("synthetic", dataset.meta_info)
    dataset_classes = dataset.num_classes
    del dataset
    cfg = Config(
        dataset="arxiv-like synthetic",
        model=args.child_model,
        hidden=128,
        layers=2,
        T=args.child_T,
        scaling="tent",
        weight_decay=0.0,
        epochs=args.child_epochs,
        runs=1,
        threads=args.threads,
    )
    if args.child_batch_size:
        data = global_gcn_graph(data)
        model = build_minibatch_model(cfg, data, dataset_classes)
    else:
        model = build_model(cfg, data.num_features, dataset_classes)
    Path("/proc/self/clear_refs").write_text("5")  # reset VmHWM: the peak from here on
    rss_before = proc_status_kib("VmRSS")
    cpu_start = time.process_time()
    if args.child_batch_size:
        result = minibatch_run(model, data, cfg, args.child_batch_size)
    else:
        result = train_run(model, data, cfg, seed=0, progress=False)
    cpu_epoch = (time.process_time() - cpu_start) / cfg.epochs
    peak_train = proc_status_kib("VmHWM")
    scores = evaluate(model, data, evaluator)
    firing = measure_firing(model, data)
    out = {
        "model": cfg.model,
        "batch_size": args.child_batch_size or None,
        "T": cfg.T if cfg.model == "snn" else None,
        "epochs": cfg.epochs,
        "best_epoch": result.best_epoch,
        "val_acc": scores["valid"],
        "test_acc": scores["test"],
        "epoch_time_s": result.epoch_time_s,
        "epoch_cpu_s": cpu_epoch,
        "rss_before_train_mib": rss_before / 1024,
        "peak_rss_train_mib": peak_train / 1024,
        "peak_rss_process_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "firing_rate": None if firing is None else firing["firing_rate_mean"],
        "graph": {
            "num_nodes": data.num_nodes,
            "num_edges": data.num_edges,
            "num_features": data.num_features,
            "num_classes": dataset_classes,
            "split": {k: int(v.numel()) for k, v in split.items()},
        },
        "threads": torch.get_num_threads(),
    }
    print(json.dumps(out))


def minibatch_run(model, data, cfg, batch_size: int):
    """``cfg.epochs`` epochs of NeighborLoader mini-batches (10 x 10 neighbours), no
    per-epoch evaluation; the model is scored full batch afterwards."""
    import torch

    from spikegraph.tasks.minibatch import train_minibatch_epoch
    from spikegraph.tasks.node_classification import RunResult

    torch.manual_seed(0)
    opt = torch.optim.Adam(model.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay)
    start = time.perf_counter()
    for _ in range(cfg.epochs):
        train_minibatch_epoch(model, data, opt, batch_size=batch_size)
    epoch_time = (time.perf_counter() - start) / cfg.epochs
    return RunResult(
        seed=0, best_epoch=cfg.epochs, val_acc=0.0, test_acc=0.0, epoch_time_s=epoch_time
    )


def ensure_graph(args: argparse.Namespace) -> dict | None:
    """Write the graph unless the folder holds one from the same generator arguments;
    returns the generator's summary when it wrote one."""
    from spikegraph.datasets.synthetic import write_arxiv_like

    data_dir = Path(args.data)
    wanted = {"num_nodes": args.nodes, "num_edges": args.edges, "seed": args.seed}
    record = data_dir / "generator.json"
    if (data_dir / "SHA256SUMS").is_file() and record.is_file():
        params = json.loads(record.read_text())
        signature = inspect.signature(write_arxiv_like).parameters
        expected = {k: signature[k].default for k in params if k in signature} | wanted
        if params == expected:
            return None
    summary = write_arxiv_like(data_dir, **wanted)
    summary.pop("class_sizes")
    return summary


def prepare_cache(args: argparse.Namespace) -> float:
    """Let OGB parse the CSV files once (outside the timed children); returns seconds."""
    from spikegraph.datasets.ogb import load_ogb_node

    start = time.perf_counter()
    data_dir = Path(args.data)
    load_ogb_node("synthetic", data_dir, meta=data_dir / "meta_dict.json", cache_dir=args.cache_dir)
    return time.perf_counter() - start


def run_child(args: argparse.Namespace, variant: dict) -> dict:
    cmd = [
        sys.executable,
        __file__,
        "--data",
        str(args.data),
        "--cache-dir",
        str(args.cache_dir),
        "--threads",
        str(args.threads),
        "--child-model",
        variant["model"],
        "--child-T",
        str(variant["T"]),
        "--child-epochs",
        str(variant["epochs"]),
        "--child-batch-size",
        str(variant.get("batch_size", 0)),
    ]
    start = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True)
    if proc.returncode != 0:
        raise RuntimeError(f"variant {variant} failed:\n{proc.stderr[-3000:]}")
    out = json.loads(proc.stdout.strip().splitlines()[-1])
    out["process_wall_s"] = time.perf_counter() - start
    return out


def _batch_of(r: dict) -> int | None:
    return r.get("batch_size")


def _batch(r: dict) -> str:
    b = _batch_of(r)
    return f"{b} seeds, 10x10 neighbours (last epoch's model)" if b else "full"


def _kind(report: dict) -> str:
    batches = {bool(_batch_of(r)) for r in report["variants"]}
    return {frozenset({False}): "Full batch", frozenset({True}): "Mini-batch"}.get(
        frozenset(batches), "Full batch and mini-batch"
    )


def _edges(report: dict) -> str:
    # Mini-batch children record the graph after adding one self-loop per node.
    g, directed = report["graph"], report["directed_edges"]
    if g["num_edges"] > 2 * directed:
        return f"{g['num_edges']:,} synapses (symmetrised {directed:,} directed edges + self-loops)"
    return f"{g['num_edges']:,} edges after symmetrisation ({directed:,} directed)"


def markdown(report: dict) -> str:
    g = report["graph"]
    lines = [
        f"Synthetic arxiv-like graph: {g['num_nodes']:,} nodes, {_edges(report)}, "
        f"{g['num_features']} features, "
        f"{g['num_classes']} classes, split {g['split']['train']:,} / {g['split']['valid']:,} / "
        f"{g['split']['test']:,}. {_kind(report)}, hidden 128, 2 layers, Adam lr 0.01, "
        f"torch threads = {report['threads']}, {report['machine']['processor']} "
        f"({report['machine']['cpus']} CPUs visible).",
        "",
        "| model | T | batch | epochs | test acc (Evaluator, best val) | epoch wall (s) "
        "| epoch CPU (s) | RSS before training (MiB) | peak RSS training (MiB) "
        "| process peak (MiB) |",
        "|---|---:|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in report["variants"]:
        lines.append(
            f"| {r['model']} | {r['T'] or '-'} | {_batch(r)} | {r['epochs']} | "
            f"{100 * r['test_acc']:.1f} % | "
            f"{r['epoch_time_s']:.2f} | {r['epoch_cpu_s']:.2f} | {r['rss_before_train_mib']:.0f} | "
            f"{r['peak_rss_train_mib']:.0f} | {r['peak_rss_process_mib']:.0f} |"
        )
    snn = {r["T"]: r for r in report["variants"] if r["model"] == "snn" and not _batch_of(r)}
    if {2, 4, 8} <= snn.keys():
        extra = {t: snn[t]["peak_rss_train_mib"] - snn[t]["rss_before_train_mib"] for t in snn}
        lines += [
            "",
            "Training memory above the loaded graph (peak − before): "
            + ", ".join(f"T={t}: {extra[t]:.0f} MiB" for t in sorted(extra))
            + f"; per added step: {(extra[4] - extra[2]) / 2:.0f} MiB (T 2→4), "
            f"{(extra[8] - extra[4]) / 4:.0f} MiB (T 4→8). A [T, E, F] float tensor would be "
            f"{8 * g['num_edges'] * 128 * 4 / 2**30:.1f} GiB at T = 8.",
        ]
    if report.get("generator"):
        gen = report["generator"]
        lines += [
            "",
            f"Generator: {gen['wall_time_s']:.1f} s (edge homophily {gen['edge_homophily']:.3f}, "
            f"seed {gen['seed']}).",
        ]
    lines += ["", f"Command: `{report['command']}`", ""]
    return "\n".join(lines)


def main() -> None:
    from spikegraph.datasets.ogb import default_ogb_cache_dir
    from spikegraph.datasets.synthetic import ARXIV_SHAPE

    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--data", type=Path, default=None, help="dataset folder (written if absent)")
    p.add_argument("--cache-dir", type=Path, default=None, help="OGB working copy")
    p.add_argument(
        "--quick", action="store_true", help="a 20,000-node graph, 30 SNN / 60 GCN epochs"
    )
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--snn-epochs", type=int, default=3)
    p.add_argument("--gcn-epochs", type=int, default=5)
    p.add_argument("--mem-epochs", type=int, default=1, help="epochs of the T=2 memory point")
    p.add_argument("--mb-epochs", type=int, default=1, help="epochs of the mini-batch variants")
    p.add_argument("--batch-size", type=int, default=1024, help="seed nodes per mini-batch")
    p.add_argument("--only", choices=["full", "minibatch"], default=None, help="one kind only")
    p.add_argument("--out", type=Path, default=None, help="results stem (default results/...)")
    p.add_argument("--child-model", help=argparse.SUPPRESS)
    p.add_argument("--child-T", type=int, help=argparse.SUPPRESS)
    p.add_argument("--child-epochs", type=int, help=argparse.SUPPRESS)
    p.add_argument("--child-batch-size", type=int, default=0, help=argparse.SUPPRESS)
    args = p.parse_args()
    if args.child_model:
        child(args)
        return
    args.nodes, args.edges = ARXIV_SHAPE["num_nodes"], ARXIV_SHAPE["num_edges"]
    stem = "arxiv_scale"
    if args.quick:
        args.nodes, args.edges = 20_000, 137_738  # arxiv's average degree
        args.snn_epochs, args.gcn_epochs, args.mem_epochs = 30, 60, 2
        stem = "arxiv_scale_quick"
    if args.data is None:
        base = default_ogb_cache_dir().parent
        args.data = base / ("arxiv_like_quick" if args.quick else "arxiv_like")
    if args.cache_dir is None:
        args.cache_dir = Path(tempfile.mkdtemp(prefix="arxiv_scale_cache_"))
    generator = ensure_graph(args)
    load_s = prepare_cache(args)
    results = []
    chosen = [
        v
        for v in variants(args)
        if args.only is None or (args.only == "minibatch") == ("batch_size" in v)
    ]
    if args.only == "minibatch":
        stem += "_minibatch"
    for variant in chosen:
        print(f"running {variant} ...", flush=True)
        results.append(run_child(args, variant))
        print(json.dumps(results[-1]), flush=True)
    from spikegraph.utils.paths import portable_command  # the parent never imports torch

    report = {
        "command": "python benchmarks/arxiv_scale.py " + portable_command(sys.argv[1:]),
        "graph": results[0]["graph"],
        "directed_edges": args.edges,
        "threads": args.threads,
        "generator": generator,
        "first_ogb_load_s": load_s,
        "variants": results,
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
