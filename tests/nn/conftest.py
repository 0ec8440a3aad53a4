"""A by-hand reference of the graph layer's documented equation, for tests that compare
:class:`~spikegraph.nn.SpikingASConv` with it.

The reference follows the class docstring and ``docs/guides/method.md`` and shares no code
with the layer: a dense adjacency with the missing self-loops added and GCN normalisation done
by hand, the per-edge coincidence drive and running-mean trace in plain Python loops, the
scaling shape written out as a formula, and LIF neurons with soft reset by hand.
"""

from __future__ import annotations

import math
import sys
from collections.abc import Callable
from dataclasses import dataclass
from types import ModuleType

import pytest
import torch
from torch import Tensor

from spikegraph.synapse import SILENT

Synapse = tuple[int, int]  # (source j, target i)
ScaleByHand = Callable[[float, float], float]  # (intensity x(t-1), experience e) -> f


def relative(alpha: float = 1.0, lo: float = 0.5, hi: float = 2.0) -> ScaleByHand:
    """``Relative``: clip(1 + alpha (1 - x/e), 1/2, 2), read through ``SILENT`` (trace.py)."""
    return lambda x, e: min(hi, max(lo, 1.0 + alpha * (1.0 - (x + SILENT) / (e + SILENT))))


def homeostatic(
    target: float = 0.1, alpha: float = 2.0, lo: float = 0.25, hi: float = 2.0
) -> ScaleByHand:
    """``Homeostatic``: clip(1 + alpha (x_t - x), 1/4, 2)."""
    return lambda x, e: min(hi, max(lo, 1.0 + alpha * (target - x)))


@dataclass
class ByHand:
    current: Tensor  # [T, N, C_out], float64
    spikes: Tensor  # [T, N, C_out]
    margin: float  # smallest |v - threshold| met: how far the spikes are from a coin toss
    synapses: list[Synapse]  # every synapse, self-loops included
    prior: dict[Synapse, float]  # the experience each synapse's trace started from
    mean_intensity: dict[Synapse, float]  # its intensity averaged over the steps


def spiking_gcn(
    x: Tensor,
    edges: list[Synapse],
    weights: list[float],
    lin_weight: Tensor,
    bias: Tensor,
    f: ScaleByHand | None,
    experience: dict[Synapse, float] | None,
    *,
    prior_weight: float = 1.0,
    lif_decay: float = 0.5,
    threshold: float = 0.3,
) -> ByHand:
    r"""The documented layer: :math:`I_i(t) = \sum_{j \to i} \hat w_{ij} f(x_{ij}(t-1))
    (W x_j(t)) + b`, then LIF.

    ``edges`` must hold no self-loops and no duplicates. ``experience=None`` is a synapse seen
    for the first time by a relative shape: it starts from its mean coincidence of the call.
    """
    x = x.double()
    steps, n, _ = x.shape
    adj = torch.zeros(n, n, dtype=torch.float64)  # adj[i, j]: the weight of j -> i
    for (j, i), w in zip(edges, weights, strict=True):
        adj[i, j] = w
    adj += torch.eye(n, dtype=torch.float64)  # the missing self-loops, weight 1
    deg = adj.sum(1)  # weighted in-degree with the self-loop
    norm = adj / (deg[:, None] * deg[None, :]).sqrt()  # D^-1/2 (A + I) D^-1/2
    synapses = [(j, i) for i in range(n) for j in range(n) if adj[i, j] != 0]
    drive = x.abs().mean(-1).clamp(max=1.0)  # a_n(t): the fraction of channels firing
    scale = torch.ones(steps, n, n, dtype=torch.float64)
    prior, mean_intensity = {}, {}
    for j, i in synapses if f is not None else []:
        coincidence = [float(drive[t, j] * drive[t, i]) for t in range(steps)]
        e = sum(coincidence) / steps if experience is None else experience[(j, i)]
        carried, count, previous, intensities = prior_weight * e, prior_weight, e, []
        for t in range(steps):
            s = f(previous, e)
            scale[t, i, j] = s
            carried += min(1.0, coincidence[t] * s)  # running count: decay 1
            count += 1.0
            previous = carried / count
            intensities.append(previous)
        prior[(j, i)] = e
        mean_intensity[(j, i)] = sum(intensities) / steps
    h = x @ lin_weight.detach().double().T  # [T, N, C_out]
    current = (norm * scale) @ h + bias.detach().double()
    v, spikes, margin = torch.zeros_like(current[0]), [], math.inf
    for i_t in current:
        v = lif_decay * v + i_t
        margin = min(margin, float((v - threshold).abs().min()))
        fired = (v >= threshold).double()
        spikes.append(fired)
        v = v - threshold * fired
    return ByHand(current, torch.stack(spikes), margin, synapses, prior, mean_intensity)


@torch.no_grad()
def set_parameters(conv: torch.nn.Module, seed: int = 0) -> None:
    """Weights and bias from their own generator: the reference's spikes then do not depend on
    how many random numbers the layer's construction drew."""
    gen = torch.Generator().manual_seed(seed)
    conv.lin.weight.copy_(0.6 * torch.randn(conv.lin.weight.shape, generator=gen))
    conv.bias.copy_(0.2 * torch.randn(conv.bias.shape, generator=gen))


# a directed graph on 5 nodes without self-loops, every edge with its own weight
WEIGHTED = [
    ((0, 1), 0.5),
    ((1, 0), 1.5),
    ((1, 2), 2.0),
    ((3, 2), 0.7),
    ((2, 4), 1.2),
    ((4, 3), 0.9),
    ((0, 4), 0.3),
    ((3, 1), 1.1),
]


def weighted_graph() -> tuple[list[Synapse], list[float], Tensor, Tensor]:
    """:data:`WEIGHTED` as lists for the reference and as ``(edge_index, edge_weight)``."""
    edges, weights = zip(*WEIGHTED, strict=True)
    return list(edges), list(weights), torch.tensor(edges).T, torch.tensor(weights)


def graph_forms(edge_index: Tensor, weight: Tensor, n: int) -> dict[str, tuple]:
    """The same weighted graph as ``(adjacency, edge_weight)`` in other column orders and as
    a sparse adjacency ``[N_dst, N_src]`` (torch COO, CSR, and ``SparseTensor`` if installed)."""
    perm = torch.randperm(weight.numel(), generator=torch.Generator().manual_seed(1))
    coo = torch.sparse_coo_tensor(edge_index.flip(0), weight, (n, n))
    forms = {
        "shuffled columns": (edge_index[:, perm], weight[perm]),
        "reversed columns": (edge_index.flip(1), weight.flip(0)),
        "torch COO": (coo, None),
        "torch CSR": (coo.to_sparse_csr(), None),
    }
    try:
        from torch_sparse import SparseTensor

        forms["SparseTensor"] = (SparseTensor.from_torch_sparse_coo_tensor(coo), None)
    except ImportError:
        pass
    return forms


def node_spikes(
    T: int = 5, C: int = 6, rates: tuple[float, ...] = (0.2, 0.8, 0.5, 0.35, 0.65), seed: int = 0
) -> Tensor:
    """Spikes ``[T, N, C]`` whose nodes fire at different rates (different coincidences)."""
    gen = torch.Generator().manual_seed(seed)
    return (torch.rand(T, len(rates), C, generator=gen) < torch.tensor(rates)[:, None]).float()


@pytest.fixture
def by_hand() -> ModuleType:
    """This module: :func:`spiking_gcn` and its shapes, graph and inputs (test modules
    run in importlib mode and cannot import each other)."""
    return sys.modules[__name__]
