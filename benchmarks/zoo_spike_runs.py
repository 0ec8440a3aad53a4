"""Seeds of SpikeGCL and SpikeGT on Cora/CiteSeer, public and SGNNBench's random splits.

One JSON per (model, dataset, split, seed) under ``--out`` (default ``results/zoo/runs``),
named ``<model>__<dataset>__<split>__<seed>.json`` as ``benchmarks/zoo.py`` names its runs, with
``{"model", "dataset", "split", "seed", "acc_val", "acc_test", "firing_rate", "epoch_s", "T"}``
(and the runner's ``val_acc``, ``test_acc``, ``label``, ``energy_uj``); existing files are
skipped, so a stopped run resumes.
Random splits follow SGNNBench's ``class_rand_splits``: 20 labelled nodes per class, then 500
validation and 1,000 test nodes from the rest, drawn anew for every seed.

Example::

    python benchmarks/zoo_spike_runs.py --models spikegt --datasets Cora --splits random --runs 3
"""

from __future__ import annotations

import argparse
import copy
import json
import platform
from pathlib import Path

import torch
from torch_geometric.data import Data
from tqdm.auto import tqdm

from spikegraph.datasets import load_planetoid
from spikegraph.models import train_spike_gt, train_spikegcl

TRAINERS = {"spikegcl": (train_spikegcl, 20), "spikegt": (train_spike_gt, 4)}
LABELS = {"spikegcl": "SpikeGCL (linear probe)", "spikegt": "SpikeGT"}


def class_random_split(
    data: Data, seed: int, per_class: int = 20, val: int = 500, test: int = 1000
) -> Data:
    """A copy of ``data`` with SGNNBench's random split drawn from ``seed``: for every class
    (in label order) ``per_class`` nodes of a random permutation, then a permutation of the
    remaining nodes (in index order) gives ``val`` and ``test`` nodes. The same draws, in the
    same order, as ``spikegraph.datasets.with_class_random_split`` of the zoo runner, so one
    seed is one split for every model."""
    g = torch.Generator().manual_seed(seed)
    train_idx = []
    for c in data.y.unique():
        members = (data.y == c).nonzero().view(-1)
        train_idx.append(members[torch.randperm(members.numel(), generator=g)[:per_class]])
    train_t = torch.cat(train_idx)
    rest = torch.ones(data.num_nodes, dtype=torch.bool)
    rest[train_t] = False
    rest_t = rest.nonzero().view(-1)
    rest_t = rest_t[torch.randperm(rest_t.numel(), generator=g)]
    out = copy.copy(data)
    for name, index in (
        ("train_mask", train_t),
        ("val_mask", rest_t[:val]),
        ("test_mask", rest_t[val : val + test]),
    ):
        mask = torch.zeros(data.num_nodes, dtype=torch.bool)
        mask[index] = True
        setattr(out, name, mask)
    return out


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--models", nargs="+", choices=sorted(TRAINERS), default=sorted(TRAINERS))
    p.add_argument("--datasets", nargs="+", choices=["Cora", "CiteSeer"], default=["Cora"])
    p.add_argument("--splits", nargs="+", choices=["public", "random"], default=["random"])
    p.add_argument("--runs", type=int, default=3, help="seeds seed..seed+runs-1")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--root", default=None, help="datasets folder (default: vendored)")
    p.add_argument("--out", type=Path, default=Path("results/zoo/runs"))
    p.add_argument(
        "--set",
        nargs="*",
        default=[],
        metavar="KEY=VALUE",
        help="override a training setting, e.g. lr=0.001 (numbers only; saved in each row)",
    )
    p.add_argument("--no-progress", action="store_true")
    args = p.parse_args(argv)
    if args.runs < 1:
        p.error("--runs must be >= 1")
    overrides = {}
    for item in args.set:
        key, sep, value = item.partition("=")
        try:
            overrides[key] = float(value) if "." in value or "e" in value else int(value)
        except ValueError:
            p.error(f"--set {item!r}: expected KEY=NUMBER")
        if not sep or not key:
            p.error(f"--set {item!r}: expected KEY=NUMBER")
    torch.set_num_threads(args.threads)
    args.out.mkdir(parents=True, exist_ok=True)
    jobs = [
        (m, d, s, seed)
        for d in args.datasets
        for s in args.splits
        for m in args.models
        for seed in range(args.seed, args.seed + args.runs)
    ]
    graphs = {d: load_planetoid(d, root=args.root)[0] for d in args.datasets}
    for model, dataset, split, seed in tqdm(jobs, disable=args.no_progress):
        path = args.out / f"{model}__{dataset}__{split}__{seed}.json"  # the zoo runner's names
        if path.exists():
            continue
        data = graphs[dataset]
        if split == "random":
            data = class_random_split(data, seed)
        train, T = TRAINERS[model]
        result = train(data, seed=seed, **overrides)
        row = {
            "model": model,
            "dataset": dataset,
            "split": split,
            "seed": seed,
            "label": LABELS[model],
            "acc_val": result.val_acc,
            "acc_test": result.test_acc,
            "val_acc": result.val_acc,  # the zoo runner's keys
            "test_acc": result.test_acc,
            "firing_rate": result.firing_rate,
            "energy_uj": result.energy_uj,
            "epoch_s": result.epoch_s,
            "T": overrides.get("T", T),
            "overrides": overrides,
            "best_epoch": result.best_epoch,
            "epochs_run": result.epochs_run,
            "threads": torch.get_num_threads(),
            "machine": platform.platform(),
        }
        path.write_text(json.dumps(row, indent=2))
        print(f"{path.name}: val {result.val_acc:.4f} test {result.test_acc:.4f}", flush=True)


if __name__ == "__main__":
    main()
