"""Full-batch node classification: train, select at best validation, repeat over seeds, report.

The examples are thin wrappers around :func:`main`; everything they print and save comes from
:func:`run_experiment`.
"""

from __future__ import annotations

import argparse
import copy
import json
import platform
import statistics
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, NamedTuple

import torch
import torch.nn.functional as F
from torch import nn
from torch_geometric.data import Data
from tqdm.auto import tqdm

from spikegraph.models import GCN, SpikingGNN
from spikegraph.monitor import FiringMonitor
from spikegraph.neurons import LIF
from spikegraph.nn import SpikingASConv
from spikegraph.synapse import settle
from spikegraph.tasks.cli import (
    SURROGATE_CHOICES,
    add_scaling,
    add_target_rate,
    nonnegative_int,
    positive_int,
    scaling_name,
)
from spikegraph.utils.graph import Adjacency

__all__ = [
    "Config",
    "RunResult",
    "build_model",
    "train_run",
    "run_experiment",
    "main",
    "machine_info",
    "mean_std",
    "firing_means",
    "runs_report",
]


@dataclass
class Config:
    """Everything that defines an experiment; saved verbatim in the JSON."""

    dataset: str = "Cora"
    model: str = "snn"  # "snn" or "gcn"
    hidden: int = 128
    layers: int = 2
    T: int = 8
    dropout: float = 0.5
    dropout_mask: str = "sequence"  # SNN hidden layers: one mask per sequence, or "step"
    scaling: str | None = "relative"
    target_rate: float | None = None  # free, as SpikingGNN; the command line's default is 0.1
    threshold: float = 0.5
    decay: float = 0.9
    surrogate: str = "atan"
    readout: str = "membrane"
    encoder: str = "repeat"
    lr: float = 0.01
    first_layer_lr_scale: float = 1.0  # a control: the first layer's step size relative to lr
    weight_decay: float = 5e-4
    weight_decay_layers: str = "all"  # "all", or "first": the first graph layer only (Kipf's GCN)
    features: str = "raw"  # or "row_normalized": each node's features sum to one
    select: str = "acc"  # the kept epoch: best validation accuracy, ties to lower loss; or "loss"
    eval_every: int = 1  # evaluate (and select) every this many epochs, and at the last
    patience: int = 50  # stop after this many epochs without a better kept epoch (0: never)
    settle: bool = True  # SNN: re-measure experience and rate gains without dropout each epoch
    rate_penalty: float = 0.0  # SNN: weight of a firing-rate term in the loss (the alternative)
    penalty_target: float | None = None  # its rate: (r - target)^2 per layer; None: L1, r
    epochs: int = 200
    runs: int = 1
    seed: int = 0
    threads: int | None = None
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass
class RunResult:
    seed: int
    best_epoch: int
    val_acc: float
    test_acc: float
    epoch_time_s: float
    firing: dict[str, Any] | None = None
    scale: dict[str, Any] | None = None
    epochs_run: int | None = None  # fewer than Config.epochs after an early stop


def build_model(cfg: Config, num_features: int, num_classes: int, **conv_kwargs) -> nn.Module:
    """The spiking network or its ANN twin (same widths and depth); ``conv_kwargs`` override
    the spiking layers' settings (default ``cached=True``)."""
    if cfg.model == "gcn":
        return GCN(
            num_features,
            cfg.hidden,
            num_classes,
            num_layers=cfg.layers,
            dropout=cfg.dropout,
            cached=True,  # transductive, like the SNN: normalise the fixed graph once
        )
    if cfg.model != "snn":
        raise ValueError(f"unknown model {cfg.model!r}; choose 'snn' or 'gcn'")
    return SpikingGNN(
        num_features,
        cfg.hidden,
        num_classes,
        num_layers=cfg.layers,
        T=cfg.T,
        encoder=cfg.encoder,
        dropout=cfg.dropout,
        dropout_mask=cfg.dropout_mask,
        scaling=cfg.scaling,
        decay=cfg.decay,
        threshold=cfg.threshold,
        surrogate=cfg.surrogate,
        readout=cfg.readout,
        target_rate=cfg.target_rate,
        **{"cached": True, **conv_kwargs},  # cached by default: transductive, one fixed graph
    )


class Evaluation(NamedTuple):
    """Accuracies of the three splits and the validation loss, in eval mode."""

    train_acc: float
    val_acc: float
    test_acc: float
    val_loss: float

    def selection_key(self, select: str) -> tuple[float, ...]:
        """Larger is better: validation accuracy with the loss as tie-break, or the loss."""
        if select == "acc":
            return (self.val_acc, -self.val_loss)
        if select == "loss":
            return (-self.val_loss,)
        raise ValueError(f"unknown select {select!r}; choose 'acc' or 'loss'")


@torch.no_grad()
def evaluate(model: nn.Module, data: Data) -> Evaluation:
    """One eval-mode pass over the whole graph."""
    model.eval()
    out = model(data.x, data.edge_index)
    pred = out.argmax(-1)
    masks = (data.train_mask, data.val_mask, data.test_mask)
    accs = [float((pred[m] == data.y[m]).float().mean()) for m in masks]
    val_loss = float(F.cross_entropy(out[data.val_mask], data.y[data.val_mask]))
    return Evaluation(*accs, val_loss)


def accuracies(model: nn.Module, data: Data) -> tuple[float, float, float]:
    """Train, validation and test accuracy in eval mode."""
    return evaluate(model, data)[:3]


def train_run(
    model: nn.Module, data: Data, cfg: Config, seed: int, progress: bool = True
) -> RunResult:
    """Train from fresh parameters; keep the epoch that ``cfg.select`` prefers on validation,
    and stop ``cfg.patience`` epochs after it if none is better."""
    torch.manual_seed(seed)
    model.reset_parameters()
    opt = torch.optim.Adam(param_groups(model, cfg), lr=cfg.lr)
    best_key, best, best_state = None, None, None
    penalty = RatePenalty(model, cfg.rate_penalty, cfg.penalty_target)
    start = time.perf_counter()
    bar = tqdm(range(1, cfg.epochs + 1), desc=f"seed {seed}", disable=not progress, leave=False)
    for epoch in bar:
        model.train()
        opt.zero_grad()
        out = model(data.x, data.edge_index)
        loss = F.cross_entropy(out[data.train_mask], data.y[data.train_mask])
        (loss + penalty.take()).backward()
        opt.step()
        if cfg.settle:
            settle(model, data.x, data.edge_index, passes=cfg.layers)
        if epoch % cfg.eval_every and epoch != cfg.epochs:
            continue
        ev = evaluate(model, data)
        key = ev.selection_key(cfg.select)
        if best_key is None or key > best_key:
            best_key, best = key, (ev, epoch)
            best_state = {k: v.clone() for k, v in model.state_dict().items()}
        bar.set_postfix(loss=f"{loss.item():.3f}", val=f"{ev.val_acc:.3f}")
        if cfg.patience and epoch - best[1] >= cfg.patience:
            break
    penalty.remove()
    epoch_time = (time.perf_counter() - start) / epoch
    model.load_state_dict(best_state)
    ev, best_epoch = best
    return RunResult(seed, best_epoch, ev.val_acc, ev.test_acc, epoch_time, epochs_run=epoch)


class RatePenalty:
    """The obvious alternative to a rate set in the synapses: a firing-rate term in the loss,
    :math:`\\lambda \\sum_l (r_l - r^*)^2` over the hidden spiking layers' mean rates
    :math:`r_l` of a training call (or :math:`\\lambda \\sum_l r_l`, an L1 penalty on the
    spikes, without a target); its gradient reaches the weights through the surrogate."""

    def __init__(self, model: nn.Module, weight: float, target: float | None) -> None:
        self.weight, self.target, self._rates, self._handles = weight, target, [], []
        if weight == 0.0:
            return
        neurons = [m for m in model.modules() if isinstance(m, LIF)]
        if not neurons:
            raise ValueError("rate_penalty needs a model with spiking (LIF) layers")
        for neuron in neurons:
            self._handles.append(neuron.register_forward_hook(self._record))

    def _record(self, module: nn.Module, args: tuple, spikes: torch.Tensor) -> None:
        if module.training:  # not the eval and settle passes
            self._rates.append(spikes.mean())

    def take(self) -> torch.Tensor | float:
        """The penalty of the training call just made (0 when off); forgets its rates."""
        rates, self._rates = self._rates, []
        if not rates:
            return 0.0
        terms = [r if self.target is None else (r - self.target) ** 2 for r in rates]
        return self.weight * torch.stack(terms).sum()

    def remove(self) -> None:
        for handle in self._handles:
            handle.remove()


def param_groups(model: nn.Module, cfg: Config) -> list[dict[str, Any]]:
    """The optimiser's groups: the first graph layer and the rest, each with its step size
    (``first_layer_lr_scale``: a control that matches an old constant scaling factor on the
    first layer) and weight decay (``weight_decay_layers``)."""
    if cfg.weight_decay_layers not in ("all", "first"):
        raise ValueError(
            f"unknown weight_decay_layers {cfg.weight_decay_layers!r}; choose 'all' or 'first'"
        )
    convs = getattr(model, "convs", None)
    first = list(convs[0].parameters()) if convs is not None else []
    ids = {id(p) for p in first}
    rest = [p for p in model.parameters() if id(p) not in ids]
    rest_decay = cfg.weight_decay if cfg.weight_decay_layers == "all" else 0.0
    lr_first = cfg.lr * cfg.first_layer_lr_scale
    groups = [
        {"params": first, "lr": lr_first, "weight_decay": cfg.weight_decay},
        {"params": rest, "weight_decay": rest_decay},
    ]
    return [g for g in groups if g["params"]]  # a model without ``convs``: one group


def prepare_features(data: Data, features: str) -> Data:
    """The graph with its features as ``Config.features`` asks (a copy when they change)."""
    if features == "raw":
        return data
    if features != "row_normalized":
        raise ValueError(f"unknown features {features!r}; choose 'raw' or 'row_normalized'")
    data = copy.copy(data)
    data.x = data.x / data.x.abs().sum(-1, keepdim=True).clamp_min(1e-12)
    return data


@torch.no_grad()
def scale_statistics(model: nn.Module, data: Data) -> dict[str, Any] | None:
    """The synaptic scale f of every scaled graph layer in one eval pass: mean and spread over
    synapses per step, the spread of the per-synapse time mean (a constant factor shows as a
    mean != 1 with zero spread), and the spread among the edges that leave one node (zero if
    the scale were a per-node gain)."""
    convs = {n: m for n, m in model.named_modules() if isinstance(m, SpikingASConv)}
    convs = {n: m for n, m in convs.items() if m.scaling.enabled}
    if not convs:
        return None
    scales: dict[str, torch.Tensor] = {}

    def hook(name: str):
        return lambda module, args, scale: scales.__setitem__(name, scale)

    model.eval()
    handles = [m.scaling.register_forward_hook(hook(n)) for n, m in convs.items()]
    try:
        model(data.x, data.edge_index)
    finally:
        for h in handles:
            h.remove()
    return {
        name: _scale_summary(scales[name], conv.adjacency(data.edge_index, None, data.num_nodes))
        for name, conv in convs.items()
    }


def _scale_summary(scale: torch.Tensor, adj: Adjacency) -> dict[str, Any]:
    per_synapse = scale.mean(0)  # [E]
    src = adj.edge_index[0]
    count = torch.bincount(src, minlength=adj.num_nodes).clamp_min(1)
    node_mean = torch.zeros(adj.num_nodes).index_add_(0, src, per_synapse) / count
    within = (per_synapse - node_mean[src]).pow(2)
    within_std = (torch.zeros(adj.num_nodes).index_add_(0, src, within) / count).sqrt()
    return {
        "mean_per_step": scale.mean(1).tolist(),
        "std_per_step": scale.std(1).tolist(),
        "mean": float(scale.mean()),
        "std_over_synapses": float(per_synapse.std()),
        "std_over_steps": float(scale.std(0).mean()) if scale.shape[0] > 1 else 0.0,
        "std_within_source": float(within_std[count > 1].mean()),
        "min": float(scale.min()),
        "max": float(scale.max()),
    }


@torch.no_grad()
def measure_firing(model: nn.Module, data: Data) -> dict[str, Any] | None:
    """Firing statistics of one eval forward pass over the whole graph (models with spiking
    neurons only)."""
    if not any(isinstance(m, LIF) for m in model.modules()):
        return None
    model.eval()
    with FiringMonitor(model) as monitor:
        model(data.x, data.edge_index)
    return monitor.summary()


def mean_std(values: list[float]) -> tuple[float, float]:
    """Mean and sample standard deviation (0 for a single value)."""
    std = statistics.stdev(values) if len(values) > 1 else 0.0
    return statistics.fmean(values), std


def run_experiment(
    cfg: Config,
    data: Data,
    num_classes: int,
    progress: bool = True,
    score: Callable[[nn.Module, Data], tuple[float, float]] | None = None,
    model: nn.Module | None = None,
) -> dict:
    """Run ``cfg.runs`` seeds and collect everything the summary and the JSON report.

    ``score(model, data) -> (val, test)``, if given, replaces the plain accuracies of each
    run's best-validation state (e.g. an OGB ``Evaluator``'s metric). ``model``, if given, is
    trained instead of :func:`build_model`'s (e.g. one that wraps it); each seed starts it
    from ``reset_parameters()``."""
    if cfg.threads:
        torch.set_num_threads(cfg.threads)
    start = time.perf_counter()
    data = prepare_features(data, cfg.features)
    if model is None:
        model = build_model(cfg, data.num_features, num_classes)
    runs = []
    for seed in range(cfg.seed, cfg.seed + cfg.runs):
        result = train_run(model, data, cfg, seed, progress)  # loads the best-validation state
        if score is not None:
            result.val_acc, result.test_acc = score(model, data)
        result.firing = measure_firing(model, data)
        result.scale = scale_statistics(model, data)
        runs.append(result)
    return runs_report(cfg, model, runs, start)


def runs_report(cfg: Config, model: nn.Module, runs: list[RunResult], start: float) -> dict:
    """The JSON report of finished runs: config, per-run results, means, firing, machine
    (``start``: the ``time.perf_counter()`` at which the experiment began)."""
    accs = [r.test_acc for r in runs]
    mean, std = mean_std(accs)
    report = {
        "config": asdict(cfg),
        "model": repr(model),
        "runs": [asdict(r) for r in runs],
        "test_acc": accs,
        "test_acc_mean": mean,
        "test_acc_std": std,
        "val_acc_mean": mean_std([r.val_acc for r in runs])[0],
        "epoch_time_s_mean": mean_std([r.epoch_time_s for r in runs])[0],
        "wall_time_s": time.perf_counter() - start,
        "machine": machine_info(),
    }
    if runs[0].firing is not None:
        report.update(firing_means([r.firing for r in runs]))
    if runs[0].scale is not None:
        report["scale_by_layer"] = scale_means([r.scale for r in runs])
    return report


def scale_means(scales: list[dict[str, Any]]) -> dict[str, dict[str, float]]:
    """:func:`scale_statistics` averaged over runs (the per-step lists of the first run)."""
    out = {}
    for name, first in scales[0].items():
        out[name] = {
            k: statistics.fmean(s[name][k] for s in scales)
            for k in first
            if not isinstance(first[k], list)
        }
        out[name].update({k: v for k, v in first.items() if isinstance(v, list)})
    return out


def firing_means(firing: list[dict[str, Any]]) -> dict[str, float]:
    """Firing statistics averaged over runs (from ``measure_firing`` results)."""
    keys = ("firing_rate_mean", "silent_fraction_mean", "sops", "macs", "ann_macs")
    out = {k: statistics.fmean(f[k] for f in firing) for k in keys}
    out["energy_uj"] = statistics.fmean(f["energy_pj"] for f in firing) / 1e6
    out["ann_energy_uj"] = statistics.fmean(f["ann_energy_pj"] for f in firing) / 1e6
    out["firing_by_layer"] = firing[0]["layers"]  # of the first run, for the shape of the profile
    return out


def machine_info() -> dict[str, Any]:
    """Platform, Python, torch and thread count, for the JSON reports."""
    return {
        "platform": platform.platform(),
        "processor": platform.machine(),
        "python": platform.python_version(),
        "torch": torch.__version__,
        "threads": torch.get_num_threads(),
    }


def format_summary(report: dict) -> str:
    """A readable multi-line summary of :func:`run_experiment`'s report."""
    cfg = report["config"]
    lines = [
        f"{cfg['dataset']} | model={cfg['model']}"
        + (f" T={cfg['T']} scaling={cfg['scaling']}" if cfg["model"] == "snn" else "")
        + f" | {len(report['runs'])} run(s) x up to {cfg['epochs']} epochs"
        + (f" (patience {cfg['patience']})" if cfg.get("patience") else ""),
        f"test accuracy (at best validation): {100 * report['test_acc_mean']:.2f} "
        f"± {100 * report['test_acc_std']:.2f} %  "
        f"[{', '.join(f'{100 * a:.1f}' for a in report['test_acc'])}]",
        f"kept epochs ({cfg.get('select', 'acc')} on validation): "
        + ", ".join(str(r["best_epoch"]) for r in report["runs"]),
        f"time per epoch: {1000 * report['epoch_time_s_mean']:.0f} ms; "
        f"wall time: {report['wall_time_s']:.1f} s",
    ]
    if "firing_rate_mean" in report:
        lines.append(
            f"firing rate: {report['firing_rate_mean']:.3f} (mean over spiking layers and runs); "
            f"silent neurons: {100 * report['silent_fraction_mean']:.1f} %"
        )
        lines.append("per layer, first run:")
        for name, layer in report["firing_by_layer"].items():
            steps = " ".join(f"{r:.3f}" for r in layer["firing_rate_per_step"])
            lines.append(f"  {name}: rate {layer['firing_rate']:.3f}; per step {steps}")
        lines.append(
            f"synaptic ops: {report['sops']:.3g} AC + {report['macs']:.3g} MAC "
            f"-> {report['energy_uj']:.2f} µJ; ANN twin {report['ann_macs']:.3g} MAC "
            f"-> {report['ann_energy_uj']:.2f} µJ (45 nm estimate)"
        )
    for name, st in report.get("scale_by_layer", {}).items():
        lines.append(
            f"  {name}: scale f mean {st['mean']:.3f}, spread over synapses "
            f"{st['std_over_synapses']:.3f}, over steps {st['std_over_steps']:.3f}, among "
            f"edges of one source {st['std_within_source']:.3f}"
        )
    return "\n".join(lines)


def parse_args(argv: list[str] | None, dataset: str) -> tuple[Config, argparse.Namespace]:
    """The command line of ``examples/cora.py`` and ``examples/citeseer.py``: :class:`Config`'s
    fields, except the expected firing rate, which defaults to
    :data:`~spikegraph.tasks.cli.DEFAULT_TARGET_RATE` (``--target-rate none``: free firing)."""
    defaults = Config(dataset=dataset)
    p = argparse.ArgumentParser(description=f"Node classification on {dataset} (Planetoid split)")
    p.add_argument(
        "--dataset", default=dataset, choices=["Cora", "CiteSeer", "PubMed"], help="Planetoid"
    )
    p.add_argument("--model", choices=["snn", "gcn"], default=defaults.model)
    p.add_argument(
        "--runs", type=positive_int, default=defaults.runs, help="seeds seed..seed+runs-1"
    )
    p.add_argument("--seed", type=int, default=defaults.seed)
    p.add_argument("--epochs", type=positive_int, default=defaults.epochs)
    add_scaling(p, defaults.scaling)
    add_target_rate(p)
    p.add_argument("--T", type=positive_int, default=defaults.T, help="time steps")
    p.add_argument("--hidden", type=positive_int, default=defaults.hidden)
    p.add_argument("--layers", type=positive_int, default=defaults.layers)
    p.add_argument("--dropout", type=float, default=defaults.dropout)
    p.add_argument("--threshold", type=float, default=defaults.threshold)
    p.add_argument("--decay", type=float, default=defaults.decay)
    p.add_argument(
        "--surrogate", type=str.lower, choices=SURROGATE_CHOICES, default=defaults.surrogate
    )
    p.add_argument("--readout", choices=["membrane", "rate"], default=defaults.readout)
    p.add_argument("--encoder", choices=["repeat", "bernoulli"], default=defaults.encoder)
    p.add_argument("--lr", type=float, default=defaults.lr)
    p.add_argument(
        "--first-layer-lr-scale",
        type=float,
        default=defaults.first_layer_lr_scale,
        help="the first graph layer's learning rate relative to --lr (a control)",
    )
    p.add_argument("--weight-decay", type=float, default=defaults.weight_decay)
    p.add_argument(
        "--weight-decay-layers",
        choices=["all", "first"],
        default=defaults.weight_decay_layers,
        help="decay every layer's parameters, or the first graph layer's only",
    )
    p.add_argument(
        "--features",
        choices=["raw", "row_normalized"],
        default=defaults.features,
        help="node features as given, or scaled to sum to one per node",
    )
    p.add_argument(
        "--dropout-mask",
        choices=["sequence", "step"],
        default=defaults.dropout_mask,
        help="SNN: one dropout mask per sequence, or a fresh one per time step",
    )
    p.add_argument(
        "--select",
        choices=["acc", "loss"],
        default=defaults.select,
        help="keep the epoch of best validation accuracy (ties: lower loss) or lowest loss",
    )
    p.add_argument(
        "--rate-penalty",
        type=float,
        default=defaults.rate_penalty,
        help="SNN: weight of a firing-rate term in the loss (the alternative to --target-rate)",
    )
    p.add_argument(
        "--penalty-target",
        type=float,
        default=defaults.penalty_target,
        help="the rate that term pulls toward, (r - target)^2 per layer (default: L1 on r)",
    )
    p.add_argument(
        "--no-settle",
        dest="settle",
        action="store_false",
        help="SNN: keep the experience and rate gains that the training calls (with dropout) left",
    )
    p.add_argument(
        "--patience",
        type=nonnegative_int,
        default=defaults.patience,
        help="stop after this many epochs without a better kept epoch (0: run all)",
    )
    p.add_argument("--threads", type=positive_int, default=None, help="torch CPU threads")
    p.add_argument("--root", default=None, help="folder with <Name>/raw/ (default: vendored)")
    p.add_argument("--json", type=Path, default=None, help="write the full report here")
    p.add_argument("--no-progress", action="store_true", help="no progress bars")
    args = p.parse_args(argv)
    if not 0.0 <= args.dropout < 1.0:
        p.error(f"--dropout {args.dropout} is not a probability in [0, 1)")
    if args.threshold <= 0.0:
        p.error(f"--threshold {args.threshold} must be positive")
    if not 0.0 <= args.decay <= 1.0:
        p.error(f"--decay {args.decay} is not in [0, 1]")
    if args.lr <= 0.0:
        p.error(f"--lr {args.lr} must be positive")
    if args.rate_penalty < 0.0:
        p.error(f"--rate-penalty {args.rate_penalty} must be >= 0")
    if args.model == "gcn":
        args.target_rate = None  # the ANN has no spikes to steer
    elif args.rate_penalty > 0.0 and args.target_rate is not None:
        p.error(
            "--rate-penalty and --target-rate both steer the firing rate: "
            "add --target-rate none to train with the penalty alone"
        )
    if args.penalty_target is not None and args.rate_penalty == 0.0:
        p.error("--penalty-target sets the rate of --rate-penalty: give --rate-penalty too")
    fields_ = {k: v for k, v in vars(args).items() if k in Config.__dataclass_fields__}
    fields_["scaling"] = scaling_name(args.scaling)
    return Config(**fields_), args


def main(argv: list[str] | None = None, dataset: str = "Cora") -> dict:
    """Command-line entry point shared by ``examples/cora.py`` and ``examples/citeseer.py``."""
    from spikegraph.datasets import load_planetoid

    cfg, args = parse_args(argv, dataset)
    ds = load_planetoid(cfg.dataset, root=args.root)
    report = run_experiment(cfg, ds[0], ds.num_classes, progress=not args.no_progress)
    print(format_summary(report))
    if args.json is not None:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(report, indent=2))
        print(f"report written to {args.json}")
    return report
