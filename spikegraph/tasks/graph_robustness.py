r"""Graph robustness study: the per-edge synapse against its controls under graph attacks.

Six models are trained on the clean graph with the node-classification pipeline
(:mod:`spikegraph.tasks.node_classification`, expected rate 0.1 for the spiking ones) and then
tested on perturbed copies of it:

- ``relative``: the spiking GNN with the per-edge adaptive synapse (the library's default);
- ``share``: the same synapse driven by the edge's share of its target's input
  (``drive="share"``, the edge-specific drive that won the validation screen under injection);
- ``mean_field``: the same synapse with its scale averaged over the layer per step
  (:class:`~spikegraph.synapse.MeanField`), the control for anything per-edge;
- ``none``: the spiking GNN with scaling off;
- ``gcn``: the GCN twin (same widths and depth);
- ``gnnguard``: a robust GNN, :class:`~spikegraph.models.GNNGuard` (Zhang & Zitnik, 2020).

Perturbations (each returns a new graph; the clean one is never modified):

- :func:`inject_features`: a fraction of the test nodes get ``words`` extra active words;
- :func:`inject_nodes`: new nodes, with random or adversarial words, wired to target test nodes;
- :func:`structure_attack`: PyG's PRBCD / GRBCD (Geisler et al., "Robustness of Graph Neural
  Networks at Scale", NeurIPS 2021) flip a budget of edges to hurt the test nodes, as evasion
  (the trained model on the perturbed graph) and as poisoning (a model trained on it).

Surrogate gradients can hide a spiking model's weak spots from a gradient attack, so every
structure attack is run white-box (on the model itself) and as a transfer from the GCN twin of
the same seed, and the summary keeps the worse of the two per model and seed.
"""

from __future__ import annotations

import argparse
import copy
import json
import math
import statistics
import time
import warnings
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

import torch
from torch import Tensor, nn
from torch_geometric.data import Data
from tqdm.auto import tqdm

from spikegraph.models import GCN, GNNGuard, SpikingGNN
from spikegraph.tasks.firing_callback.analysis import graph_twin, rebase_experience
from spikegraph.tasks.node_classification import Config, build_model, machine_info, train_run

with warnings.catch_warnings():  # "contrib contains experimental code": known, pinned
    warnings.simplefilter("ignore", UserWarning)
    from torch_geometric.contrib.nn import GRBCDAttack, PRBCDAttack

__all__ = [
    "MODELS",
    "STAGES",
    "Settings",
    "build",
    "train_model",
    "on_graph",
    "test_accuracy",
    "GraphView",
    "inject_features",
    "inject_nodes",
    "structure_attack",
    "edge_budget",
    "run_seed",
    "run_study",
    "missing_work",
    "done_work",
    "summarize",
    "format_table",
    "parse_args",
    "main",
]

#: The models side by side: the four synapse variants of the spiking GNN, its GCN twin and a
#: robust GNN.
MODELS = ("relative", "share", "mean_field", "none", "gcn", "gnnguard")
#: The per-edge synapses, each compared with the controls in the summary's goals.
PER_EDGE = ("relative", "share")
#: ``main``: the goal's budgets (10 % of the nodes, 5 % of the edges); ``sweep``: the others.
STAGES = ("main", "sweep")
#: The attacks a stage may run (``--attacks``).
ATTACKS = ("features", "nodes", "prbcd", "grbcd", "poisoning")
SCALINGS = {"relative": "relative", "share": "relative", "mean_field": "mean_field", "none": None}
#: The spiking models whose drive is not the default coincidence one.
DRIVES = {"share": "share"}


@dataclass
class Settings:
    """Everything that defines the study; saved in every per-seed file."""

    epochs: int = 200
    patience: int = 50
    hidden: int = 128
    T: int = 8
    target_rate: float = 0.1
    node_budget: float = 0.10  # main stage: fraction of the nodes perturbed
    edge_budget: float = 0.05  # main stage: fraction of the (undirected) edges flipped
    sweep_node_budgets: tuple[float, ...] = (0.05, 0.2, 0.3)
    sweep_edge_budgets: tuple[float, ...] = (0.01, 0.10)
    feature_words: tuple[int, ...] = (25, 50, 100, 200)
    injection_degree: int = 5
    block_size: int = 20_000
    prbcd_epochs: int = 50
    prbcd_resampling: int = 30
    grbcd_epochs: int = 20
    attacks: tuple[str, ...] = ATTACKS
    models: tuple[str, ...] = MODELS
    extra: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for name in self.models:
            if name not in MODELS:
                raise ValueError(f"unknown model {name!r}; choose from {MODELS}")
        for name in self.attacks:
            if name not in ATTACKS:
                raise ValueError(f"unknown attack {name!r}; choose from {ATTACKS}")
        if "gcn" not in self.models and {"prbcd", "grbcd", "poisoning"} & set(self.attacks):
            raise ValueError("the structure attacks transfer from the GCN twin: keep 'gcn'")

    def config(self, model: str, dataset: str) -> Config:
        """The node-classification :class:`Config` of one model of the study."""
        if model not in MODELS:
            raise ValueError(f"unknown model {model!r}; choose from {MODELS}")
        snn = model in SCALINGS
        return Config(
            dataset=dataset,
            model="snn" if snn else "gcn",
            hidden=self.hidden,
            T=self.T,
            scaling=SCALINGS.get(model),
            target_rate=self.target_rate if snn else None,
            epochs=self.epochs,
            patience=self.patience,
        )


# --- models -----------------------------------------------------------------------------------


def build(model: str, cfg: Config, num_features: int, num_classes: int) -> nn.Module:
    """One model of :data:`MODELS` (``gnnguard`` takes the GCN twin's widths and dropout)."""
    if model == "gnnguard":
        return GNNGuard(
            num_features, cfg.hidden, num_classes, num_layers=cfg.layers, dropout=cfg.dropout
        )
    drive = {"drive": DRIVES[model]} if model in DRIVES else {}
    return build_model(cfg, num_features, num_classes, **drive)


def train_model(
    model: str, data: Data, num_classes: int, seed: int, settings: Settings
) -> tuple[nn.Module, dict[str, Any]]:
    """Train one model on ``data`` (best validation epoch kept); returns it in eval mode and
    its run record."""
    cfg = settings.config(model, "")
    net = build(model, cfg, data.num_features, num_classes)
    result = train_run(net, data, cfg, seed, progress=False)
    return net.eval(), asdict(result)


def _same_graph(data: Data, perturbed: Data) -> bool:
    return perturbed.num_nodes == data.num_nodes and (
        perturbed.edge_index is data.edge_index
        or torch.equal(perturbed.edge_index, data.edge_index)
    )


def _uncached(model: GCN) -> GCN:
    twin = copy.deepcopy(model)
    for conv in twin.convs:
        conv.cached = False
        conv._cached_edge_index = None
        conv._cached_adj_t = None
    return twin.eval()


def on_graph(model: nn.Module, data: Data, perturbed: Data) -> nn.Module:
    """``model`` (trained on ``data``'s graph) ready for ``perturbed``'s graph: itself if the
    graph is the same (only features changed), else a copy that reads the new graph (no
    cached normalisation) and, for a spiking model, whose experience moved to the new synapses
    (those both graphs share keep theirs, new ones start fresh:
    :meth:`~spikegraph.nn.conv.edge_state.EdgeExperience.move_experience`)."""
    if _same_graph(data, perturbed) or isinstance(model, GNNGuard):
        return model.eval()
    if isinstance(model, SpikingGNN):
        twin = graph_twin(model)
        rebase_experience(twin, perturbed.edge_index, perturbed.num_nodes)
        return twin
    if isinstance(model, GCN):
        return _uncached(model)
    raise TypeError(f"no graph copy for {type(model).__name__}")


@torch.no_grad()
def test_accuracy(model: nn.Module, data: Data, perturbed: Data) -> float:
    """Accuracy on ``perturbed``'s test nodes of ``model`` trained on ``data``'s graph."""
    net = on_graph(model, data, perturbed)
    pred = net(perturbed.x, perturbed.edge_index).argmax(-1)
    mask = perturbed.test_mask
    return float((pred[mask] == perturbed.y[mask]).float().mean())


class GraphView(nn.Module):
    """A trained model that reads whatever graph it is called with, for a structure attack:
    every call gets :func:`on_graph`'s copy for that graph (a spiking model's experience moved
    from the trained model's, never from an earlier call's), with the edge weights passed on,
    so gradients reach them."""

    def __init__(self, model: nn.Module) -> None:
        super().__init__()
        self.model = model
        self._gcn = _uncached(model) if isinstance(model, GCN) else None

    def forward(self, x: Tensor, edge_index: Tensor, edge_weight: Tensor | None = None) -> Tensor:
        if isinstance(self.model, SpikingGNN):
            net = graph_twin(self.model)
            rebase_experience(net, edge_index, x.shape[0])
        else:
            net = self._gcn if self._gcn is not None else self.model.eval()
        return net(x, edge_index, edge_weight)


# --- perturbations ----------------------------------------------------------------------------


def _test_nodes(data: Data, count: int, generator: torch.Generator) -> Tensor:
    test = data.test_mask.nonzero().flatten()
    if count > test.numel():
        raise ValueError(f"{count} nodes to perturb but only {test.numel()} test nodes")
    return test[torch.randperm(test.numel(), generator=generator)[:count]].sort().values


def _budget_nodes(data: Data, fraction: float) -> int:
    if not 0.0 < fraction <= 1.0:
        raise ValueError(f"a node budget is a fraction in (0, 1], got {fraction}")
    return max(1, round(fraction * data.num_nodes))


def inject_features(data: Data, fraction: float, words: int, generator: torch.Generator) -> Data:
    """Localised feature injection: ``round(fraction * N)`` test nodes each get ``words`` extra
    active words (zeros of their bag of words set to 1, drawn at random).

    Args:
        data: the clean graph (not modified).
        fraction: perturbed nodes as a fraction of all nodes (drawn from the test nodes).
        words: extra active words per perturbed node.
        generator: the random draw.

    Returns:
        A copy with the new ``x`` and ``perturbed_nodes`` ``[n]``.
    """
    if words < 1:
        raise ValueError(f"words must be >= 1, got {words}")
    nodes = _test_nodes(data, _budget_nodes(data, fraction), generator)
    x = data.x.clone()
    rows = x[nodes]
    free = (rows == 0).sum(-1)
    if bool((free < words).any()):
        raise ValueError(f"a node has only {int(free.min())} inactive words, {words} asked")
    score = torch.rand(rows.shape, generator=generator)
    score[rows != 0] = -1.0  # never pick an active word
    rows.scatter_(1, score.topk(words, dim=-1).indices, 1.0)
    x[nodes] = rows
    out = copy.copy(data)
    out.x, out.perturbed_nodes = x, nodes
    return out


def class_profiles(data: Data, num_classes: int) -> Tensor:
    """Mean bag of words of each class over the training nodes, ``[K, F]``."""
    x, y = data.x[data.train_mask], data.y[data.train_mask]
    sums = torch.zeros(num_classes, x.shape[1]).index_add_(0, y, x)
    return sums / torch.bincount(y, minlength=num_classes).clamp_min(1).unsqueeze(-1)


def inject_nodes(
    data: Data,
    fraction: float,
    degree: int,
    features: str,
    generator: torch.Generator,
    num_classes: int | None = None,
) -> Data:
    """Node injection: ``round(fraction * N)`` target test nodes, grouped by class, each get one
    edge (both directions) from a new node; every new node is wired to ``degree`` targets.

    A new node has as many active words as the busiest real node (within the data's range). ``"random"``: words drawn uniformly.
    ``"adversarial"``: for targets of class :math:`c`, the words that most separate the
    nearest other class :math:`c'` from :math:`c` (largest :math:`p_{c'} - p_c` of the
    training nodes' mean bags of words; :math:`c'` of largest cosine similarity to :math:`c`).

    Args:
        data: the clean graph (not modified).
        fraction: targets as a fraction of all nodes (drawn from the test nodes).
        degree: targets per injected node.
        features: ``"random"`` or ``"adversarial"``.
        generator: the random draw.
        num_classes: classes (default: ``y.max() + 1``).

    Returns:
        A copy with the new nodes appended (label 0, in no split), ``injected`` ``[M]`` (their
        ids) and ``targets`` ``[n]``.
    """
    if features not in ("random", "adversarial"):
        raise ValueError(f"unknown features {features!r}; choose 'random' or 'adversarial'")
    if degree < 1:
        raise ValueError(f"degree must be >= 1, got {degree}")
    num_classes = num_classes or int(data.y.max()) + 1
    targets = _test_nodes(data, _budget_nodes(data, fraction), generator)
    targets = targets[torch.sort(data.y[targets], stable=True).indices]  # group by class
    n, m = data.num_nodes, math.ceil(targets.numel() / degree)
    injected = torch.arange(n, n + m)
    owner = injected.repeat_interleave(degree)[: targets.numel()]
    edges = torch.cat([torch.stack([owner, targets]), torch.stack([targets, owner])], dim=1)
    words = int((data.x != 0).sum(-1).max())  # as many as the busiest real node: in range
    if features == "random":
        score = torch.rand(m, data.num_features, generator=generator)
    else:
        profiles = class_profiles(data, num_classes)
        unit = torch.nn.functional.normalize(profiles, dim=-1)
        sim = unit @ unit.t()
        sim.fill_diagonal_(-2.0)
        rival = sim.argmax(-1)
        first = data.y[targets[::degree]]  # a new node's targets share a class but where two meet
        score = profiles[rival[first]] - profiles[first]
    x_new = torch.zeros(m, data.num_features, dtype=data.x.dtype)
    x_new.scatter_(1, score.topk(words, dim=-1).indices, 1.0)
    out = copy.copy(data)
    out.x = torch.cat([data.x, x_new])
    out.edge_index = torch.cat([data.edge_index, edges], dim=1)
    out.y = torch.cat([data.y, data.y.new_zeros(m)])
    for name in ("train_mask", "val_mask", "test_mask"):
        out[name] = torch.cat([data[name], data[name].new_zeros(m)])
    out.num_nodes = n + m
    out.injected, out.targets = injected, targets
    return out


def edge_budget(data: Data, fraction: float) -> int:
    """Edge flips allowed: ``fraction`` of the undirected edges (at least 1)."""
    if not 0.0 < fraction <= 1.0:
        raise ValueError(f"an edge budget is a fraction in (0, 1], got {fraction}")
    return max(1, round(fraction * data.edge_index.shape[1] / 2))


def structure_attack(
    model: nn.Module,
    data: Data,
    budget: int,
    method: str,
    settings: Settings,
    seed: int,
) -> tuple[Data, Tensor]:
    """Flip at most ``budget`` undirected edges to lower ``model``'s accuracy on the test nodes
    (true labels), with PyG's PRBCD (``method="prbcd"``) or GRBCD (``"grbcd"``).

    Returns:
        The perturbed graph (a copy of ``data``) and the flipped edges ``[2, <= budget]``.
    """
    if method not in ("prbcd", "grbcd"):
        raise ValueError(f"unknown method {method!r}; choose 'prbcd' or 'grbcd'")
    torch.manual_seed(seed)
    view = GraphView(model)
    block = min(settings.block_size, data.num_nodes * (data.num_nodes - 1) // 2)
    if method == "prbcd":
        attack = PRBCDAttack(
            view,
            block,
            epochs=settings.prbcd_epochs,
            epochs_resampling=settings.prbcd_resampling,
            log=False,
        )
    else:
        attack = GRBCDAttack(view, block, epochs=settings.grbcd_epochs, log=False)
    idx = data.test_mask.nonzero().flatten()
    edge_index, flipped = attack.attack(data.x, data.edge_index, data.y, budget, idx_attack=idx)
    out = copy.copy(data)
    out.edge_index = edge_index.to(data.edge_index.device)
    return out, flipped


# --- the study --------------------------------------------------------------------------------


def _row(attack: str, budget: float, model: str, acc: float, **extra: Any) -> dict[str, Any]:
    return {"attack": attack, "budget": budget, "model": model, "acc": acc, **extra}


def _generator(seed: int, *key: object) -> torch.Generator:
    """One fixed draw per (seed, perturbation): every model sees the same perturbed graph."""
    text = "/".join(str(k) for k in key)
    return torch.Generator().manual_seed(1_000_003 * seed + sum(map(ord, text)) * 7_919)


def _budgets(stage: str, settings: Settings) -> tuple[tuple[float, ...], tuple[float, ...]]:
    if stage == "main":
        return (settings.node_budget,), (settings.edge_budget,)
    if stage == "sweep":
        return settings.sweep_node_budgets, settings.sweep_edge_budgets
    raise ValueError(f"unknown stage {stage!r}; choose from {STAGES}")


def run_seed(
    data: Data,
    num_classes: int,
    seed: int,
    stage: str,
    settings: Settings,
    models: dict[str, nn.Module] | None = None,
    progress: bool = True,
) -> list[dict[str, Any]]:
    """Every model and perturbation of one stage for one seed: rows ``attack``, ``budget``,
    ``model``, ``acc`` (test accuracy), plus what identifies the attack's source.

    Args:
        data: the clean graph.
        num_classes: classes.
        seed: training seed of every model and draw of every perturbation.
        stage: ``"main"`` or ``"sweep"`` (:data:`STAGES`).
        settings: the study's settings.
        models: the models trained on the clean graph (default: trained here).
        progress: show progress bars.
    """
    node_budgets, edge_budgets = _budgets(stage, settings)
    names = settings.models
    rows: list[dict[str, Any]] = []
    if models is None:
        models = {}
    for name in tqdm(names, desc="train", disable=not progress, leave=False):
        if name not in models:
            models[name] = train_model(name, data, num_classes, seed, settings)[0]
    if stage == "main":
        rows += [_row("clean", 0.0, n, test_accuracy(m, data, data)) for n, m in models.items()]

    def evaluate_all(attack: str, budget: float, graph: Data, **extra: Any) -> None:
        for name, model in models.items():
            rows.append(_row(attack, budget, name, test_accuracy(model, data, graph), **extra))

    jobs: list[tuple[str, Callable[[], None]]] = []
    for frac in node_budgets:
        if "features" in settings.attacks:
            for words in settings.feature_words:
                gen = _generator(seed, "features", frac, words)
                jobs.append(
                    (
                        f"features {frac} x{words}",
                        lambda f=frac, w=words, g=gen: evaluate_all(
                            f"feature_injection(words={w})", f, inject_features(data, f, w, g)
                        ),
                    )
                )
        if "nodes" in settings.attacks:
            for kind in ("random", "adversarial"):
                gen = _generator(seed, "nodes", frac, kind)
                jobs.append(
                    (
                        f"nodes {frac} {kind}",
                        lambda f=frac, k=kind, g=gen: evaluate_all(
                            f"node_injection({k})",
                            f,
                            inject_nodes(data, f, settings.injection_degree, k, g, num_classes),
                        ),
                    )
                )
    for frac in edge_budgets:
        for method in ("prbcd", "grbcd"):
            if method in settings.attacks or (
                method == "prbcd" and "poisoning" in settings.attacks
            ):
                jobs.append(
                    (
                        f"{method} {frac}",
                        lambda f=frac, m=method: rows.extend(
                            _structure_rows(data, num_classes, seed, f, m, models, settings)
                        ),
                    )
                )
    bar = tqdm(jobs, desc=f"seed {seed} {stage}", disable=not progress, leave=False)
    for label, job in bar:
        bar.set_postfix_str(label)
        job()
    return rows


def _structure_rows(
    data: Data,
    num_classes: int,
    seed: int,
    fraction: float,
    method: str,
    models: dict[str, nn.Module],
    settings: Settings,
) -> list[dict[str, Any]]:
    """Evasion (white-box and transfer from the GCN twin) and, for PRBCD, poisoning rows."""
    budget = edge_budget(data, fraction)
    rows = []
    attack_seed = seed * 1_000 + round(fraction * 1_000)
    graphs: dict[str, Data] = {}
    for name, model in models.items():
        graphs[name], flipped = structure_attack(model, data, budget, method, settings, attack_seed)
        flips = int(flipped.shape[1])
        evasion = f"{method}_evasion"
        if method in settings.attacks:
            acc = test_accuracy(model, data, graphs[name])
            rows.append(_row(f"{evasion}(white_box)", fraction, name, acc, flips=flips))
    transfer = graphs["gcn"]
    if method in settings.attacks:
        for name, model in models.items():
            acc = test_accuracy(model, data, transfer)
            rows.append(_row(f"{method}_evasion(transfer)", fraction, name, acc))
    if method == "prbcd" and "poisoning" in settings.attacks:
        for name in models:
            sources = {"transfer": transfer}
            if name != "gcn":  # the GCN's own perturbation is the transfer one
                sources["white_box"] = graphs[name]
            for source, graph in sources.items():
                net, _ = train_model(name, graph, num_classes, seed, settings)
                acc = test_accuracy(net, graph, graph)
                rows.append(_row(f"{method}_poisoning({source})", fraction, name, acc))
    return rows


def seed_file(out_dir: Path, dataset: str, seed: int, stage: str) -> Path:
    """Where one seed's rows of one stage are written."""
    return out_dir / "runs" / f"{dataset}_{stage}_seed{seed}.json"


def run_study(
    datasets: dict[str, tuple[Data, int]],
    seeds: Iterable[int],
    stages: Iterable[str],
    settings: Settings,
    out_dir: Path,
    progress: bool = True,
    command: str = "",
) -> dict[str, Any]:
    """Run stage-major, then seed, then dataset; every (dataset, stage, seed) writes its own
    JSON as it finishes (resumable). A file already written is completed, not redone: the
    models and attacks it lacks (:func:`missing_work`) are run and their rows added, and the
    addition is logged under ``additions``. Returns the summary of everything found in
    ``out_dir`` (also written to ``out_dir/summary.json``)."""
    jobs = [(st, s, d) for st in stages for s in seeds for d in datasets]
    bar = tqdm(jobs, desc="study", disable=not progress)
    for stage, seed, dataset in bar:
        path = seed_file(out_dir, dataset, seed, stage)
        record = json.loads(path.read_text()) if path.exists() else None
        work = missing_work(record, settings, path)
        if not work:
            continue
        bar.set_postfix_str(f"{dataset} {stage} seed {seed}")
        data, num_classes = datasets[dataset]
        done = done_work(record)
        start = time.perf_counter()
        rows, reruns = [], []
        for attacks, models in work.items():
            kept, ran = _run_part(data, num_classes, seed, stage, settings, models, attacks, done)
            rows += kept
            reruns += [r for r in ran if r not in kept]
        entry = {
            "models": sorted({m for ms in work.values() for m in ms}, key=MODELS.index),
            "wall_time_s": time.perf_counter() - start,
            "machine": machine_info(),
            "command": command,
        }
        if record is None:
            record = {"dataset": dataset, "seed": seed, "stage": stage, "rows": rows}
            record.update(settings=asdict(settings), **entry)
        else:
            entry["rerun_max_diff"] = _rerun_diff(record["rows"], reruns)
            record["rows"] += rows
            record.setdefault("additions", []).append(entry)
        for attacks, models in work.items():
            for m in models:
                done[m] = sorted(set(done.get(m, [])) | set(attacks), key=ATTACKS.index)
        record["done"] = {m: done[m] for m in sorted(done, key=MODELS.index)}
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps(record, indent=1))
        tmp.replace(path)
        write_summary(out_dir)
    return write_summary(out_dir)


def done_work(record: dict[str, Any] | None) -> dict[str, list[str]]:
    """The attacks each model of a seed file has rows for (files without ``done``: every
    model of its settings with every attack of them)."""
    if record is None:
        return {}
    if "done" in record:
        return {m: list(a) for m, a in record["done"].items()}
    return {m: list(record["settings"]["attacks"]) for m in record["settings"]["models"]}


#: Settings a seed file may be completed under even if they differ from its own.
_ADDABLE = ("models", "attacks", "extra")


def missing_work(
    record: dict[str, Any] | None, settings: Settings, path: Path | str = "the seed file"
) -> dict[tuple[str, ...], list[str]]:
    """``{attacks: models}``: what ``settings`` asks that a seed file lacks (all of it when
    there is no file). Raises ``ValueError`` if the file was made with other settings (widths,
    budgets, epochs, ...): its rows could not be compared with new ones."""
    if record is None:
        return {tuple(settings.attacks): list(settings.models)}
    mine = json.loads(json.dumps(asdict(settings)))
    theirs = record["settings"]
    differ = [k for k in mine if k not in _ADDABLE and theirs.get(k) != mine[k]]
    if differ:
        raise ValueError(
            f"{path} was made with other settings ({', '.join(differ)}); give another --out"
        )
    done = done_work(record)
    work: dict[tuple[str, ...], list[str]] = defaultdict(list)
    for model in settings.models:
        todo = tuple(a for a in settings.attacks if a not in done.get(model, []))
        if todo:
            work[todo].append(model)
    return dict(work)


def _run_part(
    data: Data,
    num_classes: int,
    seed: int,
    stage: str,
    settings: Settings,
    models: list[str],
    attacks: tuple[str, ...],
    done: dict[str, list[str]],
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """``models`` under ``attacks`` (with the GCN twin for the transfer attacks): the new rows
    (a clean row only for a model new to the file), and every row run."""
    transfer = bool({"prbcd", "grbcd", "poisoning"} & set(attacks))
    names = tuple(m for m in MODELS if m in models or (m == "gcn" and transfer))
    part = replace(settings, models=names, attacks=attacks)
    ran = run_seed(data, num_classes, seed, stage, part, progress=False)
    kept = [
        r
        for r in ran
        if r["model"] in models and (r["attack"] != "clean" or r["model"] not in done)
    ]
    return kept, ran


def _rerun_diff(old: list[dict[str, Any]], reruns: list[dict[str, Any]]) -> float | None:
    """The largest accuracy difference between rows run again (the GCN twin, for the transfer
    attacks) and the same rows in the file: 0 when the rerun reproduced them."""
    before = {(r["attack"], r["budget"], r["model"]): r["acc"] for r in old}
    diffs = [
        abs(r["acc"] - before[key])
        for r in reruns
        if (key := (r["attack"], r["budget"], r["model"])) in before
    ]
    return max(diffs) if diffs else None


# --- summary ----------------------------------------------------------------------------------


def _worst_rows(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Per model and seed, the worse of the white-box and the transfer attack: ``<attack>``."""
    pairs: dict[tuple, dict[str, float]] = defaultdict(dict)
    for r in rows:
        if "(" in r["attack"] and r["attack"].endswith(("(white_box)", "(transfer)")):
            base, source = r["attack"][:-1].split("(")
            pairs[(r["dataset"], r["seed"], base, r["budget"], r["model"])][source] = r["acc"]
    return [
        {"dataset": d, "seed": s, "attack": a, "budget": b, "model": m, "acc": min(accs.values())}
        for (d, s, a, b, m), accs in pairs.items()
    ]


def summarize(out_dir: Path) -> dict[str, Any]:
    """Mean and standard deviation over the seeds found in ``out_dir/runs`` of every
    (dataset, attack, budget, model), with the worse-of rows added; and the goal's
    comparisons at the main budgets."""
    paths = sorted((out_dir / "runs").glob("*.json"))
    if not paths:
        raise FileNotFoundError(f"no per-seed files in {out_dir / 'runs'}: run the study first")
    rows = []
    for path in paths:
        record = json.loads(path.read_text())
        for r in record["rows"]:
            rows.append({"dataset": record["dataset"], "seed": record["seed"], **r})
    rows += _worst_rows(rows)
    groups: dict[tuple, dict[int, float]] = defaultdict(dict)
    for r in rows:
        groups[(r["dataset"], r["attack"], r["budget"], r["model"])][r["seed"]] = r["acc"]
    table = []
    for (dataset, attack, budget, model), by_seed in sorted(groups.items(), key=_order):
        accs = [by_seed[s] for s in sorted(by_seed)]
        table.append(
            {
                "dataset": dataset,
                "attack": attack,
                "budget": budget,
                "model": model,
                "acc_mean": statistics.fmean(accs),
                "acc_std": statistics.stdev(accs) if len(accs) > 1 else 0.0,
                "seeds": sorted(by_seed),
            }
        )
    units = "acc_*: test accuracy, a fraction; goals' vs_*: points (percentage points)"
    return {"rows": table, "goals": goal_checks(groups), "units": units}


ATTACK_ORDER = ("clean", "feature_injection", "node_injection", "prbcd_evasion", "grbcd_evasion")


def _order(item: tuple) -> tuple:
    """Rows by dataset, attack family (clean first), strength, source, budget and model."""
    (dataset, attack, budget, model), _ = item
    base, _, detail = attack.partition("(")
    family = ATTACK_ORDER.index(base) if base in ATTACK_ORDER else len(ATTACK_ORDER)
    number = detail.rstrip(")").rpartition("=")[2]
    strength = int(number) if number.isdigit() else 0
    return (dataset, family, base, strength, detail, budget, MODELS.index(model))


def goal_checks(groups: dict[tuple, dict[int, float]]) -> list[dict[str, Any]]:
    """Per dataset, attack, budget and per-edge synapse (``model``, one of :data:`PER_EDGE`):
    that synapse minus the mean field, the GCN twin and scaling off, paired by seed on the
    seeds both have. ``vs_<control>`` is the mean difference in
    points, ``vs_<control>_se`` its standard error (``None`` with one seed) and
    ``vs_<control>_ahead`` the number of seeds on which the per-edge synapse is ahead.

    Args:
        groups: ``{(dataset, attack, budget, model): {seed: accuracy (fraction)}}``.
    """
    by_key: dict[tuple, dict[str, dict[int, float]]] = defaultdict(dict)
    for (dataset, attack, budget, model), by_seed in sorted(groups.items(), key=_order):
        by_key[(dataset, attack, budget)][model] = by_seed
    checks = []
    for (dataset, attack, budget), models in by_key.items():
        for synapse in PER_EDGE:
            if synapse in models:
                checks.append(_paired_check(dataset, attack, budget, synapse, models))
    return checks


def _paired_check(
    dataset: str, attack: str, budget: float, synapse: str, models: dict[str, dict[int, float]]
) -> dict[str, Any]:
    """One per-edge synapse against each control present, paired by seed."""
    ours = models[synapse]
    check: dict[str, Any] = {"dataset": dataset, "attack": attack, "budget": budget}
    check["model"] = synapse
    for other in ("mean_field", "gcn", "none"):
        shared = sorted(set(ours) & set(models.get(other, {})))
        if not shared:
            continue
        diffs = [100 * (ours[s] - models[other][s]) for s in shared]
        check[f"vs_{other}"] = statistics.fmean(diffs)
        check[f"vs_{other}_se"] = (
            statistics.stdev(diffs) / math.sqrt(len(diffs)) if len(diffs) > 1 else None
        )
        check[f"vs_{other}_ahead"] = sum(d > 0 for d in diffs)
    check["seeds"] = sorted(ours)
    return check


def write_summary(out_dir: Path) -> dict[str, Any]:
    summary = summarize(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / "summary.json").write_text(json.dumps(summary, indent=1))
    return summary


def format_table(summary: dict[str, Any], attacks: Iterable[str] | None = None) -> str:
    """A markdown table, one row per (dataset, attack, budget), one column per model
    (``mean ± std (n)``), from :func:`summarize`'s output."""
    rows = summary["rows"]
    wanted = None if attacks is None else set(attacks)
    cells: dict[tuple, dict[str, str]] = defaultdict(dict)
    for r in rows:
        if wanted is not None and r["attack"] not in wanted:
            continue
        cells[(r["dataset"], r["attack"], r["budget"])][r["model"]] = (
            f"{100 * r['acc_mean']:.1f} ± {100 * r['acc_std']:.1f} ({len(r['seeds'])})"
        )
    models = [m for m in MODELS if any(m in c for c in cells.values())]
    lines = [
        "| dataset | attack | budget | " + " | ".join(models) + " |",
        "|---|---|---|" + "---|" * len(models),
    ]
    for (dataset, attack, budget), by_model in cells.items():
        values = " | ".join(by_model.get(m, "–") for m in models)
        lines.append(f"| {dataset} | {attack} | {budget:g} | {values} |")
    return "\n".join(lines)


# --- command line -----------------------------------------------------------------------------

QUICK = {
    "epochs": 5,
    "patience": 0,
    "hidden": 16,
    "T": 4,
    "feature_words": (50,),
    "block_size": 2_000,
    "prbcd_epochs": 3,
    "prbcd_resampling": 2,
    "grbcd_epochs": 2,
}


def parse_args(argv: list[str] | None = None) -> tuple[argparse.Namespace, Settings]:
    """The command line of ``examples/graph_robustness.py``."""
    defaults = Settings()
    p = argparse.ArgumentParser(
        description="Graph robustness study: per-edge synapse vs mean field, scaling off, "
        "GCN and GNNGuard under feature/node injection and PRBCD/GRBCD structure attacks"
    )
    p.add_argument(
        "--datasets", nargs="+", choices=["Cora", "CiteSeer"], default=["Cora", "CiteSeer"]
    )
    p.add_argument("--seeds", nargs="+", type=int, default=None, help="default 0..9")
    p.add_argument("--runs", type=int, default=None, help="seeds 0..runs-1 (instead of --seeds)")
    p.add_argument("--stages", nargs="+", choices=STAGES, default=list(STAGES))
    p.add_argument("--models", nargs="+", choices=MODELS, default=list(MODELS))
    p.add_argument("--attacks", nargs="+", choices=ATTACKS, default=list(ATTACKS))
    p.add_argument("--epochs", type=int, default=defaults.epochs)
    p.add_argument("--patience", type=int, default=defaults.patience)
    p.add_argument("--node-budget", type=float, default=defaults.node_budget)
    p.add_argument("--edge-budget", type=float, default=defaults.edge_budget)
    p.add_argument("--prbcd-epochs", type=int, default=defaults.prbcd_epochs)
    p.add_argument("--grbcd-epochs", type=int, default=defaults.grbcd_epochs)
    p.add_argument("--block-size", type=int, default=defaults.block_size)
    p.add_argument("--quick", action="store_true", help="tiny models and attacks (a smoke test)")
    p.add_argument("--out", type=Path, default=Path("results/graph_robustness"))
    p.add_argument("--json", type=Path, default=None, help="also write the summary here")
    p.add_argument(
        "--table", action="store_true", help="only rebuild the summary from --out and print it"
    )
    p.add_argument("--root", default=None, help="folder with <Name>/raw/ (default: vendored)")
    p.add_argument("--threads", type=int, default=None, help="torch CPU threads")
    p.add_argument("--no-progress", action="store_true")
    args = p.parse_args(argv)
    if args.runs is not None and args.seeds is not None:
        p.error("give --seeds or --runs, not both")
    if args.runs is not None and args.runs < 1:
        p.error(f"--runs must be >= 1, got {args.runs}")
    args.seeds = args.seeds if args.seeds is not None else list(range(args.runs or 10))
    for flag in ("node_budget", "edge_budget"):
        if not 0.0 < getattr(args, flag) <= 1.0:
            p.error(f"--{flag.replace('_', '-')} must be a fraction in (0, 1]")
    if args.prbcd_epochs < 2 or args.grbcd_epochs < 1 or args.block_size < 1:
        p.error("--prbcd-epochs must be >= 2, --grbcd-epochs and --block-size >= 1")
    structure = {"prbcd", "grbcd", "poisoning"} & set(args.attacks)
    if structure and "gcn" not in args.models:
        p.error(f"{sorted(structure)} transfer from the GCN twin: add gcn to --models")
    fields_ = {
        "epochs": args.epochs,
        "patience": args.patience,
        "node_budget": args.node_budget,
        "edge_budget": args.edge_budget,
        "prbcd_epochs": args.prbcd_epochs,
        "prbcd_resampling": max(1, round(0.6 * args.prbcd_epochs)),
        "grbcd_epochs": args.grbcd_epochs,
        "block_size": args.block_size,
        "models": tuple(args.models),
        "attacks": tuple(args.attacks),
    }
    if args.quick:
        fields_.update(QUICK)
    return args, Settings(**fields_)


def main(argv: list[str] | None = None) -> dict[str, Any]:
    """Run (or resume) the study and print its table."""
    import shlex
    import sys

    from spikegraph.datasets import load_planetoid

    args, settings = parse_args(argv)
    if args.table:
        summary = write_summary(args.out)
    else:
        if args.threads:
            torch.set_num_threads(args.threads)
        datasets = {}
        for name in args.datasets:
            ds = load_planetoid(name, root=args.root)
            datasets[name] = (ds[0], ds.num_classes)
        command = shlex.join([Path(sys.argv[0]).name, *(sys.argv[1:] if argv is None else argv)])
        summary = run_study(
            datasets,
            args.seeds,
            args.stages,
            settings,
            args.out,
            progress=not args.no_progress,
            command=command,
        )
    print(format_table(summary))
    if args.json is not None:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(summary, indent=1))
        print(f"summary written to {args.json}")
    return summary
