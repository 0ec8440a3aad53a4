"""Evaluation of a mini-batch model: one full-graph call against layer-wise inference.

The model is the mini-batch pipeline's (:func:`~spikegraph.tasks.minibatch.build_minibatch_model`:
2 layers, hidden 128, T = 8, "relative" scaling, per-edge experience at global edge ids, the
graph normalised once by :func:`~spikegraph.tasks.minibatch.global_gcn_graph`), after a
mini-batch training epoch over up to 4,096 training nodes (1,024 seeds, 10 x 10 neighbours) so that
much of its experience is trained. Two evaluations are timed on one thread, interleaved round by
round (medians, after one call of each):

    full       model(x, edge_index, edge_weight): the pipeline's evaluation before layer-wise
               inference (every synapse's experience slot looked up by its endpoints)
    layerwise  model.inference(x, layerwise_loader(data, 4096)): one layer at a time over all
               nodes, batches of 4,096 seeds with all their in-edges (NeighborLoader,
               num_neighbors=[-1]); the loader's sampling is included

Each evaluation also runs once in a fresh process for its peak resident memory above the
loaded graph and model (Linux). It also checks that both evaluations predict the same classes. Graphs: Cora (vendored), and a
random graph of ogbn-arxiv's size (169,343 nodes, 1,166,243 edges made symmetric, 128
features; labels random, so only the times mean anything) unless ``--quick``.

    python benchmarks/layerwise_eval.py            # writes benchmarks/results/layerwise_eval.*
    python benchmarks/layerwise_eval.py --quick    # Cora only
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import subprocess
import sys
import time
from pathlib import Path

import torch

from spikegraph.utils.paths import portable_path

RESULTS = Path(__file__).resolve().parent / "results"
ARXIV = {"num_nodes": 169_343, "num_edges": 1_166_243, "num_features": 128, "num_classes": 40}


def load(name: str):
    from torch_geometric.data import Data
    from torch_geometric.utils import to_undirected

    if name == "cora":
        from spikegraph.datasets import load_planetoid

        ds = load_planetoid("Cora")
        return ds[0], ds.num_classes
    gen = torch.Generator().manual_seed(0)
    n = ARXIV["num_nodes"]
    edge_index = to_undirected(torch.randint(0, n, (2, ARXIV["num_edges"]), generator=gen), n)
    data = Data(
        x=torch.randn(n, ARXIV["num_features"], generator=gen),
        edge_index=edge_index,
        y=torch.randint(0, ARXIV["num_classes"], (n,), generator=gen),
        num_nodes=n,
    )
    return data, ARXIV["num_classes"]


def proc_status_kib(field: str) -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise RuntimeError(f"no {field} in /proc/self/status")


def probe(name: str, how: str, eval_batch: int) -> None:
    """One evaluation in this fresh process; prints the peak resident memory it added (MiB)
    above the loaded graph and model (Linux ``VmHWM``, reset through ``/proc/self/clear_refs``)."""
    from spikegraph.tasks.minibatch import build_minibatch_model, global_gcn_graph, layerwise_loader
    from spikegraph.tasks.node_classification import Config

    torch.set_num_threads(1)
    raw, classes = load(name)
    data = global_gcn_graph(raw)
    torch.manual_seed(0)
    model = build_minibatch_model(Config(hidden=128, T=8), data, classes).eval()
    loader = layerwise_loader(data, eval_batch)
    before = proc_status_kib("VmRSS")
    Path("/proc/self/clear_refs").write_text("5")  # VmHWM := VmRSS
    with torch.no_grad():
        if how == "full":
            model(data.x, data.edge_index, data.edge_weight)
        else:
            model.inference(data.x, loader)
    print(json.dumps((proc_status_kib("VmHWM") - before) / 1024))


def peak_mib(name: str, how: str, eval_batch: int) -> float:
    cmd = [sys.executable, __file__, "--probe", name, how, "--eval-batch", str(eval_batch)]
    out = subprocess.run(cmd, capture_output=True, text=True, check=True).stdout
    return json.loads(out.strip().splitlines()[-1])


def timed(fn) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def measure(name: str, repeats: int, eval_batch: int) -> dict:
    from spikegraph.tasks.minibatch import (
        build_minibatch_model,
        global_gcn_graph,
        layerwise_loader,
        train_minibatch_epoch,
    )
    from spikegraph.tasks.node_classification import Config

    raw, classes = load(name)
    raw.train_mask = torch.zeros(raw.num_nodes, dtype=torch.bool)
    raw.train_mask[
        torch.randperm(raw.num_nodes, generator=torch.Generator().manual_seed(0))[:4096]
    ] = True
    data = global_gcn_graph(raw)
    cfg = Config(hidden=128, T=8)
    torch.manual_seed(0)
    model = build_minibatch_model(cfg, data, classes)
    opt = torch.optim.Adam(model.parameters(), lr=cfg.lr)
    loader = layerwise_loader(data, eval_batch)

    @torch.no_grad()
    def full() -> torch.Tensor:
        return model.eval()(data.x, data.edge_index, data.edge_weight)

    @torch.no_grad()
    def layerwise() -> torch.Tensor:
        return model.eval().inference(data.x, loader)

    train_s = timed(
        lambda: train_minibatch_epoch(model, data, opt, batch_size=1024, num_neighbors=(10, 10))
    )
    first = {"full": timed(full), "layerwise": timed(layerwise)}
    a, b = full(), layerwise()
    same = float((a.argmax(-1) == b.argmax(-1)).float().mean())
    steps = {"full": full, "layerwise": layerwise}
    times = {k: [] for k in steps}
    for r in range(repeats):
        order = list(steps) if r % 2 == 0 else list(reversed(steps))
        for k in order:
            times[k].append(timed(steps[k]))
    med = {k: statistics.median(v) for k, v in times.items()}
    return {
        "graph": {"name": name, "nodes": data.num_nodes, "synapses": data.num_edges},
        "eval_batch_size": eval_batch,
        "first_call_s": first,
        "training_4096_seeds_s": train_s,
        "times_s": times,
        "median_s": med,
        "speedup_layerwise": med["full"] / med["layerwise"],
        "peak_added_mib": {
            "full": peak_mib(name, "full", eval_batch),
            "layerwise": peak_mib(name, "layerwise", eval_batch),
        },
        "same_predictions": same,
        "max_abs_logit_diff": float((a - b).abs().max()),
    }


def markdown(report: dict) -> str:
    lines = [
        "Evaluation of the mini-batch model (2 layers, hidden 128, T = 8, relative scaling, "
        "trained on up to 4,096 seeds): one full-graph call against layer-wise inference (batches of "
        f"{report['runs'][0]['eval_batch_size']:,} seeds, all in-edges). Torch threads = 1, "
        f"{report['machine']['processor']}, torch {report['machine']['torch']}; medians of "
        f"{report['repeats']} interleaved rounds after one call of each (first calls in the "
        "JSON).",
        "",
        "| graph | nodes | synapses | full-graph eval (s) | layer-wise eval (s) | speed-up | "
        "peak memory added, full (MiB) | layer-wise (MiB) | same predictions | "
        "largest logit difference |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in report["runs"]:
        g, m = r["graph"], r["median_s"]
        lines.append(
            f"| {g['name']} | {g['nodes']:,} | {g['synapses']:,} | {m['full']:.3f} | "
            f"{m['layerwise']:.3f} | {r['speedup_layerwise']:.2f}x | "
            f"{r['peak_added_mib']['full']:.0f} | {r['peak_added_mib']['layerwise']:.0f} | "
            f"{100 * r['same_predictions']:.1f} % | {r['max_abs_logit_diff']:.1e} |"
        )
    lines += ["", f"Command: `{report['command']}`"]
    return "\n".join(lines) + "\n"


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--quick", action="store_true", help="Cora only")
    p.add_argument("--repeats", type=int, default=5)
    p.add_argument("--eval-batch", type=int, default=4096)
    p.add_argument("--json", type=Path, default=RESULTS / "layerwise_eval.json")
    p.add_argument("--probe", nargs=2, help=argparse.SUPPRESS)
    args = p.parse_args()
    if args.probe:
        probe(*args.probe, args.eval_batch)
        return
    torch.set_num_threads(1)
    graphs = ["cora"] if args.quick else ["cora", "arxiv_random"]
    report = {
        "repeats": args.repeats,
        "runs": [measure(g, args.repeats, args.eval_batch) for g in graphs],
        "machine": {"processor": platform.machine(), "torch": torch.__version__},
    }
    cmd = "python benchmarks/layerwise_eval.py" + (" --quick" if args.quick else "")
    if args.repeats != p.get_default("repeats"):
        cmd += f" --repeats {args.repeats}"
    if args.eval_batch != p.get_default("eval_batch"):
        cmd += f" --eval-batch {args.eval_batch}"
    if args.json != RESULTS / "layerwise_eval.json":
        cmd += f" --json {portable_path(args.json)}"
    report["command"] = cmd
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(report, indent=2) + "\n")
    args.json.with_suffix(".md").write_text(markdown(report))
    print(markdown(report))


if __name__ == "__main__":
    main()
