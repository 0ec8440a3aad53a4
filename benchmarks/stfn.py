"""STFN with its gradient written out against the same equations under plain autograd.

:class:`~spikegraph.nn.STFNorm` runs as one autograd node whose backward pass is written by
hand (``_STFNFunction``). This times, on one thread, a GC-SNN training step (forward, loss,
backward, Adam step; SGNNBench's width 256 and T = 25) with the layer as it is and with its
equations as plain tensor operations differentiated by autograd, alternating the two step by
step so that load on the machine hits both alike (median over ``--steps`` after one warm-up
each), on Cora and CiteSeer; and the STFN layer alone, forward + backward on the
``[T, N, 256]`` currents of CiteSeer's second layer. The two give the same outputs to float
rounding (checked here, and the gradients in ``tests/nn/test_stfn.py``).

    python benchmarks/stfn.py               # writes benchmarks/results/stfn.json and .md
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from peer_speed import supervised_step  # noqa: E402

from spikegraph.datasets import load_planetoid  # noqa: E402
from spikegraph.models import GCSNN  # noqa: E402
from spikegraph.nn import STFNorm  # noqa: E402
from spikegraph.tasks.node_classification import machine_info  # noqa: E402

RESULTS = Path(__file__).resolve().parent / "results"
WRITTEN_OUT = STFNorm.forward


def plain_forward(self: STFNorm, u: torch.Tensor) -> torch.Tensor:
    """The layer's equations as plain tensor operations (autograd makes the gradient)."""
    T, C = u.shape[0], u.shape[-1]
    count = (torch.arange(1, T + 1, dtype=u.dtype) * C).view(T, *([1] * (u.dim() - 1)))
    mean = u.sum(-1, keepdim=True).cumsum(0) / count
    var = (u.square().sum(-1, keepdim=True).cumsum(0) / count - mean.square()).clamp_min(0.0)
    out = (u - mean) * (self.rho * self.threshold) / (var + self.eps).sqrt()
    return out * self.weight + self.bias


def alternate(step: Callable[[], object], steps: int) -> dict[str, float]:
    """Median seconds of ``step`` with each STFN implementation, run in alternation."""
    times: dict[str, list[float]] = {"written_out": [], "autograd": []}
    for i in range(steps + 1):
        for name, forward in (("written_out", WRITTEN_OUT), ("autograd", plain_forward)):
            STFNorm.forward = forward
            start = time.perf_counter()
            step()
            if i:  # the first round warms up
                times[name].append(time.perf_counter() - start)
    STFNorm.forward = WRITTEN_OUT
    return {name: statistics.median(t) for name, t in times.items()}


def gcsnn_step(dataset: str) -> Callable[[], object]:
    data = load_planetoid(dataset)[0]
    torch.manual_seed(0)
    model = GCSNN(data.num_features, 256, int(data.y.max()) + 1, T=25)
    return supervised_step(model, data, lr=1e-4, wd=1e-3)


def layer_step() -> tuple[Callable[[], object], float]:
    """STFN forward + backward on CiteSeer-sized currents, and the largest output difference."""
    gen = torch.Generator().manual_seed(0)
    u = torch.randn(25, 3327, 256, generator=gen).requires_grad_()
    grad = torch.randn(25, 3327, 256, generator=gen)
    norm = STFNorm(256, rho=0.5)
    with torch.no_grad():
        diff = float((norm(u) - plain_forward(norm, u)).abs().max())
    return (lambda: norm(u).backward(grad)), diff


def main(argv: list[str] | None = None) -> dict:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--steps", type=int, default=5, help="timed steps of each, after a warm-up")
    p.add_argument("--out", type=Path, default=RESULTS / "stfn.json")
    args = p.parse_args(argv)
    torch.set_num_threads(1)
    rows = []
    step, diff = layer_step()
    rows.append({"case": "STFN layer, [25, 3327, 256]", "max_abs_diff": diff})
    rows[-1].update(alternate(step, args.steps))
    for dataset in ("Cora", "CiteSeer"):
        rows.append({"case": f"GC-SNN training step, {dataset}"})
        rows[-1].update(alternate(gcsnn_step(dataset), args.steps))
    for row in rows:
        row["speedup"] = row["autograd"] / row["written_out"]
    report = {
        "what": __doc__.split("\n")[0],
        "command": f"python benchmarks/stfn.py --steps {args.steps}",
        "machine": machine_info(),
        "rows": rows,
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=2))
    lines = [
        f"# {report['what']}",
        "",
        f"`{report['command']}`, one thread, medians.",
        "",
        "| case | written out (s) | autograd (s) | speed-up |",
        "| --- | ---: | ---: | ---: |",
    ]
    for r in rows:
        lines.append(
            f"| {r['case']} | {r['written_out']:.3f} | {r['autograd']:.3f} | {r['speedup']:.2f}x |"
        )
    args.out.with_suffix(".md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))
    return report


if __name__ == "__main__":
    main()
