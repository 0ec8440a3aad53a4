"""Seconds per training epoch: spikegraph's zoo models against SGNNBench's own implementations.

Both sides run in this one process, on the public split of one Planetoid graph, one thread, at
SGNNBench's T and width (``configs/static/*.yaml``), and are timed epoch by epoch in
alternation, so that load on the machine hits both alike. A training epoch is one full-batch
forward pass, loss, backward pass and optimiser step (no evaluation). SGNNBench's code is read
from a checkout given with ``--peer-root`` (never vendored here); without it only our side is
timed. Its imports need ``spikingjelly`` (0.0.0.0.14, for ``clock_driven``) and ``greatx``,
which ``--peer-site`` can add to ``sys.path``; ``torch_sparse``, a compiled package, is replaced
by a few lines over torch's CSR product when it is missing (noted in the JSON).

Example::

    python benchmarks/peer_speed.py --peer-root /tmp/SGNNBench --peer-site /tmp/peer-site
"""

from __future__ import annotations

import argparse
import importlib
import importlib.util
import json
import statistics
import sys
import time
import types
from collections.abc import Callable
from pathlib import Path

import torch
import torch.nn.functional as F
import torch_geometric  # noqa: F401 - imported before any torch_sparse stand-in appears
from tqdm.auto import tqdm

from spikegraph.datasets import load_planetoid
from spikegraph.models import SpikingGNN
from spikegraph.tasks.node_classification import machine_info
from spikegraph.utils.paths import portable_path

MODELS = ("spikegcl", "spikegt", "gc_snn", "spikinggcn")
# SGNNBench's static configs: T, width and optimiser of each model
CONFIGS = {
    "spikegcl": {"T": 20, "hidden": 64, "lr": 1e-4, "wd": 0.01},
    "spikegt": {"T": 4, "hidden": 128, "lr": 0.1, "wd": 0.01, "heads": 2, "blocks": 2},
    "gc_snn": {"T": 25, "hidden": 256, "lr": 0.01, "wd": 5e-4, "layers": 2, "threshold": 0.5},
    "spikinggcn": {"T": 5, "hidden": 512, "lr": 0.01, "wd": 5e-4, "K": 6, "threshold": 0.5},
}

Step = Callable[[], None]


def supervised_step(model: torch.nn.Module, data, lr: float, wd: float) -> Step:  # noqa: ANN001
    """One full-batch cross-entropy training epoch of ``model(x, edge_index)``."""
    opt = torch.optim.Adam(model.parameters(), lr=lr, weight_decay=wd)

    def step() -> None:
        model.train()
        opt.zero_grad()
        out = model(data.x, data.edge_index)
        F.cross_entropy(out[data.train_mask], data.y[data.train_mask]).backward()
        opt.step()

    return step


# --- our side ------------------------------------------------------------------------------


def ours(name: str, data, classes: int) -> tuple[Step, str]:  # noqa: ANN001
    cfg = CONFIGS[name]
    models = importlib.import_module("spikegraph.models")  # by name: any spikegraph revision
    if name == "spikegcl":
        model = models.SpikeGCL(data.num_features, cfg["hidden"], T=cfg["T"])
        opt = torch.optim.Adam(model.parameters(), lr=cfg["lr"], weight_decay=cfg["wd"])

        def step() -> None:
            model.train()
            opt.zero_grad()
            model.loss(*model(data.x, data.edge_index)).backward()
            opt.step()

        return step, "SpikeGCL"
    if name == "spikegt":
        model = models.SpikeGT(
            data.num_features,
            cfg["hidden"],
            classes,
            T=cfg["T"],
            heads=cfg["heads"],
            num_blocks=cfg["blocks"],
        )
        return supervised_step(model, data, cfg["lr"], cfg["wd"]), "SpikeGT"
    own = {"gc_snn": "GCSNN", "spikinggcn": "SpikingGCN"}[name]
    cls = getattr(models, own, None)
    if cls is not None:  # the zoo's own model, once it exists
        model = cls(data.num_features, cfg["hidden"], classes, T=cfg["T"])
        return supervised_step(model, data, cfg["lr"], cfg["wd"]), own
    layers = cfg.get("layers", 2)  # until then: SpikingGNN at the same T and width
    model = SpikingGNN(
        data.num_features, cfg["hidden"], classes, num_layers=layers, T=cfg["T"], scaling=None
    )
    return supervised_step(model, data, cfg["lr"], cfg["wd"]), "SpikingGNN (stand-in)"


# --- SGNNBench's side ----------------------------------------------------------------------


def torch_sparse_stand_in() -> str:
    """``torch_sparse`` if installed; else a module with the two names SGNNBench's code uses,
    ``SparseTensor(row=, col=, value=, sparse_sizes=)`` and ``matmul``, over torch CSR."""
    try:
        importlib.import_module("torch_sparse")
        return "torch_sparse"
    except ImportError:
        pass

    class SparseTensor:
        def __init__(self, row, col, value=None, sparse_sizes=None) -> None:  # noqa: ANN001
            value = torch.ones(row.numel()) if value is None else value.float()
            coo = torch.sparse_coo_tensor(torch.stack([row, col]), value, sparse_sizes)
            self.matrix = coo.coalesce().to_sparse_csr()

    def matmul(adj: SparseTensor, x: torch.Tensor) -> torch.Tensor:
        return adj.matrix @ x

    def spmm(*args, **kwargs):  # noqa: ANN002, ANN003, ANN202
        raise NotImplementedError("torch_sparse stand-in")

    def missing(name: str):  # noqa: ANN202 - other names import, and raise only if called
        def unavailable(*args, **kwargs):  # noqa: ANN002, ANN003, ANN202
            raise NotImplementedError(f"torch_sparse.{name} (stand-in)")

        return unavailable

    module = types.ModuleType("torch_sparse")
    module.SparseTensor, module.matmul, module.spmm = SparseTensor, matmul, spmm
    module.__getattr__ = missing
    sys.modules["torch_sparse"] = module
    return "stand-in over torch CSR (torch_sparse not installed)"


def numba_stand_in() -> str:
    """``numba`` if installed; else a module whose ``njit`` leaves functions as they are.
    ``greatx`` (SpikingGCN's layers) imports numba in its package ``__init__`` for its attack
    and ego-graph utilities, which SpikingGCN never calls."""
    try:
        importlib.import_module("numba")
        return "numba"
    except ImportError:
        pass

    def njit(*args, **kwargs):  # noqa: ANN002, ANN003, ANN202
        if len(args) == 1 and callable(args[0]) and not kwargs:
            return args[0]
        return lambda fn: fn

    numba = types.ModuleType("numba")
    typed = types.ModuleType("numba.typed")
    numba.njit, numba.jit, numba.types, numba.typed = njit, njit, types.SimpleNamespace(), typed
    typed.Dict = dict
    sys.modules["numba"], sys.modules["numba.typed"] = numba, typed
    return "stand-in (numba not installed; only greatx's unused utilities need it)"


def peer_package(root: Path) -> None:
    """Make ``sgnnbenchmark.*`` importable module by module, without its package
    ``__init__`` files (they import every model and their optional dependencies)."""
    for name in ("sgnnbenchmark", "sgnnbenchmark.nn", "sgnnbenchmark.nn.conv"):
        if name not in sys.modules:
            module = types.ModuleType(name)
            module.__path__ = [str(root / name.replace(".", "/"))]
            sys.modules[name] = module


# flags whose values name folders of this machine outside the repository: placeholders in JSON
PLACEHOLDERS = {"--peer-root": "SGNNBENCH_CHECKOUT", "--peer-site": "ITS_SITE_PACKAGES"}


def report_command(argv: list[str]) -> str:
    """The command line for the report, the peer's folders replaced by placeholders."""
    words, hide = [], False
    for word in argv:
        flag, eq, _ = word.partition("=")
        if eq and flag in PLACEHOLDERS:
            word = f"{flag}={PLACEHOLDERS[flag]}"
        elif hide:
            word = PLACEHOLDERS[words[-1]]
        hide = word in PLACEHOLDERS
        words.append(word)
    return " ".join(["python benchmarks/peer_speed.py", *words])


def library_source() -> str:
    """Where ``spikegraph`` was imported from: this checkout, or a path relative to it."""
    package = Path(importlib.import_module("spikegraph").__file__).resolve().parent
    root = Path(__file__).resolve().parents[1]
    if package == root / "spikegraph":
        return "spikegraph/ (this checkout)"
    return portable_path(package, root)


def peer_convs() -> None:
    """Give the bare ``sgnnbenchmark.nn.conv`` package (see :func:`peer_package`) the two
    layers its SpikingGCN and STFN import from it, without its ``__init__`` (which also
    imports the Riemannian layers and their dependencies)."""
    package = sys.modules["sgnnbenchmark.nn.conv"]
    package.STFNorm = importlib.import_module("sgnnbenchmark.nn.conv.stfn_conv").STFNorm
    package.SpikingGCNConv = importlib.import_module(
        "sgnnbenchmark.nn.conv.spikinggcn_conv"
    ).SpikingGCNConv


def theirs(name: str, data, classes: int) -> tuple[Step, str]:  # noqa: ANN001
    cfg = CONFIGS[name]
    if name == "spikegcl":
        mod = importlib.import_module("sgnnbenchmark.nn.spikegcl")
        model = mod.SpikeGCL(
            data.num_features,
            cfg["hidden"],
            T=cfg["T"],
            v_threshold=0.01,
            alpha=2.0,
            dropout=0.4,
            dropedge=0.4,
            surrogate="sigmoid",
            neuron="LIF",
            reset="subtract",
            act="elu",
            bn=True,
        )
        opt = torch.optim.Adam(model.parameters(), lr=cfg["lr"], weight_decay=cfg["wd"])

        def step() -> None:  # their trainer's train_ssl
            model.train()
            opt.zero_grad()
            view1, view2 = model(data.x, data.edge_index)
            for v1, v2 in zip(view1, view2, strict=True):
                model.loss(v1, v2, 1.0).backward()
            opt.step()

        return step, "sgnnbenchmark.nn.spikegcl.SpikeGCL"
    if name == "spikegt":
        mod = importlib.import_module("sgnnbenchmark.nn.spikegt")
        model = mod.SpikeGraphTransformer(
            data.num_features,
            classes,
            hid_channels=cfg["hidden"],
            num_heads=cfg["heads"],
            trans_num_layers=cfg["blocks"],
            drop_rate=0.7,
            T=cfg["T"],
            gnn_num_layers=2,
            gnn_dropout=0.1,
            gnn_use_weight=False,
            gnn_use_bn=False,
            gnn_use_residual=True,
            graph_weight=0.9,
        )
        return supervised_step(model, data, cfg["lr"], cfg["wd"]), "SpikeGraphTransformer"
    if name == "gc_snn":
        mod = importlib.import_module("sgnnbenchmark.nn.stfn")
        model = mod.STFN(
            data.num_features,
            classes,
            cfg["hidden"],
            cfg["layers"],
            cfg["T"],
            neuron="LIF",
            v_threshold=cfg["threshold"],
            backbone="gcn",
            norm="stfn",
        )
        return supervised_step(model, data, cfg["lr"], cfg["wd"]), "STFN (GC-SNN)"
    peer_convs()
    mod = importlib.import_module("sgnnbenchmark.nn.spikinggcn")
    model = mod.SpikingGCN(
        data.num_features,
        classes,
        cfg["hidden"],
        1,
        K=cfg["K"],
        neuron="LIF",
        T=cfg["T"],
        v_threshold=cfg["threshold"],
        norm="bn",
    )
    return supervised_step(model, data, cfg["lr"], cfg["wd"]), "SpikingGCN"


# --- timing --------------------------------------------------------------------------------


def time_alternating(steps: dict[str, Step], epochs: int, warmup: int) -> dict[str, list[float]]:
    """Per-epoch seconds of every step, run in turn epoch by epoch after ``warmup`` epochs."""
    for step in steps.values():
        for _ in range(warmup):
            step()
    times: dict[str, list[float]] = {k: [] for k in steps}
    for _ in range(epochs):
        for key, step in steps.items():
            start = time.perf_counter()
            step()
            times[key].append(time.perf_counter() - start)
    return times


def main(argv: list[str] | None = None) -> dict:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--dataset", choices=["Cora", "CiteSeer"], default="Cora")
    p.add_argument("--models", nargs="+", choices=MODELS, default=list(MODELS))
    p.add_argument("--epochs", type=int, default=5, help="timed epochs per side")
    p.add_argument("--warmup", type=int, default=1)
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--peer-root", type=Path, default=None, help="an SGNNBench checkout")
    p.add_argument("--peer-site", type=Path, default=None, help="extra sys.path for its deps")
    p.add_argument("--root", default=None, help="datasets folder (default: vendored)")
    p.add_argument("--json", type=Path, default=Path("benchmarks/results/peer_speed.json"))
    p.add_argument(
        "--update",
        action="store_true",
        help="keep the other models' rows of an existing --json, replace these models' rows",
    )
    p.add_argument("--no-progress", action="store_true")
    args = p.parse_args(argv)
    if args.epochs < 1 or args.warmup < 0:
        p.error("--epochs must be >= 1 and --warmup >= 0")
    if args.peer_root is not None and not (args.peer_root / "sgnnbenchmark").is_dir():
        p.error(f"--peer-root {args.peer_root} has no sgnnbenchmark/ folder")
    torch.set_num_threads(args.threads)
    ds = load_planetoid(args.dataset, root=args.root)
    data, classes = ds[0], ds.num_classes
    sparse = numba = None
    if args.peer_root is not None:
        if args.peer_site is not None:
            sys.path.insert(0, str(args.peer_site))
        sparse = torch_sparse_stand_in()
        numba = numba_stand_in()
        sys.path.insert(0, str(args.peer_root))
        peer_package(args.peer_root)
    rows = []
    for name in tqdm(args.models, desc="models", disable=args.no_progress):
        torch.manual_seed(0)
        steps, labels = {}, {}
        steps["ours"], labels["ours"] = ours(name, data, classes)
        peer_error = None
        if args.peer_root is not None:
            try:
                steps["theirs"], labels["theirs"] = theirs(name, data, classes)
            except Exception as exc:  # noqa: BLE001 - their code may not run here: say why
                peer_error = f"{type(exc).__name__}: {exc}"
        times = time_alternating(steps, args.epochs, args.warmup)
        row = {"model": name, "dataset": args.dataset, "split": "public", **CONFIGS[name]}
        row["ours_from"] = library_source()
        for side, values in times.items():
            row[f"{side}_impl"] = labels[side]
            row[f"{side}_epoch_s"] = statistics.median(values)
            row[f"{side}_epoch_s_all"] = values
        if "theirs" in times:
            row["speedup"] = row["theirs_epoch_s"] / row["ours_epoch_s"]
        if peer_error is not None:
            row["theirs_error"] = peer_error
        rows.append(row)
        ratio = f"{row['speedup']:.2f}x" if "speedup" in row else "n/a"
        print(
            f"{name:<11} ours {row['ours_epoch_s']:.3f} s"
            + (f"  theirs {row['theirs_epoch_s']:.3f} s" if "theirs_epoch_s" in row else "")
            + f"  speed-up {ratio}"
            + (f"  (theirs failed: {peer_error})" if peer_error else "")
        )
    command = report_command(sys.argv[1:] if argv is None else argv)
    for row in rows:
        row.update(command=command, torch_sparse=sparse, numba=numba)
    if args.update and args.json.exists():
        old = json.loads(args.json.read_text())
        kept = [r for r in old["rows"] if r["model"] not in args.models]
        for r in kept:  # rows of a report from before rows carried these fields
            for key in ("command", "torch_sparse", "numba"):
                r.setdefault(key, old.get(key))
        rows = sorted(kept + rows, key=lambda r: MODELS.index(r["model"]))
    report = {
        "what": "median seconds per training epoch (forward, loss, backward, step; no eval)",
        "epochs": args.epochs,
        "warmup": args.warmup,
        "machine": machine_info(),
        "rows": rows,
    }
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(report, indent=2))
    print(f"written to {args.json}")
    return report


if __name__ == "__main__":
    main()
