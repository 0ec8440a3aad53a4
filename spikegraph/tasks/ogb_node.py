"""OGB node property prediction, full batch, with OGB's protocol.

As in OGB's own examples: the official split, the directed citation graph made symmetric,
``--runs`` seeds from fresh parameters, the model state at the best validation score, and the
score from ogb's ``Evaluator``, reported as mean ± std over runs. Models, training step and
firing statistics are those of :mod:`spikegraph.tasks.node_classification`.

    python examples/ogbn_arxiv.py                                  # downloads ogbn-arxiv
    python examples/ogbn_arxiv.py --root DIR --meta DIR/meta_dict.json --name my-dataset

``--minibatch`` trains on ``NeighborLoader`` subgraphs instead
(:mod:`spikegraph.tasks.minibatch`), and ``--distributed`` spreads them over the processes that
``torchrun`` starts (:mod:`spikegraph.distributed`; see ``docs/guides/distributed.md``)::

    torchrun --standalone --nproc-per-node=2 examples/ogbn_arxiv.py --minibatch --distributed \
        --checkpoint ckpt.pt --resume
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

import torch
import torch.distributed as dist
from torch import Tensor, nn
from torch_geometric.data import Data

from spikegraph.datasets.ogb import load_ogb_node, ogb_evaluator, symmetrize
from spikegraph.distributed import DistContext, init_distributed, main_process_first
from spikegraph.tasks.cli import add_scaling, add_target_rate, positive_int, scaling_name
from spikegraph.tasks.minibatch import (
    global_gcn_graph,
    layerwise_loader,
    run_minibatch_experiment,
)
from spikegraph.tasks.node_classification import Config, format_summary, run_experiment

__all__ = ["ogb_node_data", "evaluate", "run_ogb_experiment", "parse_args", "main"]


def ogb_node_data(dataset: Any, split: dict[str, Tensor], symmetric: bool = True) -> Data:
    """The graph of an OGB node dataset as one PyG ``Data`` for full-batch training.

    Labels become ``[N]``, features float, the graph symmetric (when ``symmetric``), and the
    split is added as ``train_mask``, ``val_mask``, ``test_mask``.
    """
    graph = dataset[0]
    n = graph.num_nodes
    edge_index = symmetrize(graph.edge_index, n) if symmetric else graph.edge_index
    data = Data(x=graph.x.float(), edge_index=edge_index, y=graph.y.view(-1), num_nodes=n)
    for key, part in (("train_mask", "train"), ("val_mask", "valid"), ("test_mask", "test")):
        mask = torch.zeros(n, dtype=torch.bool)
        mask[split[part]] = True
        data[key] = mask
    return data


@torch.no_grad()
def evaluate(
    model: nn.Module, data: Data, evaluator: Any, loader: Any | None = None
) -> dict[str, float]:
    """ogb's ``Evaluator`` score on train, valid and test (model in eval mode): predictions
    from one full-graph call, or layer-wise over ``loader``
    (:func:`~spikegraph.tasks.minibatch.layerwise_loader`, mini-batch models)."""
    model.eval()
    with torch.no_grad():
        if loader is None:
            logits = model(data.x, data.edge_index, data.get("edge_weight"))
        else:
            logits = model.inference(data.x, loader)
    pred = logits.argmax(-1, keepdim=True)
    y = data.y.view(-1, 1)
    out = {}
    for part, mask in (
        ("train", data.train_mask),
        ("valid", data.val_mask),
        ("test", data.test_mask),
    ):
        score = evaluator.eval({"y_true": y[mask], "y_pred": pred[mask]})
        out[part] = float(score[evaluator.eval_metric])
    return out


def run_ogb_experiment(
    cfg: Config,
    data: Data,
    num_classes: int,
    evaluator: Any,
    progress: bool = True,
    minibatch: dict[str, Any] | None = None,
) -> dict | None:
    """``cfg.runs`` seeds; per run the state at best validation, scored by the Evaluator.

    ``minibatch``, if given, holds the keyword arguments of
    :func:`~spikegraph.tasks.minibatch.run_minibatch_experiment` (``batch_size``, ``ctx``,
    ``checkpoint``, ...) and trains on sampled subgraphs; in a distributed run only rank 0
    returns the report, the others ``None``."""
    if evaluator.eval_metric != "acc":
        raise ValueError(
            f"only single-label classification ('acc') is supported, not {evaluator.eval_metric!r}"
        )

    loader = None  # mini-batch models score layer-wise over the globally normalised graph
    eval_batch_size = (minibatch or {}).get("eval_batch_size", 4096)
    if minibatch is not None and eval_batch_size is not None:
        loader = layerwise_loader(global_gcn_graph(data), eval_batch_size)

    def evaluator_score(model: nn.Module, data: Data) -> tuple[float, float]:
        scores = evaluate(model, data, evaluator, loader)
        return scores["valid"], scores["test"]

    if minibatch is None:
        report = run_experiment(cfg, data, num_classes, progress, score=evaluator_score)
    else:
        report = run_minibatch_experiment(
            cfg, data, num_classes, score=evaluator_score, progress=progress, **minibatch
        )
        if report is None:
            return None
    report["evaluator"] = {"name": evaluator.name, "metric": evaluator.eval_metric}
    report["graph"] = {
        "num_nodes": data.num_nodes,
        "num_edges": data.num_edges,
        "num_features": data.num_features,
        "num_classes": num_classes,
        "split": {
            "train": int(data.train_mask.sum()),
            "valid": int(data.val_mask.sum()),
            "test": int(data.test_mask.sum()),
        },
    }
    return report


def parse_args(argv: list[str] | None = None) -> tuple[Config, argparse.Namespace]:
    """The example's options; defaults follow OGB's full-batch arxiv example where they apply
    (lr 0.01, dropout 0.5, no weight decay, 500 epochs, 10 runs); the spiking model's settings
    are those of the other node-classification examples (:class:`Config`'s, with the expected
    firing rate :data:`~spikegraph.tasks.cli.DEFAULT_TARGET_RATE`; ``--target-rate none``: free)."""
    d = Config()
    p = argparse.ArgumentParser(description="OGB node property prediction, full batch")
    p.add_argument("--name", default="ogbn-arxiv", help="dataset name (Evaluator's key)")
    p.add_argument("--root", default=None, help="local dataset folder (raw/, split/)")
    p.add_argument("--meta", default=None, help="meta_dict.json for a non-official dataset")
    p.add_argument("--cache-dir", default=None, help="writable copy (default ~/.cache/spikegraph)")
    p.add_argument("--no-download", action="store_true", help="fail instead of downloading")
    p.add_argument("--model", choices=["snn", "gcn"], default="snn")
    p.add_argument("--runs", type=positive_int, default=10)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--epochs", type=positive_int, default=500)
    p.add_argument("--T", type=positive_int, default=d.T, help="time steps")
    p.add_argument("--hidden", type=positive_int, default=d.hidden)
    p.add_argument("--layers", type=positive_int, default=d.layers)
    p.add_argument("--dropout", type=float, default=d.dropout)
    add_scaling(p, d.scaling)
    add_target_rate(p)
    p.add_argument("--lr", type=float, default=d.lr)
    p.add_argument("--weight-decay", type=float, default=0.0, help="OGB's examples: none")
    p.add_argument("--threads", type=positive_int, default=None, help="torch CPU threads")
    p.add_argument("--json", type=Path, default=None, help="write the full report here")
    p.add_argument("--no-progress", action="store_true", help="no progress bars")
    mb = p.add_argument_group("mini-batches (NeighborLoader) and distributed training (torchrun)")
    mb.add_argument("--minibatch", action="store_true", help="train on sampled subgraphs")
    mb.add_argument(
        "--batch-size", type=positive_int, default=1024, help="seed nodes per batch and rank"
    )
    mb.add_argument(
        "--num-neighbors", type=int, nargs="+", default=[10, 10], help="per hop (-1: all)"
    )
    mb.add_argument(
        "--distributed",
        action="store_true",
        help="data-parallel over the processes torchrun starts (needs --minibatch)",
    )
    mb.add_argument("--dist-backend", default="gloo", help="torch.distributed backend")
    mb.add_argument("--checkpoint", type=Path, default=None, help="rewritten after every epoch")
    mb.add_argument("--resume", action="store_true", help="continue from --checkpoint if present")
    args = p.parse_args(argv)
    if not 0.0 <= args.dropout < 1.0:
        p.error(f"--dropout {args.dropout} is not a probability in [0, 1)")
    if args.lr <= 0.0:
        p.error(f"--lr {args.lr} must be positive")
    if any(k == 0 or k < -1 for k in args.num_neighbors):
        p.error("--num-neighbors takes a positive count per hop, or -1 for all neighbours")
    if args.minibatch and len(args.num_neighbors) != args.layers:
        p.error(
            f"--num-neighbors gives {len(args.num_neighbors)} hop(s) for {args.layers} layers: "
            "give one count per layer"
        )
    if args.model == "gcn":
        args.target_rate = None  # the ANN has no spikes to steer
    if args.distributed and not args.minibatch:
        p.error("--distributed shares mini-batches among processes: add --minibatch")
    if (args.checkpoint or args.resume) and not args.minibatch:
        p.error("--checkpoint and --resume belong to --minibatch training")
    if args.resume and args.checkpoint is None:
        p.error("--resume needs --checkpoint")
    if args.minibatch and args.model != "snn":
        p.error("--minibatch trains the spiking model (--model snn)")
    cfg = Config(
        dataset=args.name,
        model=args.model,
        hidden=args.hidden,
        layers=args.layers,
        T=args.T,
        dropout=args.dropout,
        scaling=scaling_name(args.scaling),
        target_rate=args.target_rate,
        lr=args.lr,
        weight_decay=args.weight_decay,
        epochs=args.epochs,
        runs=args.runs,
        seed=args.seed,
        threads=args.threads,
    )
    return cfg, args


def main(argv: list[str] | None = None) -> dict | None:
    """Command-line entry point of ``examples/ogbn_arxiv.py`` (``None`` on ranks other than 0)."""
    cfg, args = parse_args(argv)
    ctx = init_distributed(args.dist_backend) if args.distributed else DistContext()
    try:
        return _main(cfg, args, ctx)
    finally:
        if args.distributed:
            dist.destroy_process_group()


def _main(cfg: Config, args: argparse.Namespace, ctx: DistContext) -> dict | None:
    if args.threads:
        torch.set_num_threads(args.threads)
    with main_process_first(ctx):  # one process per machine fills the cache, then the others
        dataset, split = load_ogb_node(
            args.name,
            args.root,
            meta=args.meta,
            cache_dir=args.cache_dir,
            download=not args.no_download,
        )
    data = ogb_node_data(dataset, split)
    evaluator = ogb_evaluator(args.name, dataset.meta_info)
    minibatch = None
    if args.minibatch:
        minibatch = {
            "batch_size": args.batch_size,
            "num_neighbors": tuple(args.num_neighbors),
            "ctx": ctx,
            "checkpoint": args.checkpoint,
            "resume": args.resume,
        }
    report = run_ogb_experiment(
        cfg, data, dataset.num_classes, evaluator, not args.no_progress, minibatch
    )
    if report is None:  # not rank 0
        return None
    print(format_summary(report))
    print(
        f"Evaluator({evaluator.name!r}) {evaluator.eval_metric}: valid "
        f"{100 * report['val_acc_mean']:.2f} %, test {100 * report['test_acc_mean']:.2f} "
        f"± {100 * report['test_acc_std']:.2f} %"
    )
    if args.json is not None:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(report, indent=2))
        print(f"report written to {args.json}")
    return report
