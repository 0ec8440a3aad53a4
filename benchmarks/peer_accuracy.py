"""SGNNBench's own code on the zoo's random splits: does it reach its published numbers here?

The reproduction check of ``benchmarks/zoo.py`` needs evidence where our implementation of a
peer misses SGNNBench's Table 13: this script runs *their* training code, unchanged, on the
same splits our random rows use. For every model, dataset and seed it builds SGNNBench's model
from its static config (``configs/static/<model>.yaml``: T, width, optimiser, epochs,
evaluation every ``eval_step`` epochs, early stopping; SpikeGCL's linear probe) and calls its
trainer's ``Exp._run``; only the split is ours
(:func:`spikegraph.datasets.class_random_split` for the seed, as in the zoo). One CPU thread.

SGNNBench's code is read from a checkout given with ``--peer-root`` (never vendored here), its
pure-Python dependencies (``spikingjelly`` 0.0.0.0.14, ``logzero``, ``texttable``,
``geoopt``) from ``--peer-site``. Compiled helpers that only its other models use
(``torch_cluster``, ``sample_neighber``) are replaced by empty modules when missing, and
``torch_sparse``/``numba`` as in ``benchmarks/peer_speed.py``; the JSON says which.

    python benchmarks/peer_accuracy.py --peer-root SGNNBENCH_CHECKOUT --peer-site SITE \\
        --models spikegcl spikegt --datasets Cora CiteSeer --seeds 0-4

Each finished run is added to ``--json`` at once (default
``benchmarks/results/peer_accuracy.json``); a run already there is skipped, so the command
resumes.
"""

from __future__ import annotations

import argparse
import importlib
import json
import shutil
import statistics
import sys
import tempfile
import time
import types
from pathlib import Path

import torch
import torch_geometric  # noqa: F401 - imported before any torch_sparse stand-in appears

sys.path.insert(0, str(Path(__file__).resolve().parent))
from peer_speed import (  # noqa: E402
    numba_stand_in,
    peer_convs,
    peer_package,
    torch_sparse_stand_in,
)
from zoo import SGNNBENCH_TABLE13, parse_seeds, write_run  # noqa: E402

from spikegraph.datasets import with_class_random_split  # noqa: E402
from spikegraph.tasks.node_classification import machine_info  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
# our dataset name -> SGNNBench's (its loader knows "Citeseer" only)
THEIR_NAMES = {"Cora": "Cora", "CiteSeer": "Citeseer"}
# zoo name -> (SGNNBench config file, the config's model_name, module, class)
MODELS = {
    "spikegcl": ("spikegcl", "spikegcl", "sgnnbenchmark.nn.spikegcl", "SpikeGCL"),
    "spikegt": ("spikegt", "spikegt", "sgnnbenchmark.nn.spikegt", "SpikeGraphTransformer"),
    "gcsnn": ("gc_snn", "stfn", "sgnnbenchmark.nn.stfn", "STFN"),
    "spikinggcn": ("spikinggcn", "spikinggcn", "sgnnbenchmark.nn.spikinggcn", "SpikingGCN"),
    "gcn": ("mpnn_gcn", "mpnn", "sgnnbenchmark.nn.mpnn", "MPNN"),  # the ANN row of Table 13
}


def empty_module_if_missing(name: str, **attrs: object) -> str:
    """Import ``name``; when it is not installed, put an empty module in its place."""
    try:
        importlib.import_module(name)
        return name
    except ImportError:
        module = types.ModuleType(name)
        for key, value in attrs.items():
            setattr(module, key, value)
        sys.modules[name] = module
        return f"empty stand-in ({name} not installed; unused by these models)"


def load_peer(peer_root: Path, peer_site: Path | None) -> tuple[types.ModuleType, dict]:
    """SGNNBench's trainer module, importable without its package ``__init__`` files, and
    the stand-ins used."""
    if peer_site is not None:
        sys.path.insert(0, str(peer_site))
    used = {"torch_sparse": torch_sparse_stand_in(), "numba": numba_stand_in()}
    sys.path.insert(0, str(peer_root))
    peer_package(peer_root)
    # before the empty torch_cluster: greatx (SpikingGCN's layer) treats a torch_cluster
    # that imports as one that has its compiled ops
    peer_convs()
    used["torch_cluster"] = empty_module_if_missing("torch_cluster")
    used["sample_neighber"] = empty_module_if_missing("sample_neighber", sample_neighber_cpu=None)

    def load_model(data, model_cfg):  # noqa: ANN001, ANN202 - their nn.load_model, our models only
        known = {v[1]: v[2:] for v in MODELS.values()}
        if model_cfg.model_name not in known:
            raise ValueError(
                f"SGNNBench model {model_cfg.model_name!r} is not one of {sorted(known)}"
            )
        module, cls = known[model_cfg.model_name]
        model_cls = getattr(importlib.import_module(module), cls)
        if model_cfg.model_name == "spikegcl":
            return model_cls(data.num_features, **model_cfg)
        return model_cls(data.num_features, data.num_classes, **model_cfg)

    sys.modules["sgnnbenchmark.nn"].load_model = load_model
    trainer = importlib.import_module("sgnnbenchmark.trainer")
    trainer.load_splits = our_split  # the one change to their trainer: the zoo's splits
    return trainer, used


def our_split(name: str, data, run: int | None = None, return_mask: bool = False):  # noqa: ANN001, ANN201
    """The zoo's random split for seed ``run``, as SGNNBench's index triple."""
    split = with_class_random_split(data, seed=run)
    return tuple(m.nonzero().view(-1) for m in (split.train_mask, split.val_mask, split.test_mask))


def run_one(
    trainer: types.ModuleType, peer_root: Path, model: str, dataset: str, seed: int, data_root: Path
) -> dict:
    """One SGNNBench run (their ``Exp._run``) on the zoo's split for ``seed``."""
    config_name = MODELS[model][0]
    configs = importlib.import_module("sgnnbenchmark.utils").configs
    cfg = configs.load_config_from_file(str(peer_root / f"configs/static/{config_name}.yaml"))
    cfg.shared["device"] = torch.device("cpu")
    cfg.dataset["root"], cfg.dataset["name"] = str(data_root), THEIR_NAMES[dataset]
    exp = trainer.Exp(cfg)
    data = trainer.load_dataset(**exp._dataset_cfg)
    net = trainer.load_model(data, exp._model_cfg)
    trainer.seed_everything(exp._shared_cfg.seed + seed)  # as their Exp.run does per run
    start = time.perf_counter()
    val, test = exp._run(data, net, seed)
    return {
        "model": model,
        "dataset": dataset,
        "split": "random",
        "seed": seed,
        "val_acc": float(val),
        "test_acc": float(test),
        "wall_s": time.perf_counter() - start,
        "config": f"configs/static/{config_name}.yaml",
    }


def summarize(runs: list[dict]) -> list[dict]:
    """Per model and dataset: mean and sample std of the test accuracy, SGNNBench's number."""
    groups: dict[tuple[str, str], list[dict]] = {}
    for r in runs:
        groups.setdefault((r["model"], r["dataset"]), []).append(r)
    rows = []
    for (model, dataset), group in sorted(groups.items()):
        accs = [r["test_acc"] for r in sorted(group, key=lambda r: r["seed"])]
        rows.append(
            {
                "model": model,
                "dataset": dataset,
                "split": "random",
                "acc_mean": statistics.fmean(accs),
                "acc_std": statistics.stdev(accs) if len(accs) > 1 else 0.0,
                "seeds": sorted(r["seed"] for r in group),
                "sgnnbench_table13": SGNNBENCH_TABLE13.get((model, dataset)),
            }
        )
    return rows


def planetoid_copy(dataset: str, source: Path, into: Path) -> None:
    """Planetoid's raw files for ``dataset`` under ``into/<their name>/raw`` (their loader
    writes its processed files beside them, so it gets a scratch copy)."""
    raw = source / dataset / "raw"
    if not raw.is_dir():
        raise FileNotFoundError(f"no Planetoid raw files at {raw}")
    shutil.copytree(raw, into / THEIR_NAMES[dataset] / "raw", dirs_exist_ok=True)


def main(argv: list[str] | None = None) -> dict:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--peer-root", type=Path, required=True, help="an SGNNBench checkout")
    p.add_argument("--peer-site", type=Path, default=None, help="extra sys.path for its deps")
    p.add_argument("--models", nargs="+", choices=list(MODELS), default=list(MODELS))
    p.add_argument("--datasets", nargs="+", choices=["Cora", "CiteSeer"], default=["Cora"])
    p.add_argument("--seeds", type=parse_seeds, default=parse_seeds("0-4"))
    p.add_argument("--root", type=Path, default=ROOT / "datasets", help="Planetoid raw data")
    p.add_argument("--json", type=Path, default=ROOT / "benchmarks/results/peer_accuracy.json")
    args = p.parse_args(argv)
    if not (args.peer_root / "sgnnbenchmark").is_dir():
        p.error(f"--peer-root {args.peer_root} has no sgnnbenchmark/ folder")
    torch.set_num_threads(1)
    trainer, used = load_peer(args.peer_root, args.peer_site)
    report = json.loads(args.json.read_text()) if args.json.exists() else {"runs": []}
    done = {(r["model"], r["dataset"], r["seed"]) for r in report["runs"]}
    command = (  # the checkout's paths are this machine's: placeholders in the JSON
        "python benchmarks/peer_accuracy.py --peer-root SGNNBENCH_CHECKOUT --peer-site SITE "
        f"--models {' '.join(args.models)} --datasets {' '.join(args.datasets)} "
        f"--seeds {','.join(map(str, args.seeds))}"
    )
    with tempfile.TemporaryDirectory() as scratch:
        for dataset in args.datasets:
            planetoid_copy(dataset, args.root, Path(scratch))
        for model in args.models:
            for dataset in args.datasets:
                for seed in args.seeds:
                    if (model, dataset, seed) in done:
                        continue
                    run = run_one(trainer, args.peer_root, model, dataset, seed, Path(scratch))
                    run["command"] = command  # the report gathers runs of many commands
                    report["runs"].append(run)
                    print(f"{model} {dataset} seed {seed}: test {100 * run['test_acc']:.1f} %")
                    report.update(
                        what="SGNNBench's own code and trainer on the zoo's random splits",
                        command=command,
                        stand_ins=used,
                        machine=machine_info(),
                        rows=summarize(report["runs"]),
                    )
                    args.json.parent.mkdir(parents=True, exist_ok=True)
                    write_run(args.json, report)  # complete or absent, as the zoo's runs
    return report


if __name__ == "__main__":
    main()
