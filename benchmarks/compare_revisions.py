"""Training-step time of one benchmark variant under two revisions of the library, interleaved.

A change to the layer is judged against the code before it, on the same machine in the same
minutes: this checks out ``--base`` into a temporary git worktree and times variant ``--variant``
of ``benchmarks/spiking_conv.py`` (forward + backward, this tree's definition of the variant,
each revision's own library) in fresh processes, alternating base and head ``--rounds`` times so
that load drifts hit both alike. Reports the median of each and the ratio head / base.

    python benchmarks/compare_revisions.py --base 84ac159 --graph cora
    python benchmarks/compare_revisions.py --base 84ac159 --graph arxiv --rounds 3 --repeats 1

With ``--clock cpu`` each step is timed by its process's CPU time instead of the wall clock:
on a machine shared with other work, waiting for a core then does not count, though cache
and memory-bandwidth contention still do.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

SNIPPET = """
import sys, time, torch
sys.path.insert(0, {bench!r})
import spikegraph, spiking_conv as b
assert spikegraph.__file__.startswith({tree!r}), spikegraph.__file__
torch.set_num_threads({threads})
x, edge_index, classes = b.load_graph({graph!r})
torch.manual_seed(0)
model = b.build({variant!r}, x.shape[1], {hidden}, classes)
print(b.median_time(model, b.repeat(x, {T}), edge_index, {repeats}, time.{clock}))
"""


def time_once(tree: Path, args: argparse.Namespace) -> float:
    code = SNIPPET.format(
        bench=str(ROOT / "benchmarks"),
        tree=str(tree),
        threads=args.threads,
        graph=args.graph,
        variant=args.variant,
        hidden=args.hidden,
        T=args.T,
        repeats=args.repeats,
        clock="process_time" if args.clock == "cpu" else "perf_counter",
    )
    env = {**os.environ, "PYTHONPATH": str(tree)}
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=tree, env=env, capture_output=True, text=True
    )
    if out.returncode != 0:
        raise RuntimeError(f"timing under {tree} failed:\n{out.stderr}")
    return float(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--base", required=True, help="git revision to compare against")
    parser.add_argument("--head", default=None, help="git revision to time (default: this tree)")
    parser.add_argument("--graph", choices=["cora", "arxiv"], default="cora")
    parser.add_argument("--variant", default="a", help="a variant of spiking_conv.py")
    parser.add_argument("--T", type=int, default=8)
    parser.add_argument("--hidden", type=int, default=128)
    parser.add_argument("--rounds", type=int, default=5, help="alternations base/head")
    parser.add_argument("--repeats", type=int, default=5, help="timed steps per process")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument(
        "--clock",
        choices=["wall", "cpu"],
        default="wall",
        help="wall time, or the timing process's CPU time (for a machine busy with other work)",
    )
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args()
    times: dict[str, list[float]] = {"base": [], "head": []}
    with tempfile.TemporaryDirectory() as tmp:
        trees = {"base": Path(tmp) / "base", "head": Path(tmp) / "head" if args.head else ROOT}
        for side, rev in (("base", args.base), ("head", args.head)):
            if rev is not None:
                add = ["git", "worktree", "add", "-q", "--detach", str(trees[side]), rev]
                subprocess.run(add, cwd=ROOT, check=True)
        try:
            for _ in range(args.rounds):
                for side in ("base", "head"):
                    times[side].append(time_once(trees[side], args))
        finally:
            for side, rev in (("base", args.base), ("head", args.head)):
                if rev is not None:
                    remove = ["git", "worktree", "remove", "--force", str(trees[side])]
                    subprocess.run(remove, cwd=ROOT)
    med = {k: statistics.median(v) for k, v in times.items()}
    report = {
        "args": vars(args) | {"json": None},
        "times_s": times,
        "median_s": med,
        "ratio_head_over_base": med["head"] / med["base"],
    }
    print(
        f"{args.graph}, variant {args.variant}: base {1000 * med['base']:.1f} ms, "
        f"head {1000 * med['head']:.1f} ms, head/base {report['ratio_head_over_base']:.3f}"
    )
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
