"""Which drive should the graph synapse's trace have? A screen on validation nodes only.

Cora, 2-layer SNN (the node-classification defaults, target rate 0.1), trained on the clean
graph; each variant's validation accuracy clean and under localised feature injection (a random
fraction of all nodes gets k extra active words, evasion), seeds 0-2. Variants: the per-edge
relative synapse with each drive, the mean-field control, scaling off. Writes one JSON per
(variant, seed) beside this file under drive_screen/, skipped if present (resumable).

    python results/graph_robustness/screen_drive.py            # ~15 runs, one thread each
"""

from __future__ import annotations

import argparse
import copy
import json
from pathlib import Path

import torch

from spikegraph.datasets import load_planetoid
from spikegraph.tasks.node_classification import Config, build_model, evaluate, train_run

OUT = Path(__file__).resolve().parent / "drive_screen"
VARIANTS = {
    "coincidence": {"scaling": "relative", "drive": "coincidence"},
    "overlap": {"scaling": "relative", "drive": "overlap"},
    "share": {"scaling": "relative", "drive": "share"},
    "mean_field": {"scaling": "mean_field", "drive": "coincidence"},
    "none": {"scaling": None},
}
INJECTIONS = [(0.1, 100), (0.3, 200)]  # (fraction of nodes, extra active words)


def inject(x: torch.Tensor, fraction: float, words: int, seed: int) -> torch.Tensor:
    """A copy of ``x`` where a random ``fraction`` of nodes get ``words`` extra active words."""
    g = torch.Generator().manual_seed(seed)
    x = x.clone()
    nodes = torch.randperm(x.shape[0], generator=g)[: round(fraction * x.shape[0])]
    for n in nodes.tolist():
        x[n, torch.randperm(x.shape[1], generator=g)[:words]] = 1.0
    return x


def run(variant: str, seed: int, data) -> dict:
    kwargs = dict(VARIANTS[variant])
    cfg = Config(target_rate=0.1, scaling=kwargs.pop("scaling"), seed=seed)
    model = build_model(cfg, data.num_features, int(data.y.max()) + 1, **kwargs)
    result = train_run(model, data, cfg, seed, progress=False)
    out = {
        "variant": variant,
        "seed": seed,
        "clean_val": result.val_acc,
        "epoch": result.best_epoch,
    }
    for fraction, words in INJECTIONS:
        perturbed = copy.copy(data)
        perturbed.x = inject(data.x, fraction, words, seed=1000 + seed)
        out[f"inject_{fraction:g}_{words}_val"] = evaluate(model, perturbed).val_acc
    return out


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--variants", nargs="+", choices=list(VARIANTS), default=list(VARIANTS))
    p.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    p.add_argument("--threads", type=int, default=1)
    args = p.parse_args()
    torch.set_num_threads(args.threads)
    data = load_planetoid("Cora")[0]
    OUT.mkdir(exist_ok=True)
    for seed in args.seeds:
        for variant in args.variants:
            path = OUT / f"{variant}_seed{seed}.json"
            if path.exists():
                continue
            path.write_text(json.dumps(run(variant, seed, data), indent=1))
            print(path.name, path.read_text().replace("\n", ""), flush=True)


if __name__ == "__main__":
    main()
