"""Does propagating the logits help? The node-classification pipeline's model (SNN or its GCN
twin) with an APPNP read-out (Klicpera et al., ICLR 2019) on top, on validation accuracy.

The model's logits :math:`H` are propagated ``K`` times by personalised PageRank,
:math:`Z \\leftarrow (1 - \\alpha) \\hat A Z + \\alpha H` (GCN-normalised, self-loops), before the
loss and the prediction. The propagation is analog arithmetic on ``[N, classes]``: it is not in
the synaptic-operation count of the report (``K (E + N) classes`` multiply-adds, about 0.9
million on Cora with ``K = 10``, against the SNN's 67 million synaptic operations with
row-normalised input). ``--K 0`` is the pipeline's model unchanged. Everything else, the
command line after ``--`` included, is the pipeline's (``examples/cora.py``); the report is its
JSON, with ``propagation`` and ``command`` added.

    python benchmarks/readout_propagation.py --K 10 --alpha 0.1 --dataset Cora -- \\
        --target-rate 0.1 --features row_normalized --runs 3 --json OUT.json
    python benchmarks/readout_propagation.py --chosen OUT.json OTHER.json   # -> "K alpha"
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
from pathlib import Path

from torch import Tensor, nn
from torch_geometric.nn import APPNP

sys.path.insert(0, str(Path(__file__).resolve().parent))
from zoo import write_run  # noqa: E402

from spikegraph.datasets import load_planetoid  # noqa: E402
from spikegraph.tasks import node_classification as nc  # noqa: E402
from spikegraph.typing import Adj  # noqa: E402


class PropagatedLogits(nn.Module):
    """``model``'s logits, propagated ``K`` times by APPNP with teleport ``alpha``."""

    def __init__(self, model: nn.Module, K: int, alpha: float) -> None:
        super().__init__()
        self.model = model
        self.convs = model.convs  # the optimiser's first-layer group (nc.param_groups)
        self.propagate = APPNP(K, alpha)  # normalises the graph at every call: no cache

    def reset_parameters(self) -> None:
        self.model.reset_parameters()

    def forward(self, x: Tensor, edge_index: Adj) -> Tensor:
        return self.propagate(self.model(x, edge_index), edge_index)


def run(cfg: nc.Config, K: int, alpha: float, root: str | None, progress: bool) -> dict:
    """The pipeline's experiment with its model wrapped in :class:`PropagatedLogits`."""
    ds = load_planetoid(cfg.dataset, root=root)
    model = nc.build_model(cfg, ds.num_features, ds.num_classes)
    if K:
        model = PropagatedLogits(model, K, alpha)
    report = nc.run_experiment(cfg, ds[0], ds.num_classes, progress, model=model)
    report["propagation"] = {"K": K, "alpha": alpha}
    return report


def chosen(reports: list[dict]) -> tuple[int, float]:
    """``(K, alpha)`` of the report with the best mean validation accuracy; on a tie the
    first (list no propagation first to keep it)."""
    means = [statistics.fmean(r["val_acc"] for r in report["runs"]) for report in reports]
    best = reports[means.index(max(means))]["propagation"]
    return best["K"], best["alpha"]


def main(argv: list[str] | None = None) -> dict:
    argv = sys.argv[1:] if argv is None else argv
    split = argv.index("--") if "--" in argv else len(argv)
    ours, rest = argv[:split], argv[split + 1 :]
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--K", type=int, default=10, help="propagation steps (0: none)")
    parser.add_argument("--alpha", type=float, default=0.1, help="teleport probability")
    parser.add_argument("--dataset", default="Cora", choices=["Cora", "CiteSeer", "PubMed"])
    parser.add_argument(
        "--chosen", type=Path, nargs="+", help="print the K and alpha these reports choose"
    )
    args = parser.parse_args(ours)
    if args.chosen:
        k, alpha = chosen([json.loads(path.read_text()) for path in args.chosen])
        print(k, alpha)
        return {"K": k, "alpha": alpha}
    if args.K < 0 or not 0.0 < args.alpha <= 1.0:
        parser.error(f"need K >= 0 and alpha in (0, 1], got K={args.K}, alpha={args.alpha}")
    cfg, pipeline = nc.parse_args(rest, args.dataset)
    report = run(cfg, args.K, args.alpha, pipeline.root, not pipeline.no_progress)
    print(nc.format_summary(report))
    if pipeline.json is not None:
        report["command"] = "python benchmarks/readout_propagation.py " + " ".join(argv)
        Path(pipeline.json).parent.mkdir(parents=True, exist_ok=True)
        write_run(Path(pipeline.json), report)  # complete or absent
        print(f"report written to {pipeline.json}")
    return report


if __name__ == "__main__":
    main()
