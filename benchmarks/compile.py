"""``torch.compile`` of a SpikingGNN training step on Cora: graph breaks, compile time, and the
step time eager against compiled.

The model is the Cora example's (:func:`~spikegraph.tasks.node_classification.build_model` with
the default :class:`~spikegraph.tasks.node_classification.Config`: 2 layers, hidden 128, T = 8,
dropout 0.5, ``cached=True``), with "relative" scaling and without scaling (``--scaling``). One training step
is forward, cross-entropy on the training nodes, backward and an Adam step. Two copies of the
model with the same initial state train side by side, one eager and one
``torch.compile``-d (inductor, the default), each warmed up first; the compiled copy's warm-up
(its compilation, inductor's caches off) is timed and reported separately, never in the step
times. The timed steps
then alternate between the two (eager first in even rounds, compiled first in odd ones), so
both see the same machine load; times are medians. Graph breaks are counted with
``torch._dynamo.explain`` on the forward pass, with the place each break happens.

    python benchmarks/compile.py                      # writes benchmarks/results/compile.{json,md}
    python benchmarks/compile.py --repeats 5 --json /tmp/compile.json

One thread (``--threads``), as the other benchmarks.
"""

from __future__ import annotations

import argparse
import copy
import json
import platform
import statistics
import time
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn

from spikegraph.utils.paths import portable_path

RESULTS = Path(__file__).resolve().parent / "results"


def training_step(model: nn.Module, opt: torch.optim.Optimizer, data, train_idx) -> float:
    out = model(data.x, data.edge_index)
    loss = F.cross_entropy(out[train_idx], data.y[train_idx])
    opt.zero_grad(set_to_none=True)
    loss.backward()
    opt.step()
    return loss.detach()


def timed(fn) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def graph_breaks(model: nn.Module, data) -> dict:
    """Breaks of one training-mode forward pass, with the innermost frame of each."""
    torch._dynamo.reset()
    report = torch._dynamo.explain(model)(data.x, data.edge_index)
    places = []
    for brk in report.break_reasons:
        frame = brk.user_stack[-1] if brk.user_stack else None
        where = f"{Path(frame.filename).name}:{frame.lineno} {frame.name}" if frame else "?"
        places.append({"where": where, "reason": brk.reason.splitlines()[0][:160]})
    torch._dynamo.reset()
    return {"graphs": report.graph_count, "breaks": report.graph_break_count, "places": places}


def measure(args: argparse.Namespace, scaling_name: str) -> dict:
    from spikegraph.datasets import load_planetoid
    from spikegraph.tasks.node_classification import Config, build_model

    torch.set_num_threads(args.threads)
    from torch._inductor import config as inductor_config

    inductor_config.force_disable_caches = True  # a cold compilation, every run
    dataset = load_planetoid("Cora")
    data = dataset[0]
    train_idx = data.train_mask.nonzero().view(-1)
    scaling = None if scaling_name == "none" else scaling_name
    cfg = Config(scaling=scaling, T=args.T, dropout=args.dropout)
    torch._dynamo.reset()
    torch.manual_seed(0)
    eager = build_model(cfg, data.num_features, dataset.num_classes)
    twin = copy.deepcopy(eager)
    opts = [torch.optim.Adam(m.parameters(), lr=cfg.lr) for m in (eager, twin)]
    eager.train(), twin.train()
    warm = timed(lambda: training_step(eager, opts[0], data, train_idx))  # names, caches
    training_step(twin, opts[1], data, train_idx)
    breaks = graph_breaks(twin, data)
    compiled = torch.compile(twin)
    compile_s = timed(lambda: training_step(compiled, opts[1], data, train_idx))
    second_s = timed(lambda: training_step(compiled, opts[1], data, train_idx))
    steps = {"eager": lambda: training_step(eager, opts[0], data, train_idx)}
    steps["compiled"] = lambda: training_step(compiled, opts[1], data, train_idx)
    times = {"eager": [], "compiled": []}
    for r in range(args.repeats):
        for name in ("eager", "compiled") if r % 2 == 0 else ("compiled", "eager"):
            times[name].append(timed(steps[name]))
    eager.eval(), twin.eval()
    with torch.no_grad():  # same weights: one eval pass of each path on the eager model's state
        twin.load_state_dict(eager.state_dict())
        diff = (compiled(data.x, data.edge_index) - eager(data.x, data.edge_index)).abs().max()
    med = {k: statistics.median(v) for k, v in times.items()}
    return {
        "graph": {"name": "Cora", "nodes": data.num_nodes, "edges": data.num_edges},
        "scaling": scaling_name,
        "model": {
            "hidden": cfg.hidden,
            "layers": cfg.layers,
            "T": cfg.T,
            "scaling": cfg.scaling,
            "dropout": cfg.dropout,
        },
        "graph_breaks": breaks,
        "first_eager_step_s": warm,
        "compile_s": compile_s,
        "second_compiled_step_s": second_s,
        "step_s": times,
        "median_step_s": med,
        "speedup_compiled": med["eager"] / med["compiled"],
        "eval_max_abs_diff": float(diff),
    }


def markdown(report: dict) -> str:
    first = report["runs"][0]
    g, m = first["graph"], first["model"]
    lines = [
        f"`torch.compile` of a SpikingGNN training step on Cora ({g['nodes']:,} nodes, "
        f"{g['edges']:,} edges): {m['layers']} layers, hidden {m['hidden']}, T = {m['T']}, "
        f"dropout {m['dropout']}, cached graph, Adam; torch threads = {report['threads']}, "
        f"{report['machine']['processor']}, torch {report['machine']['torch']}. Medians of "
        f"{report['repeats']} interleaved rounds; compilation (inductor, caches off) timed "
        "apart.",
        "",
        "| scaling | graph breaks (forward) | eager step (s) | compiled step (s) | "
        "compiled / eager speed-up | compilation (s) | eval logits, largest difference |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for r in report["runs"]:
        med, brk = r["median_step_s"], r["graph_breaks"]
        lines.append(
            f"| {r['scaling']} | {brk['breaks']} | {med['eager']:.4f} | {med['compiled']:.4f} | "
            f"{r['speedup_compiled']:.2f}x | {r['compile_s']:.1f} | "
            f"{r['eval_max_abs_diff']:.1e} |"
        )
    places = sorted({p["where"] for r in report["runs"] for p in r["graph_breaks"]["places"]})
    lines += [
        "",
        "Where the graph breaks: " + (", ".join(places) if places else "nowhere") + ".",
        "",
        f"Command: `{report['command']}`",
    ]
    return "\n".join(lines) + "\n"


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--T", type=int, default=8)
    p.add_argument(
        "--scaling", nargs="+", default=["relative", "none"], help='shape names, or "none"'
    )
    p.add_argument("--dropout", type=float, default=0.5, help="the Cora example's 0.5")
    p.add_argument("--repeats", type=int, default=20)
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--json", type=Path, default=RESULTS / "compile.json")
    args = p.parse_args()
    report = {
        "threads": args.threads,
        "repeats": args.repeats,
        "runs": [measure(args, name) for name in args.scaling],
        "machine": {
            "platform": platform.platform(),
            "processor": platform.machine(),
            "torch": torch.__version__,
        },
    }
    cmd = "python benchmarks/compile.py"
    if args.json != RESULTS / "compile.json":
        cmd += f" --json {portable_path(args.json)}"
    for flag in ("T", "dropout", "repeats", "threads"):
        if getattr(args, flag) != p.get_default(flag):
            cmd += f" --{flag} {getattr(args, flag)}"
    if args.scaling != p.get_default("scaling"):
        cmd += " --scaling " + " ".join(args.scaling)
    report["command"] = cmd
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(report, indent=2) + "\n")
    args.json.with_suffix(".md").write_text(markdown(report))
    print(markdown(report))


if __name__ == "__main__":
    main()
