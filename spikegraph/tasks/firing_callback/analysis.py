r"""The four measurements of the firing-rate study and the run that strings them together.

Everything here computes; :mod:`~spikegraph.tasks.firing_callback.figures` draws and
:mod:`~spikegraph.tasks.firing_callback.cli` writes files. See the package docstring for what
each part measures.
"""

from __future__ import annotations

import copy
import statistics
import time
from dataclasses import asdict, dataclass, field, replace
from typing import Any

import torch
from torch import Tensor, nn
from torch_geometric.data import Data
from torch_geometric.utils import degree
from tqdm.auto import tqdm

from spikegraph.models import SpikingGNN
from spikegraph.monitor import FiringMonitor, ForwardHooks, rates_by_degree
from spikegraph.synapse import (
    SILENT,
    ScalingShape,
    SynapticScaling,
    get_scaling,
    lipschitz,
    trace_init,
    trace_step,
)
from spikegraph.tasks.node_classification import Config, build_model, mean_std, train_run
from spikegraph.utils.perturb import CLEAN_LEVEL, GRAPH_LEVELS, perturb_graph

__all__ = [
    "Settings",
    "CALLBACK_DISTURBANCES",
    "TraceRecorder",
    "experience_prior",
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
#: Hyper-parameters a shape may be given on the command line (``--target``, ``--alpha``).
SHAPE_PARAMS = ("target", "alpha")


@dataclass
class Settings:
    """What one run of the experiment does; saved verbatim in ``summary.json``.

    The scaling model uses ``scaling`` (default ``"relative"``, the default of
    :class:`~spikegraph.nn.SpikingASConv`) with its default hyper-parameters, the same shape on
    every dataset; ``target`` and ``alpha``, when given, are passed to the shape (e.g.
    ``scaling="homeostatic", target=0.02, alpha=50``, the shape this study once tuned for Cora).
    ``epochs``, ``hidden``, ``T`` and ``threshold`` default to those of
    :class:`~spikegraph.tasks.node_classification.Config`, and every setting not listed here is
    its default. ``target_rates`` are the expected firing rates of the sparse-coding sweep.
    """

    dataset: str = "Cora"
    seeds: int = 5
    epochs: int = Config.epochs
    sweep_epochs: int = 100
    hidden: int = Config.hidden
    T: int = Config.T
    threshold: float = Config.threshold
    scaling: str = "relative"
    target: float | None = None
    alpha: float | None = None
    thresholds: tuple[float, ...] = (0.25, 0.5, 1.0, 2.0, 4.0)
    target_rates: tuple[float, ...] = (0.05, 0.1, 0.2)
    levels: dict[str, tuple[float, ...]] = field(default_factory=lambda: dict(GRAPH_LEVELS))
    quick: bool = False

    def __post_init__(self) -> None:
        try:
            shape = self.shape()
        except TypeError as err:
            given = ", ".join(f"{k}={v:g}" for k, v in self.shape_params.items())
            raise ValueError(f"the {self.scaling!r} shape takes no {given}: {err}") from None
        if shape is None:
            raise ValueError("the scaling model needs a shape (the study trains the twin without)")

    @classmethod
    def quick_run(cls, **overrides: Any) -> Settings:
        """A tiny version for CI: one seed, few epochs, a small model, a few levels."""
        small = dict(seeds=1, epochs=5, sweep_epochs=3, hidden=16, T=4, thresholds=(0.5, 1.0))
        small.update(target_rates=(0.1,), levels=dict(QUICK_LEVELS), quick=True)
        return cls(**{**small, **overrides})

    @property
    def shape_params(self) -> dict[str, float]:
        """The shape hyper-parameters given, empty for the shape's defaults."""
        return {k: getattr(self, k) for k in SHAPE_PARAMS if getattr(self, k) is not None}

    def shape(self) -> ScalingShape:
        """The scaling shape of the scaling model."""
        return get_scaling(self.scaling, **self.shape_params)

    def config(self, variant: str, **overrides: Any) -> Config:
        """The node-classification config of one model (``variant``: scaling or none);
        ``overrides`` are :class:`~spikegraph.tasks.node_classification.Config` fields."""
        named = self.scaling if not self.shape_params else self.shape()
        scaling = named if variant == "scaling" else None
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


def experience_prior(
    module: SynapticScaling, drive: Tensor, index: Tensor | None = None, shared: bool = False
) -> Tensor:
    """The experience ``[K]`` a call of ``module`` with this drive starts its traces from (the
    reference of a relative shape): the buffer's entries (``index``: those of a mini-batch's
    synapses; ``shared``: the one layer-level entry for all), or a fresh value for a buffer not
    sized yet. A relative shape's entries never seen take the call's mean drive (over all
    synapses when shared), as the module does. Read it *before* the call: a training call
    updates the experience."""
    size = drive.shape[-1]
    if module.num_synapses is None:
        fresh = float("nan") if module.relative else module.experience_init
        prior = drive.new_full((size,), fresh)
    elif shared:
        prior = module.experience.expand(size)
    else:
        prior = module.experience if index is None else module.experience[index]
    prior = prior.detach().to(drive.dtype)
    if module.relative:
        flat = drive.detach().reshape(-1, size)
        prior = torch.where(prior.isnan(), flat.mean() if shared else flat.mean(0), prior)
    return prior


def synapse_trace(
    module: SynapticScaling, drive: Tensor, scale: Tensor | None, prior: Tensor
) -> dict[str, Tensor]:
    r"""What each synapse did at each step of one call of ``module``, from the drive it was
    handed, the scale it returned (``None`` without a shape: scale 1) and the experience it
    started from (:func:`experience_prior`): the transmitted intensity
    :math:`u(t) = \min(1, a(t) f(t))` and the trace :math:`x(t)` of it. ``drive``, ``scale``,
    ``transmitted``, ``intensity``: ``[T, K]``; ``experience``: ``[K]``."""
    drive = drive.detach()
    scale = torch.ones_like(drive) if scale is None else scale.detach()
    transmitted = (drive * scale).clamp(max=1.0)
    state, xs = trace_init(prior.expand_as(drive[0]), module.prior_weight), []
    for u in transmitted:
        state = trace_step(state, u, module.decay)
        xs.append(state.intensity)
    return {
        "drive": drive,
        "scale": scale,
        "transmitted": transmitted,
        "intensity": torch.stack(xs),
        "experience": prior,
    }


class TraceRecorder(ForwardHooks):
    """Forward hooks that keep :func:`synapse_trace` of every :class:`SynapticScaling` of a
    model, by module name, for the last forward call. Only reads: outputs do not change.
    A layer's scaling module is named ``<layer>.scaling``."""

    def __init__(self, model: nn.Module) -> None:
        super().__init__()
        self.records: dict[str, dict[str, Tensor]] = {}
        self._priors: dict[str, Tensor] = {}
        self.modules = {n: m for n, m in model.named_modules() if isinstance(m, SynapticScaling)}
        if not self.modules:
            raise ValueError("the model has no SynapticScaling modules to record")
        for name, module in self.modules.items():
            self._handles.append(
                module.register_forward_pre_hook(self._pre(name), with_kwargs=True)
            )
            self._handles.append(module.register_forward_hook(self._hook(name), with_kwargs=True))

    def _pre(self, name: str):
        def pre(module: SynapticScaling, args: tuple, kwargs: dict) -> None:
            index = kwargs.get("index", args[1] if len(args) > 1 else None)
            shared = kwargs.get("shared", False)
            self._priors[name] = experience_prior(module, args[0], index, shared)

        return pre

    def _hook(self, name: str):
        def hook(module: SynapticScaling, args: tuple, kwargs: dict, scale: Tensor | None) -> None:
            self.records[name] = synapse_trace(module, args[0], scale, self._priors.pop(name))

        return hook


# --- fixed points ---------------------------------------------------------------------------


def predicted_fixed_points(
    shape: ScalingShape | None, drive: Tensor, reference: Tensor | None = None
) -> Tensor:
    r"""The fixed point :math:`x^* = \min(1, a f(x^*))` of every synapse's trace map, for its
    drive (``[K]``) and, for a relative shape, its experience ``reference`` (``[K]``; the
    intensity is read as the trace reads it, :math:`(x + \delta) / (e + \delta)`). Solved by
    bisection on all synapses at once, as :func:`~spikegraph.synapse.fixed_point` does for one.
    Without a shape :math:`x^* = \min(1, a)`."""
    if shape is None:
        return drive.clamp(max=1.0)
    a = drive.double().clamp(0.0, 1.0)
    if shape.relative:
        if reference is None:
            raise ValueError(f"{shape!r} is relative: pass each synapse's experience as reference")
        ref = reference.double().expand_as(a) + SILENT
    lo, hi = torch.zeros_like(a), torch.ones_like(a)
    for _ in range(52):  # halves [0, 1] down to the float64 resolution
        mid = (lo + hi) / 2
        read = (mid + SILENT) / ref if shape.relative else mid
        above = (a * shape(read)).clamp(max=1.0) > mid
        lo, hi = torch.where(above, mid, lo), torch.where(above, hi, mid)
    return ((lo + hi) / 2).to(drive.dtype)


def fixed_point_check(record: dict[str, Tensor], shape: ScalingShape | None) -> dict[str, Any]:
    """Measured intensities against the predicted fixed point of each synapse's mean drive.

    The prediction is exact for a constant drive (the first layer under repeat coding); for a
    spiking drive it is taken at the mean drive over the steps, an approximation.
    """
    drive, experience = record["drive"].mean(0), record["experience"]
    x_star = predicted_fixed_points(shape, drive, experience)
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
        out.update(_map_steepness(shape, drive.clamp(0, 1), experience))
    return out


def _map_steepness(shape: ScalingShape, drive: Tensor, experience: Tensor) -> dict[str, float]:
    """:func:`~spikegraph.synapse.lipschitz` of the trace map (step 1/2: the running count's
    second step) at the synapse with the largest and with the median drive (relative shape:
    drive over experience). The bound ignores the clip of the scale: a silent synapse's huge
    relative drive gives a huge maximum where its scale actually sits flat at ``f_min``."""
    ref = experience.expand_as(drive) + SILENT if shape.relative else torch.ones_like(drive)
    order = (drive / ref).argsort()
    out = {}
    for key, k in (("lipschitz_max", order[-1]), ("lipschitz_median", order[len(order) // 2])):
        reference = float(ref[k]) if shape.relative else None
        out[key] = lipschitz(shape, float(drive[k]), step=0.5, reference=reference)
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
    share keep theirs, new ones start fresh (:meth:`~spikegraph.nn.conv.edge_state.EdgeExperience.move_experience`)."""
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
    """(sweep, variant, threshold, target rate) of every model the sparse-coding sweep trains:
    each threshold with free rates, each expected firing rate at the default threshold."""
    jobs = [("threshold", v, thr, None) for v in VARIANTS for thr in s.thresholds]
    return jobs + [("target_rate", v, s.threshold, r) for v in VARIANTS for r in s.target_rates]


def sparse_coding(
    data: Data, num_classes: int, s: Settings, progress: bool = True
) -> list[dict[str, Any]]:
    """Train one model per threshold and per expected firing rate (``target_rate``), both
    variants, for ``s.sweep_epochs`` epochs, seed 0; record test accuracy and firing on the
    clean graph."""
    done: dict[tuple, dict[str, Any]] = {}
    rows = []
    for sweep, variant, thr, rate in tqdm(_sweep_jobs(s), desc="sweep", disable=not progress):
        key = (variant, thr, rate)
        if key not in done:
            cfg = s.config(variant, threshold=thr, target_rate=rate, epochs=s.sweep_epochs)
            m = measure(train(cfg, data, num_classes, 0, False)[0], data, data)
            done[key] = {k: m[k] for k in ("test_acc", "firing_rate_mean", "sops")}
        rows.append({"sweep": sweep, "variant": variant, "threshold": thr, "target_rate": rate})
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
