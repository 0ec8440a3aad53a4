"""Choose a zoo recipe's settings on validation accuracy, resumable.

Each variant (a name and the settings it changes) is trained on the given seeds of one dataset
and split with :func:`zoo.one_run`, exactly as ``benchmarks/zoo.py`` trains the recipe, and
each run is written at once to ``<out>/<model>/<variant>__<dataset>__<split>__<seed>.json``
(skipped when it exists). The table ranks the variants by mean validation accuracy; test
accuracy is printed beside it but never used to choose. The recipe itself always runs as the
variant ``default``, so every other variant is measured against it on the same seeds.

    python benchmarks/zoo_tune.py --model spikegt --dataset Cora --seeds 0-1 \\
        --variant lr1e-3:lr=1e-3 --variant graph_only:graph_weight=1.0

A setting is ``key=value`` (values read as Python literals, else kept as text); several are
joined with ``,``. For a model with its own loop (``fit``) the keys are that function's
keyword arguments (and the model's, which it passes on); otherwise fields of the pipeline's
``Config``.
"""

from __future__ import annotations

import argparse
import ast
import dataclasses
import json
import re
import statistics
import sys
from pathlib import Path
from typing import Any

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
import zoo  # noqa: E402  (benchmarks/zoo.py, beside this file)

from spikegraph.datasets import load_planetoid  # noqa: E402
from spikegraph.tasks.node_classification import Config  # noqa: E402

OUT = zoo.ROOT / "results" / "zoo" / "tuning"


def parse_variant(text: str) -> tuple[str, dict[str, Any]]:
    """``"name:key=value,key=value"`` -> ``(name, {key: value})``."""
    name, sep, body = text.partition(":")
    if not sep or not re.fullmatch(r"[\w.-]+", name) or not body:
        raise ValueError(f"cannot read variant {text!r}; use NAME:key=value[,key=value]")
    settings: dict[str, Any] = {}
    for item in body.split(","):
        key, eq, value = item.partition("=")
        if not eq or not key.strip().isidentifier():
            raise ValueError(f"cannot read setting {item!r} of variant {name!r}; use key=value")
        try:
            settings[key.strip()] = ast.literal_eval(value.strip())
        except (ValueError, SyntaxError):
            settings[key.strip()] = value.strip()
    return name, settings


def check_settings(model: str, variants: dict[str, dict[str, Any]]) -> None:
    """A recipe trained by the pipeline can change only ``Config`` fields: name any other key."""
    if zoo.REGISTRY[model].fit is not None:
        return  # the fit function and the model check their own keyword arguments
    fields = {f.name for f in dataclasses.fields(Config)}
    for name, settings in variants.items():
        unknown = sorted(set(settings) - fields)
        if unknown:
            raise ValueError(f"variant {name!r}: {unknown} are not fields of the pipeline Config")


def ranking(runs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """One row per variant: mean/std of validation and test accuracy, best validation first."""
    by_variant: dict[str, list[dict[str, Any]]] = {}
    for run in runs:
        by_variant.setdefault(run["variant"], []).append(run)
    rows = []
    for name, group in by_variant.items():
        val, test = [r["val_acc"] for r in group], [r["test_acc"] for r in group]
        rates = [r["firing_rate"] for r in group if r["firing_rate"] is not None]
        rows.append(
            {
                "variant": name,
                "settings": group[0]["settings"],
                "seeds": sorted(r["seed"] for r in group),
                "val_mean": statistics.fmean(val),
                "val_std": statistics.stdev(val) if len(val) > 1 else 0.0,
                "test_mean": statistics.fmean(test),
                "firing_rate": statistics.fmean(rates) if rates else None,
            }
        )
    return sorted(rows, key=lambda r: -r["val_mean"])


def markdown(rows: list[dict[str, Any]]) -> str:
    lines = [
        "| variant | settings | seeds | val. acc. % | test acc. % (not used) | firing |",
        "|---|---|---|---|---|---|",
    ]
    for r in rows:
        settings = ", ".join(f"{k}={v}" for k, v in r["settings"].items()) or "recipe"
        rate = "–" if r["firing_rate"] is None else f"{r['firing_rate']:.3f}"  # an ANN: none
        lines.append(
            f"| {r['variant']} | {settings} | {len(r['seeds'])} "
            f"| {100 * r['val_mean']:.2f} ± {100 * r['val_std']:.2f} "
            f"| {100 * r['test_mean']:.2f} | {rate} |"
        )
    return "\n".join(lines)


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--model", required=True, choices=list(zoo.REGISTRY))
    p.add_argument("--dataset", default="Cora", choices=zoo.DATASETS)
    p.add_argument("--split", default="random", choices=zoo.SPLITS)
    p.add_argument("--seeds", default="0-2", help="e.g. 0-2 or 0,3 (default 0-2)")
    p.add_argument("--variant", action="append", default=[], help="NAME:key=value[,key=value]")
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--out", type=Path, default=OUT)
    p.add_argument("--root", default=None, help="folder with <Name>/raw/ (default: vendored)")
    return p


def main(argv: list[str] | None = None) -> list[dict[str, Any]]:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        seeds = zoo.parse_seeds(args.seeds)
        variants = {"default": {}} | dict(parse_variant(v) for v in args.variant)
        check_settings(args.model, variants)
    except ValueError as err:
        parser.error(str(err))
    torch.set_num_threads(args.threads)
    ds = load_planetoid(args.dataset, root=args.root)
    data = ds[0]
    data.name = args.dataset
    folder = args.out / args.model
    folder.mkdir(parents=True, exist_ok=True)
    runs = []
    for name, settings in variants.items():
        for seed in seeds:
            path = folder / f"{name}__{args.dataset}__{args.split}__{seed}.json"
            if path.exists():
                record = json.loads(path.read_text())
                if record["settings"] != settings:
                    parser.error(f"{path} was made with {record['settings']}, not {settings}")
            else:
                record = zoo.one_run(
                    args.model, data, ds.num_classes, args.split, seed, False, None, settings
                )
                record = {"variant": name, "settings": settings, **record}
                zoo.write_run(path, record)
                print(f"{name} seed {seed}: val {100 * record['val_acc']:.2f} %", flush=True)
            runs.append(record)
    rows = ranking(runs)
    print(markdown(rows))
    return rows


if __name__ == "__main__":
    main(sys.argv[1:])
