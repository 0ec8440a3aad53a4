r"""Link prediction on Planetoid graphs: a spiking graph auto-encoder and its GAE twin.

Protocol (after Kipf & Welling, "Variational Graph Auto-Encoders", NeurIPS BDL workshop 2016):
the undirected edges are split by PyG's :class:`~torch_geometric.transforms.RandomLinkSplit`
into 85 % training, 5 % validation and 10 % test edges, with as many sampled non-edges as
positives for validation and test. An encoder maps the node features and a graph to node
embeddings :math:`z_i`, a decoder scores a pair, by default :math:`\sigma(z_i^\top z_j)`, and the
loss is binary cross-entropy on the training edges against fresh negatives drawn every epoch
(:func:`~torch_geometric.utils.negative_sampling`).

**Which edges carry messages.** Training calls and the validation pass run on the training
edges only; the test pass runs on training plus validation edges (PyG's convention: what is
known once the model is selected). No test edge ever enters message passing
(``tests/tasks/test_link_prediction.py`` checks every encoder call).

**Encoders.** ``"snn"``: a :class:`~spikegraph.models.SpikingGNN` whose hidden
:class:`~spikegraph.nn.SpikingASConv` layers spike (LIF, by default an expected firing rate of
0.1) and whose last layer's currents averaged over the :math:`T` steps are the embedding
(``readout="membrane"``; ``"rate"``: the last layer's firing rates). The layers are built with
``cached=False``: the validation and test graphs differ from the training graph. ``"gae"``: the
GAE twin, PyG :class:`~torch_geometric.nn.GCNConv` layers with ReLU between them, same widths.
Both see the same split, negatives, optimiser, epochs and model selection (the epoch of best
validation AUC).

**Metrics.** ROC AUC and average precision (AP) of the scores of positives against negatives,
and Hits@K as in OGB's ``ogbl`` evaluators: the fraction of positives scored above the
:math:`K`-th best negative.
"""

from __future__ import annotations

import argparse
import copy
import json
import os
import random
import statistics
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor, nn
from torch_geometric.data import Data
from torch_geometric.transforms import RandomLinkSplit
from torch_geometric.utils import negative_sampling
from tqdm.auto import tqdm

from spikegraph.models import GCN, SpikingGNN
from spikegraph.monitor import FiringMonitor
from spikegraph.synapse import settle
from spikegraph.tasks.cli import SCALING_CHOICES
from spikegraph.tasks.node_classification import machine_info

__all__ = [
    "LinkConfig",
    "LinkRunResult",
    "DotDecoder",
    "MLPDecoder",
    "LinkPredictor",
    "split_edges",
    "build_model",
    "link_metrics",
    "roc_auc",
    "average_precision",
    "hits_at_k",
    "train_run",
    "run_seed",
    "summarize",
    "main",
]

DATASETS = ("Cora", "CiteSeer")
MODELS = ("snn", "gae")
DECODERS = ("dot", "mlp")
HITS_K = (20, 50, 100)


@dataclass
class LinkConfig:
    """Everything that defines one link-prediction run; saved verbatim in the JSON."""

    dataset: str = "Cora"
    model: str = "snn"  # "snn" or "gae"
    decoder: str = "dot"  # "dot" or "mlp"
    hidden: int = 32  # Kipf & Welling's GAE: 32 hidden, 16-dimensional embedding
    out: int = 16
    layers: int = 2
    dropout: float = 0.0
    lr: float = 0.01
    weight_decay: float = 0.0
    epochs: int = 200
    # the spiking encoder
    T: int = 8
    scaling: str | None = "relative"
    target_rate: float | None = 0.1  # hidden spiking layers
    threshold: float = 0.5
    decay: float = 0.9
    surrogate: str = "atan"
    readout: str = "membrane"  # or "rate"
    # re-measure experience and rate gains in extra passes each epoch: off, since with no
    # dropout the training call already sees the undisturbed network (and CPU is scarce)
    settle: bool = False
    val_ratio: float = 0.05
    test_ratio: float = 0.10
    seed: int = 0
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass
class LinkRunResult:
    seed: int
    best_epoch: int
    val_auc: float
    val_ap: float
    test_auc: float
    test_ap: float
    test_hits: dict[str, float]
    epoch_time_s: float
    firing_rate: float | None = None
    firing: dict[str, Any] | None = None


# --- metrics -------------------------------------------------------------------------------------


def _check_scores(pos: Tensor, neg: Tensor) -> None:
    if pos.dim() != 1 or neg.dim() != 1:
        raise ValueError(f"scores must be 1-D, got {tuple(pos.shape)} and {tuple(neg.shape)}")
    if pos.numel() == 0 or neg.numel() == 0:
        raise ValueError("need at least one positive and one negative score")


def roc_auc(pos: Tensor, neg: Tensor) -> float:
    r"""Area under the ROC curve: the chance that a random positive outscores a random negative,
    ties counting one half (the Mann-Whitney statistic),

    .. math:: \mathrm{AUC} = \frac{1}{|P||N|} \sum_{p, n} \bigl(1[s_p > s_n] + \tfrac12 1[s_p = s_n]\bigr).

    Args:
        pos: scores of the positive pairs.
        neg: scores of the negative pairs.

    Shapes:
        - input: ``pos`` ``[P]``, ``neg`` ``[N]``
        - output: a float in ``[0, 1]``
    """
    _check_scores(pos, neg)
    scores = torch.cat([pos, neg]).double()
    order = scores.argsort()
    ranks = torch.empty_like(scores)
    ranks[order] = torch.arange(1, scores.numel() + 1, dtype=torch.double)
    # mid-ranks for ties
    uniq, inverse = scores.unique(return_inverse=True)
    rank_sum = torch.zeros_like(uniq).index_add_(0, inverse, ranks)
    count = torch.zeros_like(uniq).index_add_(0, inverse, torch.ones_like(ranks))
    ranks = (rank_sum / count)[inverse]
    P, N = pos.numel(), neg.numel()
    return float((ranks[:P].sum() - P * (P + 1) / 2) / (P * N))


def average_precision(pos: Tensor, neg: Tensor) -> float:
    r"""Average precision: the mean, over positives, of the precision among all pairs scored at
    least as high (scikit-learn's step-wise definition, ties taken together),

    .. math:: \mathrm{AP} = \sum_k (R_k - R_{k-1})\, P_k

    over the distinct thresholds :math:`k` in decreasing order.

    Args:
        pos: scores of the positive pairs.
        neg: scores of the negative pairs.

    Shapes:
        - input: ``pos`` ``[P]``, ``neg`` ``[N]``
        - output: a float in ``[0, 1]``
    """
    _check_scores(pos, neg)
    scores = torch.cat([pos, neg]).double()
    labels = torch.cat([torch.ones(pos.numel()), torch.zeros(neg.numel())]).double()
    uniq, inverse = scores.unique(return_inverse=True)  # ascending
    tp = torch.zeros_like(uniq).index_add_(0, inverse, labels).flip(0).cumsum(0)
    total = torch.zeros_like(uniq).index_add_(0, inverse, torch.ones_like(labels))
    seen = total.flip(0).cumsum(0)
    precision = tp / seen
    recall = tp / pos.numel()
    gain = torch.diff(recall, prepend=recall.new_zeros(1))
    return float((gain * precision).sum())


def hits_at_k(pos: Tensor, neg: Tensor, k: int) -> float:
    """Hits@K as OGB's link evaluators count it: the fraction of positives scored strictly
    above the ``k``-th highest negative (1.0 when there are fewer than ``k`` negatives).

    Args:
        pos: scores of the positive pairs.
        neg: scores of the negative pairs.
        k: the rank among the negatives to beat (>= 1).

    Shapes:
        - input: ``pos`` ``[P]``, ``neg`` ``[N]``
        - output: a float in ``[0, 1]``
    """
    _check_scores(pos, neg)
    if k < 1:
        raise ValueError(f"k must be >= 1, got {k}")
    if neg.numel() < k:
        return 1.0
    kth = neg.topk(k).values[-1]
    return float((pos > kth).double().mean())


def link_metrics(pos: Tensor, neg: Tensor, ks: tuple[int, ...] = HITS_K) -> dict[str, float]:
    """AUC, AP and Hits@K of positive against negative scores, as one dict."""
    out = {"auc": roc_auc(pos, neg), "ap": average_precision(pos, neg)}
    out.update({f"hits@{k}": hits_at_k(pos, neg, k) for k in ks})
    return out


def _seed_all(seed: int) -> None:
    """Seed torch and Python's ``random`` (PyG's ``negative_sampling`` draws from the latter)."""
    torch.manual_seed(seed)
    random.seed(seed)


# --- data ----------------------------------------------------------------------------------------


def split_edges(
    data: Data, seed: int, val_ratio: float = 0.05, test_ratio: float = 0.10
) -> tuple[Data, Data, Data]:
    """PyG's undirected :class:`~torch_geometric.transforms.RandomLinkSplit` under ``seed``.

    Returns ``(train, val, test)``: each has the ``edge_index`` that may carry messages at
    that stage (training edges; training edges; training + validation edges) and
    ``edge_label_index`` / ``edge_label`` of the pairs it scores (the training positives only:
    negatives are drawn per epoch; validation and test: positives and as many negatives)."""
    if val_ratio <= 0.0 or test_ratio <= 0.0 or val_ratio + test_ratio >= 1.0:
        raise ValueError(
            f"need 0 < val_ratio, 0 < test_ratio, val_ratio + test_ratio < 1; "
            f"got {val_ratio}, {test_ratio}"
        )
    split = RandomLinkSplit(
        num_val=val_ratio,
        num_test=test_ratio,
        is_undirected=True,
        add_negative_train_samples=False,
        split_labels=False,
    )
    # PyG draws the edge permutation from torch and the negatives from Python's random
    state, py_state = torch.random.get_rng_state(), random.getstate()
    _seed_all(seed)
    try:
        train, val, test = split(Data(x=data.x, edge_index=data.edge_index))
    finally:
        torch.random.set_rng_state(state)
        random.setstate(py_state)
    return train, val, test


# --- model ---------------------------------------------------------------------------------------


class DotDecoder(nn.Module):
    r"""Inner-product decoder, :math:`s_{ij} = z_i^\top z_j` (a logit)."""

    def reset_parameters(self) -> None:
        pass

    def forward(self, z: Tensor, pairs: Tensor) -> Tensor:
        return (z[pairs[0]] * z[pairs[1]]).sum(-1)


class MLPDecoder(nn.Module):
    r"""A symmetric MLP decoder on the Hadamard product, :math:`s_{ij} = \mathrm{MLP}(z_i \odot
    z_j)` with one hidden ReLU layer.

    Args:
        channels: embedding size.
        hidden: hidden width (default: ``channels``).
    """

    def __init__(self, channels: int, hidden: int | None = None) -> None:
        super().__init__()
        hidden = channels if hidden is None else hidden
        self.mlp = nn.Sequential(nn.Linear(channels, hidden), nn.ReLU(), nn.Linear(hidden, 1))

    def reset_parameters(self) -> None:
        for layer in self.mlp:
            if isinstance(layer, nn.Linear):
                layer.reset_parameters()

    def forward(self, z: Tensor, pairs: Tensor) -> Tensor:
        return self.mlp(z[pairs[0]] * z[pairs[1]]).squeeze(-1)


class LinkPredictor(nn.Module):
    """Encoder (features, graph -> node embeddings ``[N, D]``) and pair decoder (-> logits).

    Args:
        encoder: a module ``encoder(x, edge_index) -> [N, D]``.
        decoder: a module ``decoder(z, pairs) -> [P]``.

    Shapes:
        - input: ``x`` ``[N, C]``, ``edge_index`` ``[2, E]``, ``pairs`` ``[2, P]``
        - output: logits ``[P]``
    """

    def __init__(self, encoder: nn.Module, decoder: nn.Module) -> None:
        super().__init__()
        self.encoder = encoder
        self.decoder = decoder

    def reset_parameters(self) -> None:
        self.encoder.reset_parameters()
        self.decoder.reset_parameters()

    def forward(self, x: Tensor, edge_index: Tensor, pairs: Tensor) -> Tensor:
        return self.decoder(self.encoder(x, edge_index), pairs)


def build_model(cfg: LinkConfig, num_features: int) -> LinkPredictor:
    """The spiking auto-encoder or its GAE twin (same widths and depth) with ``cfg.decoder``."""
    if cfg.model == "gae":
        encoder: nn.Module = GCN(
            num_features, cfg.hidden, cfg.out, num_layers=cfg.layers, dropout=cfg.dropout
        )
    elif cfg.model == "snn":
        encoder = SpikingGNN(
            num_features,
            cfg.hidden,
            cfg.out,
            num_layers=cfg.layers,
            T=cfg.T,
            dropout=cfg.dropout,
            scaling=cfg.scaling,
            decay=cfg.decay,
            threshold=cfg.threshold,
            surrogate=cfg.surrogate,
            readout=cfg.readout,
            target_rate=cfg.target_rate,
            cached=False,  # the graph changes between training, validation and test
        )
    else:
        raise ValueError(f"unknown model {cfg.model!r}; choose one of {MODELS}")
    if cfg.decoder == "dot":
        decoder: nn.Module = DotDecoder()
    elif cfg.decoder == "mlp":
        decoder = MLPDecoder(cfg.out)
    else:
        raise ValueError(f"unknown decoder {cfg.decoder!r}; choose one of {DECODERS}")
    return LinkPredictor(encoder, decoder)


# --- training ------------------------------------------------------------------------------------


@torch.no_grad()
def evaluate(model: LinkPredictor, stage: Data) -> dict[str, float]:
    """Metrics of one eval-mode pass on ``stage`` (its own message-passing edges)."""
    model.eval()
    logits = model(stage.x, stage.edge_index, stage.edge_label_index)
    label = stage.edge_label.bool()
    return link_metrics(logits[label], logits[~label])


@torch.no_grad()
def measure_firing(model: LinkPredictor, stage: Data) -> dict[str, Any] | None:
    """Firing statistics of the encoder's spiking layers in one eval pass on ``stage``."""
    if not isinstance(model.encoder, SpikingGNN):
        return None
    model.eval()
    with FiringMonitor(model.encoder) as monitor:
        model.encoder(stage.x, stage.edge_index)
    return monitor.summary()


def train_run(
    model: LinkPredictor,
    splits: tuple[Data, Data, Data],
    cfg: LinkConfig,
    seed: int,
    progress: bool = True,
) -> LinkRunResult:
    """Train from fresh parameters for ``cfg.epochs`` epochs, keep the epoch of best validation
    AUC, and score it on the test split."""
    train, val, test = splits
    _seed_all(seed)
    model.reset_parameters()
    opt = torch.optim.Adam(model.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay)
    pos = train.edge_label_index
    best_auc, best_epoch, best_state, best_val = -1.0, 0, None, None
    start = time.perf_counter()
    bar = tqdm(range(1, cfg.epochs + 1), desc=f"seed {seed}", disable=not progress, leave=False)
    for epoch in bar:
        model.train()
        opt.zero_grad()
        neg = negative_sampling(train.edge_index, train.num_nodes, pos.shape[1])
        pairs = torch.cat([pos, neg], 1)
        label = torch.cat([torch.ones(pos.shape[1]), torch.zeros(neg.shape[1])])
        logits = model(train.x, train.edge_index, pairs)
        loss = F.binary_cross_entropy_with_logits(logits, label)
        loss.backward()
        opt.step()
        if cfg.settle and cfg.model == "snn":
            settle(model.encoder, train.x, train.edge_index, passes=cfg.layers)
        ev = evaluate(model, val)
        if ev["auc"] > best_auc:
            best_auc, best_epoch, best_val = ev["auc"], epoch, ev
            best_state = copy.deepcopy(model.state_dict())
        bar.set_postfix(loss=f"{loss.item():.3f}", val_auc=f"{ev['auc']:.3f}")
    epoch_time = (time.perf_counter() - start) / cfg.epochs
    model.load_state_dict(best_state)
    te = evaluate(model, test)
    firing = measure_firing(model, test)
    return LinkRunResult(
        seed=seed,
        best_epoch=best_epoch,
        val_auc=best_val["auc"],
        val_ap=best_val["ap"],
        test_auc=te["auc"],
        test_ap=te["ap"],
        test_hits={k: v for k, v in te.items() if k.startswith("hits@")},
        epoch_time_s=epoch_time,
        firing_rate=None if firing is None else firing["firing_rate_mean"],
        firing=firing,
    )


def run_seed(cfg: LinkConfig, data: Data, seed: int, progress: bool = True) -> dict[str, Any]:
    """One seed: its own edge split and initialisation; the JSON report of that run."""
    if data.x is None or data.edge_index is None:
        raise ValueError("the graph needs node features x and an edge_index")
    torch.manual_seed(seed)
    splits = split_edges(data, seed, cfg.val_ratio, cfg.test_ratio)
    model = build_model(cfg, data.num_features)
    result = train_run(model, splits, cfg, seed, progress=progress)
    return {
        "config": {**asdict(cfg), "seed": seed},
        "result": asdict(result),
        "machine": machine_info(),
    }


def result_path(folder: Path, cfg: LinkConfig, seed: int, tag: str = "") -> Path:
    """``<folder>/<dataset>_<model>[_<tag>]_seed<seed>.json``."""
    name = f"{cfg.dataset.lower()}_{cfg.model}{'_' + tag if tag else ''}_seed{seed}.json"
    return folder / name


def summarize(folder: Path) -> list[dict[str, Any]]:
    """Rows ``dataset, model, auc_mean, ap_mean, auc_std, ap_std, val_auc_mean, firing_rate,
    seeds`` (and Hits@K means) from every per-seed JSON in ``folder`` (tagged runs are their own rows)."""
    groups: dict[tuple[str, str], list[dict]] = {}
    for path in sorted(folder.glob("*_seed*.json")):
        report = json.loads(path.read_text())
        cfg, res = report["config"], report["result"]
        tag = report.get("tag", "")
        model = cfg["model"] + (f" ({tag})" if tag else "")
        groups.setdefault((cfg["dataset"], model), []).append(res)
    rows = []
    for (dataset, model), results in sorted(groups.items()):
        aucs = [r["test_auc"] for r in results]
        aps = [r["test_ap"] for r in results]
        rates = [r["firing_rate"] for r in results if r["firing_rate"] is not None]
        row = {
            "dataset": dataset,
            "model": model,
            "auc_mean": statistics.fmean(aucs),
            "ap_mean": statistics.fmean(aps),
            "auc_std": statistics.stdev(aucs) if len(aucs) > 1 else 0.0,
            "ap_std": statistics.stdev(aps) if len(aps) > 1 else 0.0,
            "val_auc_mean": statistics.fmean(r["val_auc"] for r in results),
            "firing_rate": statistics.fmean(rates) if rates else None,
            "seeds": sorted(r["seed"] for r in results),
        }
        for k in results[0]["test_hits"]:
            row[f"{k}_mean"] = statistics.fmean(r["test_hits"][k] for r in results)
        rows.append(row)
    return rows


def _write_atomic(path: Path, obj: object) -> None:
    """Write JSON so that a concurrent run's :func:`summarize` never reads half a file."""
    tmp = path.with_name(f"{path.name}.{os.getpid()}.tmp")  # one per process
    tmp.write_text(json.dumps(obj, indent=2))
    tmp.replace(path)


# --- command line --------------------------------------------------------------------------------


def _rate_or_none(text: str) -> float | None:
    if text.lower() == "none":
        return None
    try:
        return float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a rate or 'none': {text!r}") from None


def parse_args(argv: list[str] | None = None) -> tuple[LinkConfig, argparse.Namespace]:
    d = LinkConfig()
    p = argparse.ArgumentParser(
        description="Link prediction (RandomLinkSplit 85/5/10) with a spiking auto-encoder "
        "or its GAE twin; AUC, AP and Hits@K at the epoch of best validation AUC"
    )
    p.add_argument("--dataset", choices=DATASETS, default=d.dataset)
    p.add_argument("--model", choices=MODELS, default=d.model)
    p.add_argument("--decoder", choices=DECODERS, default=d.decoder)
    p.add_argument("--runs", type=int, default=1, help="seeds seed..seed+runs-1")
    p.add_argument("--seed", type=int, default=d.seed)
    p.add_argument("--epochs", type=int, default=d.epochs)
    p.add_argument("--hidden", type=int, default=d.hidden)
    p.add_argument("--out", type=int, default=d.out, help="embedding size")
    p.add_argument("--layers", type=int, default=d.layers)
    p.add_argument("--dropout", type=float, default=d.dropout)
    p.add_argument("--lr", type=float, default=d.lr)
    p.add_argument("--weight-decay", type=float, default=d.weight_decay)
    p.add_argument("--T", type=int, default=d.T, help="SNN: time steps")
    p.add_argument(
        "--scaling",
        choices=SCALING_CHOICES,
        default=d.scaling,
        help="SNN: synaptic scaling shape ('none': off)",
    )
    p.add_argument(
        "--target-rate",
        type=_rate_or_none,
        default=d.target_rate,
        help="SNN: expected firing rate of the hidden layers ('none' or 0: free)",
    )
    p.add_argument("--threshold", type=float, default=d.threshold)
    p.add_argument("--decay", type=float, default=d.decay)
    p.add_argument("--readout", choices=["membrane", "rate"], default=d.readout)
    p.add_argument(
        "--settle",
        action="store_true",
        help="SNN: re-measure experience and rate gains after every step (spikegraph.synapse.settle)",
    )
    p.add_argument("--threads", type=int, default=None, help="torch CPU threads")
    p.add_argument("--root", default=None, help="folder with <Name>/raw/ (default: vendored)")
    p.add_argument("--json", type=Path, default=None, help="write the report of all runs here")
    p.add_argument(
        "--out-dir",
        type=Path,
        default=None,
        help="write one JSON per seed here as it finishes, skip seeds already there, and "
        "refresh <out-dir>/summary.json",
    )
    p.add_argument("--tag", default="", help="name of a variant in the per-seed file names")
    p.add_argument("--no-progress", action="store_true", help="no progress bars")
    args = p.parse_args(argv)
    for name in ("runs", "epochs", "hidden", "out", "layers", "T"):
        if getattr(args, name) < 1:
            p.error(f"--{name.replace('_', '-')} must be >= 1, got {getattr(args, name)}")
    if not 0.0 <= args.dropout < 1.0:
        p.error(f"--dropout must be in [0, 1), got {args.dropout}")
    if args.lr <= 0:
        p.error(f"--lr must be > 0, got {args.lr}")
    if args.target_rate is not None and args.target_rate > 1.0:
        p.error(f"--target-rate must be <= 1, got {args.target_rate}")
    if args.threads is not None and args.threads < 1:
        p.error(f"--threads must be >= 1, got {args.threads}")
    fields = {k: v for k, v in vars(args).items() if k in LinkConfig.__dataclass_fields__}
    fields["scaling"] = None if args.scaling == "none" else args.scaling
    if args.target_rate is not None and args.target_rate <= 0:
        fields["target_rate"] = None
    return LinkConfig(**fields), args


def main(argv: list[str] | None = None) -> dict[str, Any]:
    """Command-line entry point of ``examples/link_prediction.py``."""
    from spikegraph.datasets import load_planetoid

    cfg, args = parse_args(argv)
    if args.threads is not None:
        torch.set_num_threads(args.threads)
    data = load_planetoid(cfg.dataset, root=args.root)[0]
    reports = []
    seeds = range(cfg.seed, cfg.seed + args.runs)
    for seed in tqdm(seeds, desc=f"{cfg.dataset} {cfg.model}", disable=args.no_progress):
        path = None if args.out_dir is None else result_path(args.out_dir, cfg, seed, args.tag)
        if path is not None and path.exists():
            reports.append(json.loads(path.read_text()))
            continue
        report = run_seed(cfg, data, seed, progress=not args.no_progress)
        if args.tag:
            report["tag"] = args.tag
        reports.append(report)
        r = report["result"]
        print(
            f"{cfg.dataset} {cfg.model} seed {seed}: test AUC {100 * r['test_auc']:.2f} "
            f"AP {100 * r['test_ap']:.2f} (val AUC {100 * r['val_auc']:.2f}, epoch "
            f"{r['best_epoch']})"
            + ("" if r["firing_rate"] is None else f", firing {r['firing_rate']:.3f}")
        )
        if path is not None:
            path.parent.mkdir(parents=True, exist_ok=True)
            _write_atomic(path, report)
            _write_atomic(args.out_dir / "summary.json", summarize(args.out_dir))
    aucs = [r["result"]["test_auc"] for r in reports]
    aps = [r["result"]["test_ap"] for r in reports]
    out = {
        "config": asdict(cfg),
        "runs": [r["result"] for r in reports],
        "auc_mean": statistics.fmean(aucs),
        "auc_std": statistics.stdev(aucs) if len(aucs) > 1 else 0.0,
        "ap_mean": statistics.fmean(aps),
        "ap_std": statistics.stdev(aps) if len(aps) > 1 else 0.0,
        "machine": machine_info(),
    }
    print(
        f"{cfg.dataset} {cfg.model}: test AUC {100 * out['auc_mean']:.2f} ± "
        f"{100 * out['auc_std']:.2f}, AP {100 * out['ap_mean']:.2f} ± "
        f"{100 * out['ap_std']:.2f} over {len(reports)} seed(s)"
    )
    if args.json is not None:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(out, indent=2))
        print(f"report written to {args.json}")
    return out
