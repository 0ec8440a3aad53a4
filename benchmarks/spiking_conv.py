"""Cost of spiking message passing against its ANN twin and the usual per-step research loop.

Times forward + backward of a 2-layer network (median of repeated runs after warm-up), all
variants side by side in one process, and reports ratios; peak memory is measured per variant in
a fresh subprocess (peak resident set size). Variants:

    a   SpikingASConv x 2, default scaling ("relative": per-edge coincidence traces)
    b   SpikingASConv x 2, scaling=None
    c   PyG GCNConv ANN of the same widths, run T times
    d   reference spiking GCN as research code is usually written: per step, GCNConv + LIF
    e   (a) with backend="torch_scatter" (when torch-scatter is installed)
    f   (a) with an expected firing rate in the hidden layer (target_rate=0.1)

The input is the node features repeated over time (direct coding, a stride-0 view), which lets
the library transform the first layer's input once and, without scaling, aggregate it once.
(a) and (b) are also timed on rate-coded (Bernoulli) spikes, where every step differs and no
variant can share work across steps: there (a)/(b) is the price of the scaling alone.

    python benchmarks/spiking_conv.py                  # Cora and the arxiv-sized graph
    python benchmarks/spiking_conv.py --quick          # Cora only, fewer repeats
    python benchmarks/spiking_conv.py --clock cpu      # on a machine shared with other work
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
from torch import Tensor, nn
from torch_geometric.nn import GCNConv

from spikegraph import SpikingASConv, repeat
from spikegraph.encoders import bernoulli
from spikegraph.utils.graph import HAS_TORCH_SCATTER

ARXIV = {"num_nodes": 169_343, "num_edges": 1_166_243, "num_features": 128, "num_classes": 40}


# ---- the reference, written as research code usually is (shares no code with the library) ----
class ReferenceSpikingGCN(nn.Module):
    """Per time step: GCNConv on that step's input, then a LIF update (soft reset)."""

    def __init__(self, c_in: int, hidden: int, c_out: int, decay=0.9, threshold=0.5) -> None:
        super().__init__()
        self.conv1 = GCNConv(c_in, hidden, cached=True)
        self.conv2 = GCNConv(hidden, c_out, cached=True)
        self.decay, self.threshold = decay, threshold

    def lif(self, v: Tensor | None, current: Tensor) -> tuple[Tensor, Tensor]:
        v = current if v is None else self.decay * v + current
        spike = SurrogateSpike.apply(v - self.threshold)
        return spike, v - self.threshold * spike

    def forward(self, x_seq: Tensor, edge_index: Tensor) -> Tensor:
        v1 = v2 = None
        out = []
        for x_t in x_seq:
            s1, v1 = self.lif(v1, self.conv1(x_t, edge_index))
            s2, v2 = self.lif(v2, self.conv2(s1, edge_index))
            out.append(s2)
        return torch.stack(out)


class SurrogateSpike(torch.autograd.Function):
    @staticmethod
    def forward(ctx, v):
        ctx.save_for_backward(v)
        return (v >= 0).float()

    @staticmethod
    def backward(ctx, grad):
        (v,) = ctx.saved_tensors
        return grad * (v.abs() < 0.5).float()


class AnnTwin(nn.Module):
    """GCNConv -> ReLU -> GCNConv, applied T times (the ANN's cost for the same steps)."""

    def __init__(self, c_in: int, hidden: int, c_out: int) -> None:
        super().__init__()
        self.conv1 = GCNConv(c_in, hidden, cached=True)
        self.conv2 = GCNConv(hidden, c_out, cached=True)

    def forward(self, x_seq: Tensor, edge_index: Tensor) -> Tensor:
        return torch.stack(
            [self.conv2(self.conv1(x, edge_index).relu(), edge_index) for x in x_seq]
        )


class SpikingNet(nn.Module):
    def __init__(self, c_in: int, hidden: int, c_out: int, target_rate=None, **kwargs) -> None:
        super().__init__()
        self.conv1 = SpikingASConv(c_in, hidden, cached=True, target_rate=target_rate, **kwargs)
        self.conv2 = SpikingASConv(hidden, c_out, cached=True, **kwargs)

    def forward(self, x_seq: Tensor, edge_index: Tensor) -> Tensor:
        return self.conv2(self.conv1(x_seq, edge_index), edge_index)


def build(variant: str, c_in: int, hidden: int, c_out: int) -> nn.Module:
    if variant == "a":
        return SpikingNet(c_in, hidden, c_out)  # the default scaling
    if variant == "b":
        return SpikingNet(c_in, hidden, c_out, scaling=None)
    if variant == "c":
        return AnnTwin(c_in, hidden, c_out)
    if variant == "d":
        return ReferenceSpikingGCN(c_in, hidden, c_out)
    if variant == "e":
        return SpikingNet(c_in, hidden, c_out, backend="torch_scatter")
    if variant == "f":
        return SpikingNet(c_in, hidden, c_out, target_rate=0.1)
    raise ValueError(f"unknown variant {variant!r}")


# ---- graphs ----
def load_graph(name: str, num_edges: int | None = None) -> tuple[Tensor, Tensor, int]:
    """Features, edges and classes: the vendored Cora, or a random graph of arxiv's size."""
    if name == "cora":
        from spikegraph.datasets import load_planetoid

        ds = load_planetoid("Cora")
        return ds[0].x, ds[0].edge_index, ds.num_classes
    gen = torch.Generator().manual_seed(0)
    n, e = ARXIV["num_nodes"], num_edges or ARXIV["num_edges"]
    x = torch.randn(n, ARXIV["num_features"], generator=gen)
    edge_index = torch.randint(0, n, (2, e), generator=gen)
    return x, edge_index, ARXIV["num_classes"]


def step(model: nn.Module, x_seq: Tensor, edge_index: Tensor) -> None:
    model.zero_grad(set_to_none=True)
    model(x_seq, edge_index).sum().backward()


def median_time(
    model: nn.Module, x_seq: Tensor, edge_index: Tensor, repeats: int, clock=time.perf_counter
) -> float:
    """Median seconds of a training step by ``clock`` (wall time; ``time.process_time``: the
    process's CPU time, which a machine loaded by other work inflates far less)."""
    step(model, x_seq, edge_index)  # warm-up (and caches)
    times = []
    for _ in range(repeats):
        start = clock()
        step(model, x_seq, edge_index)
        times.append(clock() - start)
    return statistics.median(times)


def rate_coded(x: Tensor, T: int) -> Tensor:
    """Bernoulli spikes with each feature's min-max rescaled value as its rate (seeded)."""
    lo, hi = x.min(0).values, x.max(0).values
    rates = (x - lo) / (hi - lo).clamp_min(1e-12)
    return bernoulli(rates, T, generator=torch.Generator().manual_seed(0))


RATE_CODED = ("a", "b")  # also timed on rate-coded input, as "<variant>:rate"


def time_variants(
    graph: str, variants: list[str], T: int, hidden: int, repeats: int, clock=time.perf_counter
) -> dict:
    x, edge_index, classes = load_graph(graph)
    inputs = {"": repeat(x, T), ":rate": rate_coded(x, T)}
    torch.manual_seed(0)
    models = {v: build(v, x.shape[1], hidden, classes) for v in variants}
    runs = [(v, code) for v in variants for code in inputs if not code or v in RATE_CODED]
    times = {v + code: [] for v, code in runs}
    for _ in range(repeats):  # interleave the variants so drift hits all alike
        for v, code in runs:
            times[v + code].append(median_time(models[v], inputs[code], edge_index, 1, clock))
    return {key: statistics.median(t) for key, t in times.items()}


def peak_memory_mib(graph: str, variant: str, T: int, hidden: int, num_edges: int | None) -> float:
    """Peak RSS of a fresh process doing one forward + backward, minus its RSS before the graph
    (Linux: the peak is reset through ``/proc/self/clear_refs``, then read as ``VmHWM``)."""
    cmd = [sys.executable, __file__, "--probe", graph, variant, str(T), str(hidden)]
    if num_edges:
        cmd.append(str(num_edges))
    out = subprocess.run(cmd, capture_output=True, text=True, check=True)
    return float(out.stdout.strip().splitlines()[-1])


def probe(graph: str, variant: str, T: int, hidden: int, num_edges: int | None) -> None:
    Path("/proc/self/clear_refs").write_text("5")  # reset the peak (VmHWM) left by imports
    base = proc_status_kib("VmRSS")
    x, edge_index, classes = load_graph(graph, num_edges)
    model = build(variant, x.shape[1], hidden, classes)
    step(model, repeat(x, T), edge_index)
    print((proc_status_kib("VmHWM") - base) / 1024)


def proc_status_kib(field: str) -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise RuntimeError(f"no {field} in /proc/self/status")


def time_over_edges(variant: str, T: int, hidden: int, edge_counts: list[int]) -> dict:
    out = {}
    for e in edge_counts:
        x, edge_index, classes = load_graph("arxiv", e)
        model = build(variant, x.shape[1], hidden, classes)
        out[e] = median_time(model, repeat(x, T), edge_index, 1)
    return out


def markdown(report: dict) -> str:
    lines = []
    for graph, res in report["graphs"].items():
        t, mem = res["time_s"], res["peak_mib"]
        lines += [f"**{graph}** (T = {report['T']}, hidden {report['hidden']})", ""]
        lines += ["| variant | fwd+bwd (ms) | peak memory (MiB) |", "|---|---:|---:|"]
        for key, s in t.items():
            v, rate = key.split(":")[0], key.endswith(":rate")
            name = f"({v}) {VARIANTS[v]}" + (", rate-coded input" if rate else "")
            peak = f"{mem[key]:.0f}" if key in mem else "-"
            lines.append(f"| {name} | {1000 * s:.1f} | {peak} |")
        lines += ["", "| ratio | value | target |", "|---|---:|---:|"]
        for name, value, target in res["ratios"]:
            lines.append(f"| {name} | {value:.2f} | {target} |")
        lines.append("")
    for graph, res in report.get("scaling_T", {}).items():
        lines += [
            f"**(a) on {graph} against T**",
            "",
            "| T | fwd+bwd (ms) | peak MiB |",
            "|---:|---:|---:|",
        ]
        for T, row in res.items():
            lines.append(f"| {T} | {1000 * row['time_s']:.1f} | {row['peak_mib']:.0f} |")
        lines.append("")
    if "scaling_edges" in report:
        lines += [
            "**(a) against edges** (169,343 nodes)",
            "",
            "| edges | fwd+bwd (ms) |",
            "|---:|---:|",
        ]
        for e, s in report["scaling_edges"].items():
            lines.append(f"| {int(e):,} | {1000 * s:.1f} |")
    return "\n".join(lines)


VARIANTS = {
    "a": "SpikingASConv, default scaling",
    "b": "SpikingASConv, scaling=None",
    "c": "GCNConv ANN x T",
    "d": "per-step GCNConv + LIF loop",
    "e": "(a) with torch-scatter",
    "f": "(a) with an expected firing rate (hidden layer, target_rate=0.1)",
}


def ratios(t: dict, graph: str) -> list:
    out = [
        ("(a)/(c)", t["a"] / t["c"], "<= 1.0" if graph == "cora" else "<= 1.3"),
        ("(a)/(b)", t["a"] / t["b"], "<= 1.15"),
        ("(a)/(b), rate-coded input", t["a:rate"] / t["b:rate"], "<= 1.15"),
        ("(d)/(a)", t["d"] / t["a"], ">= 2.0"),
    ]
    if "e" in t:
        out.append(("(e)/(a)", t["e"] / t["a"], "-"))
    if "f" in t:
        out.append(("(f)/(a)", t["f"] / t["a"], "<= 1.3"))
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--probe", nargs="+", help=argparse.SUPPRESS)
    parser.add_argument("--T", type=int, default=8)
    parser.add_argument("--hidden", type=int, default=128)
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--quick", action="store_true", help="Cora only, 3 repeats, no sweeps")
    parser.add_argument("--no-sweeps", action="store_true", help="both graphs, no T/edge sweeps")
    parser.add_argument(
        "--clock", choices=("wall", "cpu"), default="wall", help="cpu: the process's CPU time"
    )
    parser.add_argument("--json", type=Path, default=Path("benchmarks/results/spiking_conv.json"))
    args = parser.parse_args()
    clock = time.process_time if args.clock == "cpu" else time.perf_counter
    if args.probe:
        g, v, T, h, *e = args.probe
        return probe(g, v, int(T), int(h), int(e[0]) if e else None)
    graphs = ["cora"] if args.quick else ["cora", "arxiv"]
    repeats = 3 if args.quick else args.repeats
    variants = ["a", "b", "c", "d", "f"] + (["e"] if HAS_TORCH_SCATTER else [])
    report = {"T": args.T, "hidden": args.hidden, "clock": args.clock, "machine": machine()}
    report["graphs"] = {}
    for graph in graphs:
        n = repeats if graph == "cora" else 3
        t = time_variants(graph, variants, args.T, args.hidden, n, clock)
        mem = {v: peak_memory_mib(graph, v, args.T, args.hidden, None) for v in variants}
        report["graphs"][graph] = {"time_s": t, "peak_mib": mem, "ratios": ratios(t, graph)}
        print(f"{graph}: done", file=sys.stderr)
    if not (args.quick or args.no_sweeps):
        report["scaling_T"] = {"arxiv": sweep_T(args.hidden)}
        edges = [
            ARXIV["num_edges"] // 4,
            ARXIV["num_edges"] // 2,
            ARXIV["num_edges"],
            2 * ARXIV["num_edges"],
        ]
        report["scaling_edges"] = time_over_edges("a", 4, args.hidden, edges)
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(report, indent=2))
    table = markdown(report)
    args.json.with_suffix(".md").write_text(table + "\n")
    print(table)


def sweep_T(hidden: int) -> dict:
    out = {}
    for T in (1, 2, 4, 8, 16):
        x, edge_index, classes = load_graph("arxiv")
        model = build("a", x.shape[1], hidden, classes)
        out[T] = {
            "time_s": median_time(model, repeat(x, T), edge_index, 1),
            "peak_mib": peak_memory_mib("arxiv", "a", T, hidden, None),
        }
    return out


def machine() -> dict:
    return {
        "platform": platform.platform(),
        "cpu_count": torch.get_num_threads(),
        "torch": torch.__version__,
        "torch_scatter": HAS_TORCH_SCATTER,
    }


if __name__ == "__main__":
    main()
