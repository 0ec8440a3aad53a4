r"""Firing-rate callback, fixed point, sparse coding and robustness of spiking GNNs on graphs.

The AS-SNN paper claims that adaptive scaling pulls disturbed activity back to an expected level
(a "callback" to the fixed point of a contraction), yields sparse codes, and makes the network
robust to perturbed input. This module measures each claim on a Planetoid graph (Cora by
default), for a model trained with scaling and its twin trained with ``scaling=None``:

1. **Callback** (:func:`callback_experiment`): disturb the input at test time and record, per
   step, the firing rate of every spiking layer and the intensity every synaptic layer
   transmits; report the distance of the final-step values from the undisturbed ones.
2. **Fixed point** (:func:`fixed_point_check`): compare each synapse's measured intensity with
   the fixed point :math:`x^* = \min(1, a f(x^*))` that :func:`~spikegraph.synapse.fixed_point`
   predicts for its drive :math:`a`.
3. **Sparse coding** (:func:`sparse_coding`): test accuracy against mean firing rate over a sweep
   of the threshold (both models) and of the shape's target rate; rates binned by node degree.
4. **Robustness** (:func:`robustness_grid`): test accuracy under the perturbations of
   :mod:`spikegraph.utils.perturb` at several levels, over seeds.

The scaling model uses the ``homeostatic`` shape, the one whose fixed point is closed-form and
which depresses synapses that carry more than their target rate. Its defaults here
(``target=0.02, alpha=50``) put the target near the drive of the first layer on Cora (the
fraction of words a paper contains, about 0.013); with the library default ``alpha=2`` the
scale hardly varies at that drive and there is little callback to see.

:func:`main` is the command line (``examples/firing_callback.py``); it writes one JSON file and
one PNG per part into ``--out``.
"""

from __future__ import annotations

import argparse
import copy
import json
import statistics
import sys
import time
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

import torch
from torch import Tensor, nn
from torch_geometric.data import Data
from torch_geometric.utils import degree
from tqdm.auto import tqdm

from spikegraph.models import SpikingGNN
from spikegraph.monitor import FiringMonitor, ForwardHooks, rates_by_degree
from spikegraph.synapse import (
    Homeostatic,
    ScalingShape,
    SynapticScaling,
    fixed_point,
    lipschitz,
    scaled_trace,
    trace_init,
    trace_step,
)
from spikegraph.tasks.node_classification import (
    Config,
    build_model,
    machine_info,
    mean_std,
    train_run,
)
from spikegraph.utils.perturb import CLEAN_LEVEL, GRAPH_LEVELS, perturb_graph

__all__ = [
    "Settings",
    "CALLBACK_DISTURBANCES",
    "TraceRecorder",
    "synapse_trace",
    "predicted_fixed_points",
    "fixed_point_check",
    "graph_twin",
    "rebase_experience",
    "measure",
    "callback_experiment",
    "sparse_coding",
    "robustness_grid",
    "run",
    "main",
]

VARIANTS = ("scaling", "none")
#: Test-time disturbances of the callback experiment: (perturbation, level).
CALLBACK_DISTURBANCES: tuple[tuple[str, float], ...] = (
    ("intensity", 0.25),
    ("intensity", 0.5),
    ("intensity", 2.0),
    ("intensity", 4.0),
    ("flip", 0.01),
    ("drop_edges", 0.5),
    ("add_edges", 0.5),
)
DEGREE_BINS = (1, 2, 3, 4, 6, 11, 21)
QUICK_LEVELS = {
    "flip": (0.0, 0.01),
    "drop_edges": (0.0, 0.5),
    "add_edges": (0.0, 0.5),
    "intensity": (0.5, 1.0, 2.0),
}


@dataclass
class Settings:
    """What one run of the experiment does; saved verbatim in ``summary.json``."""

    dataset: str = "Cora"
    seeds: int = 5
    epochs: int = 200
    sweep_epochs: int = 100
    hidden: int = 128
    T: int = 8
    threshold: float = 0.5
    target: float = 0.02
    alpha: float = 50.0
    thresholds: tuple[float, ...] = (0.25, 0.5, 1.0, 2.0, 4.0)
    targets: tuple[float, ...] = (0.005, 0.01, 0.02, 0.05, 0.1)
    levels: dict[str, tuple[float, ...]] = field(default_factory=lambda: dict(GRAPH_LEVELS))
    quick: bool = False

    @classmethod
    def quick_run(cls, **overrides: Any) -> Settings:
        """A tiny version for CI: one seed, few epochs, a small model, a few levels."""
        small = dict(seeds=1, epochs=5, sweep_epochs=3, hidden=16, T=4, thresholds=(0.5, 1.0))
        small.update(targets=(0.05,), levels=dict(QUICK_LEVELS), quick=True)
        return cls(**{**small, **overrides})

    def shape(self, target: float | None = None) -> Homeostatic:
        return Homeostatic(target=self.target if target is None else target, alpha=self.alpha)

    def config(self, variant: str, **overrides: Any) -> Config:
        """The node-classification config of one model (``variant``: scaling or none)."""
        target = overrides.pop("target", None)
        scaling = self.shape(target) if variant == "scaling" else None
        base = Config(dataset=self.dataset, hidden=self.hidden, T=self.T, epochs=self.epochs)
        return replace(base, **{"threshold": self.threshold, "scaling": scaling, **overrides})


def train(
    cfg: Config, data: Data, num_classes: int, seed: int, progress: bool
) -> tuple[nn.Module, dict[str, Any]]:
    """Train one model (best validation state kept); return it in eval mode with its result."""
    model = build_model(cfg, data.num_features, num_classes)
    result = train_run(model, data, cfg, seed, progress)
    return model.eval(), asdict(result)


# --- recording synaptic traces -------------------------------------------------------------


def synapse_trace(module: SynapticScaling, drive: Tensor) -> dict[str, Tensor]:
    r"""Recompute, from the drive a layer handed its :class:`SynapticScaling`, what each synapse
    did at each step: the scale :math:`f(x(t-1))`, the transmitted intensity
    :math:`u(t) = \min(1, a(t) f(x(t-1)))` and the trace :math:`x(t)`. Without a shape the scale
    is 1, so the synapse transmits its drive. All ``[T, E]``."""
    drive = drive.detach()
    if module.num_synapses:
        prior = module.experience.to(drive.dtype)
    else:
        prior = drive.new_full(drive.shape[-1:], module.experience_init)
    if module.shape is None:
        scale, state, xs = torch.ones_like(drive), trace_init(prior, module.prior_weight), []
        for a in drive:
            state = trace_step(state, a.clamp(max=1.0), module.decay)
            xs.append(state.intensity)
        intensity = torch.stack(xs)
    else:
        scale, intensity = scaled_trace(
            drive, module.shape, prior, decay=module.decay, prior_weight=module.prior_weight
        )
    transmitted = (drive * scale).clamp(max=1.0)
    return {"drive": drive, "scale": scale, "transmitted": transmitted, "intensity": intensity}


class TraceRecorder(ForwardHooks):
    """Forward hooks that keep :func:`synapse_trace` of every :class:`SynapticScaling` of a
    model, by module name, for the last forward call. Only reads: outputs do not change.
    A layer's scaling module is named ``<layer>.scaling``."""

    def __init__(self, model: nn.Module) -> None:
        super().__init__()
        self.records: dict[str, dict[str, Tensor]] = {}
        self.modules = {n: m for n, m in model.named_modules() if isinstance(m, SynapticScaling)}
        if not self.modules:
            raise ValueError("the model has no SynapticScaling modules to record")
        self._handles += [m.register_forward_hook(self._hook(n)) for n, m in self.modules.items()]

    def _hook(self, name: str):
        def hook(module: SynapticScaling, args: tuple, output: Tensor | None) -> None:
            self.records[name] = synapse_trace(module, args[0])

        return hook


# --- fixed points ---------------------------------------------------------------------------


def predicted_fixed_points(shape: ScalingShape | None, drive: Tensor, decimals: int = 4) -> Tensor:
    """:func:`~spikegraph.synapse.fixed_point` for every entry of ``drive`` (rounded to
    ``decimals`` so that each distinct value is solved once). Without a shape ``x* = min(1, a)``."""
    if shape is None:
        return drive.clamp(max=1.0)
    values, inverse = torch.unique(drive.double().round(decimals=decimals), return_inverse=True)
    solved = torch.tensor([fixed_point(shape, float(v.clamp(0, 1))) for v in values])
    return solved[inverse].to(drive.dtype)


def fixed_point_check(record: dict[str, Tensor], shape: ScalingShape | None) -> dict[str, Any]:
    """Measured intensities against the predicted fixed point of each synapse's mean drive.

    The prediction is exact for a constant drive (the first layer under repeat coding); for a
    spiking drive it is taken at the mean drive over the steps, an approximation.
    """
    drive = record["drive"].mean(0)
    x_star = predicted_fixed_points(shape, drive)
    gap = (record["transmitted"] - x_star).abs().mean(1)
    out = {
        "drive_mean": float(drive.mean()),
        "x_star_mean": float(x_star.mean()),
        "transmitted_final_mean": float(record["transmitted"][-1].mean()),
        "intensity_final_mean": float(record["intensity"][-1].mean()),
        "transmitted_gap_per_step": gap.tolist(),
        "intensity_gap_per_step": (record["intensity"] - x_star).abs().mean(1).tolist(),
        "drive_constant": bool((record["drive"] == record["drive"][0]).all()),
    }
    if shape is not None:
        out["lipschitz_max"] = lipschitz(shape, float(drive.max().clamp(0, 1)), step=0.5)
    return out


# --- evaluation on a perturbed graph ---------------------------------------------------------


def graph_twin(model: SpikingGNN) -> SpikingGNN:
    """A copy of ``model`` that reads the graph on every call (``cached=False``), with the same
    parameters and experience: for evaluation on a graph whose edges were perturbed."""
    twin = copy.deepcopy(model)
    for conv in twin.convs:
        conv.cached = False
    twin.reset_parameters()  # drops the cached adjacency
    twin.load_state_dict(model.state_dict())
    return twin.eval()


@torch.no_grad()
def rebase_experience(model: SpikingGNN, new_edge_index: Tensor, num_nodes: int) -> None:
    """Move every layer's experience to the synapses of a new graph: the synapses both graphs
    share keep theirs, new ones start fresh (:meth:`SpikingASConv.move_experience`)."""
    for conv in model.convs:
        conv.move_experience(new_edge_index, num_nodes)


def prepare(model: SpikingGNN, data: Data, perturbed: Data) -> SpikingGNN:
    """The model itself for the training graph, else a rebased :func:`graph_twin`."""
    same = perturbed.edge_index is data.edge_index or torch.equal(
        perturbed.edge_index, data.edge_index
    )
    if same:
        return model.eval()
    twin = graph_twin(model)
    rebase_experience(twin, perturbed.edge_index, data.num_nodes)
    return twin


@torch.no_grad()
def accuracy(model: SpikingGNN, data: Data, perturbed: Data) -> float:
    """Test accuracy on a perturbed copy of the graph (labels and masks of ``data``)."""
    net = prepare(model, data, perturbed)
    pred = net(perturbed.x, perturbed.edge_index).argmax(-1)
    return float((pred[data.test_mask] == data.y[data.test_mask]).float().mean())


@torch.no_grad()
def measure(model: SpikingGNN, data: Data, perturbed: Data) -> dict[str, Any]:
    """One eval pass with everything recorded: accuracy, firing rates (per layer, step and
    node) and synaptic traces (:class:`TraceRecorder`)."""
    net = prepare(model, data, perturbed)
    with FiringMonitor(net, per_node=True) as monitor, TraceRecorder(net) as recorder:
        pred = net(perturbed.x, perturbed.edge_index).argmax(-1)
    summary = monitor.summary()
    return {
        "test_acc": float((pred[data.test_mask] == data.y[data.test_mask]).float().mean()),
        "firing_rate_mean": summary["firing_rate_mean"],
        "rate_per_step": {k: v["firing_rate_per_step"] for k, v in summary["layers"].items()},
        "node_rates": monitor.node_rates(),
        "traces": recorder.records,
        "shapes": {k: m.shape for k, m in recorder.modules.items()},
        "sops": summary["sops"],
    }


# --- 1 + 2: callback and fixed point ----------------------------------------------------------


def _perturbation_seed(seed: int, name: str, index: int) -> int:
    """One fixed seed per (model seed, perturbation, level): both variants see the same draw."""
    return 100_003 * seed + 1_000 * sorted(GRAPH_LEVELS).index(name) + index


def _layer_deltas(clean: dict[str, list[float]], dist: dict[str, list[float]]) -> dict:
    """Per layer: the disturbed per-step curve and its distance from the clean one."""
    return {
        name: {
            "per_step": dist[name],
            "clean_per_step": clean[name],
            "distance_first": abs(dist[name][0] - clean[name][0]),
            "distance_final": abs(dist[name][-1] - clean[name][-1]),
        }
        for name in clean
    }


def _transmitted_per_step(m: dict[str, Any]) -> dict[str, list[float]]:
    return {k: r["transmitted"].mean(1).tolist() for k, r in m["traces"].items()}


def callback_row(clean: dict[str, Any], dist: dict[str, Any]) -> dict[str, Any]:
    """Firing rates and transmitted intensities of one disturbance against the clean run."""
    return {
        "test_acc": dist["test_acc"],
        "firing": _layer_deltas(clean["rate_per_step"], dist["rate_per_step"]),
        "transmitted": _layer_deltas(_transmitted_per_step(clean), _transmitted_per_step(dist)),
        "fixed_point": {
            k: fixed_point_check(r, dist["shapes"][k]) for k, r in dist["traces"].items()
        },
    }


def callback_experiment(
    models: dict[str, SpikingGNN],
    data: Data,
    seed: int,
    disturbances: tuple[tuple[str, float], ...] = CALLBACK_DISTURBANCES,
    progress: bool = True,
) -> tuple[dict[str, Any], dict[str, Any]]:
    """Run every disturbance on every model variant.

    Returns:
        ``(report, raw)``: the JSON-ready report (per variant, the clean run and one row per
        disturbance) and the raw measurements that the plots use.
    """
    report: dict[str, Any] = {"disturbances": [list(d) for d in disturbances], "variants": {}}
    raw: dict[str, Any] = {}
    jobs = [(v, d) for v in models for d in (None, *disturbances)]
    for variant, dist in tqdm(jobs, desc="callback", disable=not progress, leave=False):
        if dist is None:
            raw[variant] = {"clean": measure(models[variant], data, data)}
            clean_row = callback_row(raw[variant]["clean"], raw[variant]["clean"])
            report["variants"][variant] = {"clean": clean_row, "disturbed": []}
            continue
        name, level = dist
        index = GRAPH_LEVELS[name].index(level) if level in GRAPH_LEVELS[name] else 0
        perturbed = perturb_graph(name, data, level, _perturbation_seed(seed, name, index))
        m = measure(models[variant], data, perturbed)
        raw[variant][f"{name}={level:g}"] = m
        row = {"perturbation": name, "level": level, **callback_row(raw[variant]["clean"], m)}
        report["variants"][variant]["disturbed"].append(row)
    return report, raw


def callback_table(report: dict[str, Any], layer: str) -> list[dict[str, Any]]:
    """Per disturbance: final-step distance of the firing rate from the clean one, by variant."""
    rows = []
    for i, (name, level) in enumerate(report["disturbances"]):
        row: dict[str, Any] = {"perturbation": name, "level": level}
        for variant, res in report["variants"].items():
            firing = res["disturbed"][i]["firing"][layer]
            row[f"{variant}_distance_first"] = firing["distance_first"]
            row[f"{variant}_distance_final"] = firing["distance_final"]
        if {"scaling", "none"} <= set(report["variants"]):
            row["scaling_closer"] = row["scaling_distance_final"] < row["none_distance_final"]
        rows.append(row)
    return rows


def fixed_point_report(callback: dict[str, Any]) -> dict[str, Any]:
    """The fixed-point comparison of every condition of the callback experiment, by variant."""
    out: dict[str, Any] = {}
    for variant, res in callback["variants"].items():
        rows = [{"perturbation": "clean", "level": None, **res["clean"]["fixed_point"]}]
        rows += [
            {"perturbation": r["perturbation"], "level": r["level"], **r["fixed_point"]}
            for r in res["disturbed"]
        ]
        out[variant] = rows
    return out


# --- 3: sparse coding and degree ------------------------------------------------------------


def degree_profile(m: dict[str, Any], data: Data, bins: tuple[int, ...] = DEGREE_BINS) -> dict:
    """Node firing rates of every spiking layer binned by in-degree (edges of ``data``)."""
    deg = degree(data.edge_index[1], data.num_nodes)
    return {name: rates_by_degree(r, deg, bins) for name, r in m["node_rates"].items()}


def _sweep_jobs(s: Settings) -> list[tuple[str, str, float, float | None]]:
    """(sweep, variant, threshold, target) of every model the sparse-coding sweep trains."""
    jobs = [("threshold", "none", thr, None) for thr in s.thresholds]
    jobs += [("threshold", "scaling", thr, s.target) for thr in s.thresholds]
    return jobs + [("target", "scaling", s.threshold, tg) for tg in s.targets]


def sparse_coding(
    data: Data, num_classes: int, s: Settings, progress: bool = True
) -> list[dict[str, Any]]:
    """Train one model per threshold (both variants) and per target rate (scaling) for
    ``s.sweep_epochs`` epochs, seed 0; record test accuracy and firing on the clean graph."""
    done: dict[tuple, dict[str, Any]] = {}
    rows = []
    for sweep, variant, thr, target in tqdm(_sweep_jobs(s), desc="sweep", disable=not progress):
        key = (variant, thr, target)
        if key not in done:
            cfg = s.config(variant, threshold=thr, target=target, epochs=s.sweep_epochs)
            m = measure(train(cfg, data, num_classes, 0, False)[0], data, data)
            done[key] = {k: m[k] for k in ("test_acc", "firing_rate_mean", "sops")}
        rows.append({"sweep": sweep, "variant": variant, "threshold": thr, "target": target})
        rows[-1].update(done[key])
    return rows


# --- 4: robustness --------------------------------------------------------------------------


def robustness_grid(
    models: dict[str, SpikingGNN],
    data: Data,
    levels: dict[str, tuple[float, ...]],
    seed: int,
    progress: bool = True,
) -> dict[str, dict[str, list[float]]]:
    """Test accuracy of every variant at every level of every perturbation (one draw each,
    shared by the variants). ``{perturbation: {variant: [acc per level]}}``."""
    out = {name: {v: [] for v in models} for name in levels}
    jobs = [(name, i, lv) for name, lvls in levels.items() for i, lv in enumerate(lvls)]
    for name, i, level in tqdm(jobs, desc=f"robustness seed {seed}", disable=not progress):
        idx = GRAPH_LEVELS[name].index(level) if level in GRAPH_LEVELS[name] else i
        perturbed = perturb_graph(name, data, level, _perturbation_seed(seed, name, idx))
        for variant, model in models.items():
            out[name][variant].append(accuracy(model, data, perturbed))
    return out


def _add_gains(res: dict[str, Any], levels: tuple[float, ...], clean: float) -> None:
    """Mean gains over the disturbed levels: of accuracy, and of accuracy kept relative to the
    clean level (the gain minus the clean gain: what scaling adds beyond a better clean model)."""
    clean_gain = res["gain"][levels.index(clean)] if clean in levels else float("nan")
    pairs = [(g, g - clean_gain) for g, lv in zip(res["gain"], levels, strict=True) if lv != clean]
    res["clean_gain"] = clean_gain
    res["disturbed_gains"] = pairs
    res["gain_mean_disturbed"] = statistics.fmean(p[0] for p in pairs) if pairs else float("nan")
    res["retention_gain_mean_disturbed"] = (
        statistics.fmean(p[1] for p in pairs) if pairs else float("nan")
    )
    res["scaling_helps"] = res["gain_mean_disturbed"] > 0
    res["scaling_helps_beyond_clean"] = res["retention_gain_mean_disturbed"] > 0


def summarize_robustness(
    per_seed: list[dict[str, dict[str, list[float]]]], levels: dict[str, tuple[float, ...]]
) -> dict[str, Any]:
    """Mean and std over seeds per level, the gain of scaling over none per level, and its mean
    over all disturbed (non-clean) levels: overall and per perturbation."""
    out: dict[str, Any] = {"levels": {k: list(v) for k, v in levels.items()}, "perturbations": {}}
    gains = []
    for name, lvls in levels.items():
        res: dict[str, Any] = {}
        for variant in per_seed[0][name]:
            accs = [[run[name][variant][i] for run in per_seed] for i in range(len(lvls))]
            res[variant] = {"acc": accs, "mean": [], "std": []}
            for mean, std in map(mean_std, accs):
                res[variant]["mean"].append(mean)
                res[variant]["std"].append(std)
        res["gain"] = [
            a - b for a, b in zip(res["scaling"]["mean"], res["none"]["mean"], strict=True)
        ]
        _add_gains(res, lvls, CLEAN_LEVEL[name])
        out["perturbations"][name] = res
        gains.append(res["disturbed_gains"])
    for key, i in (("gain_mean_disturbed", 0), ("retention_gain_mean_disturbed", 1)):
        values = [g[i] for per_name in gains for g in per_name]
        out[key] = statistics.fmean(values) if values else float("nan")
    out["seeds"] = len(per_seed)
    return out


# --- the whole experiment -------------------------------------------------------------------


def _mean_degree_profiles(profiles: list[dict[str, Any]]) -> dict[str, Any]:
    """Average the per-seed degree profiles bin by bin (``{variant: {layer: profile}}``)."""
    out: dict[str, Any] = {}
    for variant, layers in profiles[0].items():
        out[variant] = {}
        for layer, prof in layers.items():
            rates = [
                [p[variant][layer]["rate_mean"][k] for p in profiles]
                for k in range(len(prof["lower"]))
            ]
            out[variant][layer] = {**prof, "rate_mean": [statistics.fmean(r) for r in rates]}
    return out


def run(s: Settings, data: Data, num_classes: int, progress: bool = True) -> dict[str, Any]:
    """Train both variants per seed, run all four parts; return the reports and raw data."""
    start = time.perf_counter()
    per_seed, profiles, trained = [], [], []
    for seed in tqdm(range(s.seeds), desc="seeds", disable=not progress):
        pairs = {v: train(s.config(v), data, num_classes, seed, progress) for v in VARIANTS}
        models = {v: model for v, (model, _) in pairs.items()}
        trained.append({v: result for v, (_, result) in pairs.items()})
        per_seed.append(robustness_grid(models, data, s.levels, seed, progress))
        profiles.append(
            {v: degree_profile(measure(m, data, data), data) for v, m in models.items()}
        )
        if seed == 0:
            callback, raw = callback_experiment(models, data, seed, progress=progress)
    sparse = sparse_coding(data, num_classes, s, progress)
    layer = next(iter(callback["variants"]["scaling"]["clean"]["firing"]))
    return {
        "callback": {**callback, "layer": layer, "table": callback_table(callback, layer)},
        "fixed_point": {"shape": repr(s.shape()), "rows": fixed_point_report(callback)},
        "sparse_coding": {"rows": sparse, "by_degree": _mean_degree_profiles(profiles)},
        "robustness": summarize_robustness(per_seed, s.levels),
        "trained": trained,
        "raw": raw,
        "wall_time_s": time.perf_counter() - start,
    }


# --- figures --------------------------------------------------------------------------------

COLORS = {"scaling": "tab:blue", "none": "tab:orange"}
LABELS = {"scaling": "homeostatic scaling", "none": "no scaling"}


def _figure(ncols: int, figsize: tuple[float, float], **kwargs: Any):
    """A matplotlib figure with ``ncols`` axes (no pyplot: the global backend is untouched)."""
    try:
        from matplotlib.figure import Figure
    except ImportError as err:  # pragma: no cover - depends on the environment
        raise ImportError("the figures need matplotlib: pip install spikegraph[plot]") from err
    fig = Figure(figsize=figsize)
    return fig, fig.subplots(1, ncols, **kwargs)


def _save(fig, path: Path) -> None:
    fig.tight_layout()
    fig.savefig(path, dpi=120)


def _intensity_keys(raw_variant: dict[str, Any]) -> list[tuple[float, str]]:
    keys = [(float(k.split("=")[1]), k) for k in raw_variant if k.startswith("intensity=")]
    return sorted([(1.0, "clean"), *keys])


def plot_callback(results: dict[str, Any], path: Path) -> None:
    """Per-step firing rate under intensity scaling (scaling | none) and the final-step
    distance from the clean rate for every disturbance."""
    from matplotlib import colormaps

    raw, layer = results["raw"], results["callback"]["layer"]
    fig, axes = _figure(3, (15, 4.2), gridspec_kw={"width_ratios": [1, 1, 1.4]})
    cmap = colormaps["coolwarm"]
    for ax, variant in zip(axes[:2], VARIANTS, strict=True):
        keys = _intensity_keys(raw[variant])
        for i, (factor, key) in enumerate(keys):
            rates = raw[variant][key]["rate_per_step"][layer]
            color = "black" if key == "clean" else cmap(i / max(1, len(keys) - 1))
            steps = range(1, len(rates) + 1)
            ax.plot(steps, rates, marker="o", color=color, label=f"input x{factor:g}")
        ax.set(title=f"{LABELS[variant]}: {layer}", xlabel="time step t", ylabel="firing rate")
        ax.legend(fontsize=8)
    axes[1].sharey(axes[0])
    _distance_bars(axes[2], results["callback"]["table"])
    _save(fig, path)


def _distance_bars(ax, table: list[dict[str, Any]]) -> None:
    names = [f"{r['perturbation']}\n{r['level']:g}" for r in table]
    pos = torch.arange(len(table)).double()
    for shift, variant in ((-0.2, "scaling"), (0.2, "none")):
        values = [r[f"{variant}_distance_final"] for r in table]
        ax.bar(pos + shift, values, width=0.4, color=COLORS[variant], label=LABELS[variant])
    ax.set_xticks(pos.tolist(), names, fontsize=8)
    ax.set(ylabel="|rate(T) - clean rate(T)|", title="final-step distance from the clean rate")
    ax.legend()


def plot_fixed_point(results: dict[str, Any], path: Path) -> None:
    """Scaling model, first layer: distance of the transmitted intensity from x* per step;
    measured final intensity against x* per synapse; final intensity ratio vs input factor."""
    raw = results["raw"]
    name = next(iter(raw["scaling"]["clean"]["traces"]))
    fig, axes = _figure(3, (15, 4.2))
    for key, m in raw["scaling"].items():
        rec, shape = m["traces"][name], m["shapes"][name]
        gap = fixed_point_check(rec, shape)["transmitted_gap_per_step"]
        axes[0].plot(range(1, len(gap) + 1), gap, marker="o", label=key)
    note = "time step t\n(edge perturbations leave first-layer drives as clean: curves coincide)"
    axes[0].set(xlabel=note, ylabel="mean |u(t) - x*|", yscale="log")
    axes[0].set_title(f"scaling: {name}, distance from the fixed point")
    axes[0].legend(fontsize=7)
    _fixed_point_scatter(axes[1], raw["scaling"], name)
    _intensity_ratio(axes[2], raw, name)
    _save(fig, path)


def _fixed_point_scatter(ax, raw_variant: dict[str, Any], name: str) -> None:
    for factor, key in _intensity_keys(raw_variant):
        rec, shape = raw_variant[key]["traces"][name], raw_variant[key]["shapes"][name]
        x_star = predicted_fixed_points(shape, rec["drive"].mean(0))
        ax.scatter(x_star, rec["transmitted"][-1], s=4, alpha=0.5, label=f"input x{factor:g}")
    hi = float(ax.get_xlim()[1])
    ax.plot([0, hi], [0, hi], color="black", lw=1, label="u(T) = x*")
    ax.set(xlabel="predicted fixed point x*", ylabel="measured u(T)", title="per synapse")
    ax.legend(fontsize=7, markerscale=3)


def _intensity_ratio(ax, raw: dict[str, Any], name: str) -> None:
    for variant in VARIANTS:
        keys = _intensity_keys(raw[variant])
        clean = raw[variant]["clean"]["traces"][name]["transmitted"][-1].mean()
        ratios = [
            float(raw[variant][k]["traces"][name]["transmitted"][-1].mean() / clean)
            for _, k in keys
        ]
        factors = [f for f, _ in keys]
        ax.plot(factors, ratios, marker="o", color=COLORS[variant], label=LABELS[variant])
    ax.plot(factors, factors, ls="--", color="gray", label="follows the input")
    ax.set(xscale="log", yscale="log", xlabel="input intensity factor")
    ax.set_xticks(factors, [f"{f:g}" for f in factors])
    ax.set_yticks(factors, [f"{f:g}" for f in factors])
    ax.minorticks_off()
    ax.set(ylabel="u(T) / clean u(T)", title=f"{name}: transmitted intensity")
    ax.legend(fontsize=8)


def plot_sparse_coding(results: dict[str, Any], path: Path) -> None:
    """Accuracy against mean firing rate over the sweeps; firing rate by node degree."""
    rows = results["sparse_coding"]["rows"]
    fig, axes = _figure(2, (12, 4.5))
    for sweep, variant, style in _SWEEP_CURVES:
        pts = sorted(
            (r[sweep], r["firing_rate_mean"], r["test_acc"])
            for r in rows
            if r["sweep"] == sweep and r["variant"] == variant
        )  # joined in the order of the swept value
        if not pts:
            continue
        _, rates, accs = zip(*pts, strict=True)
        label = f"{LABELS[variant]}, {_SWEEP_NAMES[sweep]} sweep"
        axes[0].plot(rates, accs, style, color=COLORS[variant], label=label)
        offset = (3, -10) if sweep == "target" else (3, 3)
        for value, rate, acc in pts:
            text = f"{_SWEEP_SHORT[sweep]}={value:g}"
            axes[0].annotate(
                text, (rate, acc), fontsize=7, textcoords="offset points", xytext=offset
            )
    axes[0].set(xlabel="mean firing rate (hidden layer)", ylabel="test accuracy (seed 0)")
    axes[0].set_title("sparse coding: accuracy vs firing rate")
    axes[0].legend(fontsize=8)
    _degree_bars(axes[1], results["sparse_coding"]["by_degree"])
    _save(fig, path)


_SWEEP_CURVES = (
    ("threshold", "scaling", "o-"),
    ("threshold", "none", "s-"),
    ("target", "scaling", "^--"),
)
_SWEEP_NAMES = {"threshold": "threshold", "target": "target rate"}
_SWEEP_SHORT = {"threshold": "thr", "target": "target"}


def _degree_bars(ax, by_degree: dict[str, Any]) -> None:
    for shift, variant in ((-0.2, "scaling"), (0.2, "none")):
        layer, prof = next(iter(by_degree[variant].items()))
        pos = torch.arange(len(prof["lower"])).double() + shift
        ax.bar(pos, prof["rate_mean"], width=0.4, color=COLORS[variant], label=LABELS[variant])
    names = [
        f"{lo}" if hi == lo + 1 else (f"{lo}+" if hi == float("inf") else f"{lo}-{hi - 1}")
        for lo, hi in zip(prof["lower"], prof["upper"], strict=True)
    ]
    ax.set_xticks(range(len(names)), names)
    counts = ", ".join(str(c) for c in prof["count"])
    ax.set(xlabel=f"node in-degree (nodes per bin: {counts})", ylabel="mean firing rate")
    ax.set_title(f"{layer}: firing rate by degree (mean over seeds)")
    ax.legend()


def plot_robustness(results: dict[str, Any], path: Path) -> None:
    """Test accuracy against perturbation level, mean and std over seeds, per perturbation."""
    rob = results["robustness"]
    names = list(rob["perturbations"])
    fig, axes = _figure(len(names), (4.2 * len(names), 4), sharey=True)
    for ax, name in zip(axes, names, strict=True):
        res, levels = rob["perturbations"][name], rob["levels"][name]
        for variant in VARIANTS:
            mean, std = torch.tensor(res[variant]["mean"]), torch.tensor(res[variant]["std"])
            ax.plot(levels, mean, marker="o", color=COLORS[variant], label=LABELS[variant])
            ax.fill_between(levels, mean - std, mean + std, color=COLORS[variant], alpha=0.2)
        gain, kept = res["gain_mean_disturbed"], res["retention_gain_mean_disturbed"]
        title = f"{name}: gain {100 * gain:+.1f} pts ({100 * kept:+.1f} beyond clean)"
        ax.set(xlabel=_LEVEL_LABELS[name], title=title)
        ax.set_xscale("log" if name == "intensity" else "symlog", **_XSCALE.get(name, {}))
    axes[0].set_ylabel(f"test accuracy (mean ± std, {rob['seeds']} seeds)")
    axes[0].legend()
    _save(fig, path)


_LEVEL_LABELS = {
    "flip": "fraction of feature bits flipped",
    "drop_edges": "fraction of edges deleted",
    "add_edges": "random edges added (fraction of E)",
    "intensity": "input intensity factor",
}
_XSCALE = {
    "flip": {"linthresh": 1e-3},
    "drop_edges": {"linthresh": 0.1},
    "add_edges": {"linthresh": 0.1},
    "intensity": {"base": 2},
}


# --- command line ---------------------------------------------------------------------------


def write_results(results: dict[str, Any], s: Settings, out: Path, extra: dict[str, Any]) -> dict:
    """One JSON per part and one PNG per figure in ``out``; returns the summary."""
    out.mkdir(parents=True, exist_ok=True)
    for part in ("callback", "fixed_point", "sparse_coding", "robustness"):
        (out / f"{part}.json").write_text(json.dumps(results[part], indent=1, default=float))
    plot_callback(results, out / "callback.png")
    plot_fixed_point(results, out / "fixed_point.png")
    plot_sparse_coding(results, out / "sparse_coding.png")
    plot_robustness(results, out / "robustness.png")
    summary = {"settings": asdict(s), "shape": repr(s.shape()), **extra, **headline(results)}
    summary.update(
        trained=results["trained"], wall_time_s=results["wall_time_s"], machine=machine_info()
    )
    (out / "summary.json").write_text(json.dumps(summary, indent=1))
    return summary


def headline(results: dict[str, Any]) -> dict[str, Any]:
    """The key numbers: clean accuracy, robustness gain, callback distances."""
    rob = results["robustness"]
    first = {
        v: statistics.fmean(run[v]["test_acc"] for run in results["trained"]) for v in VARIANTS
    }
    return {
        "clean_test_acc_mean": first,
        "robustness_gain_mean_disturbed": rob["gain_mean_disturbed"],
        "robustness_gain_by_perturbation": {
            k: r["gain_mean_disturbed"] for k, r in rob["perturbations"].items()
        },
        "callback_table": results["callback"]["table"],
    }


def format_summary(summary: dict[str, Any]) -> str:
    """A readable summary of :func:`write_results`'s output."""
    acc = summary["clean_test_acc_mean"]
    lines = [
        f"clean test accuracy: scaling {100 * acc['scaling']:.1f} %, none {100 * acc['none']:.1f} %",
        f"robustness: mean gain of scaling over all disturbed levels "
        f"{100 * summary['robustness_gain_mean_disturbed']:+.2f} points",
    ]
    for name, gain in summary["robustness_gain_by_perturbation"].items():
        lines.append(f"  {name}: {100 * gain:+.2f} points")
    lines.append("callback: |final-step rate - clean final-step rate|, scaling vs none")
    for r in summary["callback_table"]:
        lines.append(
            f"  {r['perturbation']}={r['level']:g}: {r['scaling_distance_final']:.3f} vs "
            f"{r['none_distance_final']:.3f}"
        )
    lines.append(f"wall time {summary['wall_time_s']:.0f} s")
    return "\n".join(lines)


def parse_args(argv: list[str] | None) -> tuple[Settings, argparse.Namespace]:
    p = argparse.ArgumentParser(description="Firing-rate callback, sparse coding, robustness")
    p.add_argument("--quick", action="store_true", help="tiny version for CI (< 1 min)")
    p.add_argument("--seeds", type=int, default=None, help="seeds 0..seeds-1 (default 5)")
    p.add_argument("--epochs", type=int, default=None, help="training epochs (default 200)")
    p.add_argument("--sweep-epochs", type=int, default=None, help="epochs per sweep model (100)")
    p.add_argument("--target", type=float, default=None, help="homeostatic target rate (0.02)")
    p.add_argument("--alpha", type=float, default=None, help="homeostatic gain (50)")
    p.add_argument("--dataset", default="Cora")
    p.add_argument("--root", default=None, help="folder with <Name>/raw/ (default: vendored)")
    p.add_argument("--out", type=Path, default=Path("results/firing_callback"))
    p.add_argument("--threads", type=int, default=None, help="torch CPU threads")
    p.add_argument("--no-progress", action="store_true", help="no progress bars")
    args = p.parse_args(argv)
    given = {k: getattr(args, k) for k in ("seeds", "epochs", "sweep_epochs", "target", "alpha")}
    given = {k: v for k, v in given.items() if v is not None}
    given["dataset"] = args.dataset
    return (Settings.quick_run(**given) if args.quick else Settings(**given)), args


def main(argv: list[str] | None = None) -> dict[str, Any]:
    """Command-line entry point of ``examples/firing_callback.py``."""
    from spikegraph.datasets import load_planetoid

    s, args = parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    ds = load_planetoid(s.dataset, root=args.root)
    results = run(s, ds[0], ds.num_classes, progress=not args.no_progress)
    words = sys.argv[1:] if argv is None else argv
    command = "python examples/firing_callback.py " + " ".join(words)
    summary = write_results(results, s, args.out, {"command": command.strip()})
    print(format_summary(summary))
    print(f"results written to {args.out}/")
    return summary
