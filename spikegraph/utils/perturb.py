"""Seeded test-time perturbations of graphs: feature bit flips, edge deletion and insertion,
input-intensity scaling.

Each function returns new tensors and never modifies its input. Random draws come from a
``torch.Generator`` (or an int seed for one) on the CPU, so a seed reproduces the same
perturbation on any device; results are moved back to the input's device. What ``level`` means:

- ``flip``: fraction of the entries of a binary feature matrix that are flipped (0 <-> 1),
  exactly ``round(level * x.numel())`` of them. Levels 0 ... 0.5.
- ``drop_edges``: fraction of the edges deleted. The unit is the *undirected pair* when the
  graph is symmetric (both directions go together, so the graph stays symmetric), otherwise the
  directed edge: ``round(level * units)`` units are deleted. Levels 0 ... 1.
- ``add_edges``: new random edges, as a fraction of the existing ones, with the same unit:
  ``round(level * units)`` new pairs (both directions) or directed edges, never a self-loop or a
  duplicate. Levels 0 ... 1.
- ``intensity``: factor multiplying the input features (1 is the clean input). Levels 0.25 ... 4.

:data:`GRAPH_LEVELS` lists the levels the experiments sweep, and :data:`CLEAN_LEVEL` the level
that leaves the input unchanged. Perturbations of event frames and raw events live in
:mod:`spikegraph.events.perturb`.
"""

from __future__ import annotations

import copy
import math
from collections.abc import Callable

import torch
from torch import Tensor
from torch_geometric.data import Data
from torch_geometric.utils import is_undirected

from spikegraph.utils.checks import check_edge_index

__all__ = [
    "GRAPH_LEVELS",
    "CLEAN_LEVEL",
    "GRAPH_PERTURBATIONS",
    "flip_features",
    "drop_edges",
    "add_edges",
    "scale_intensity",
    "perturb_graph",
]

GeneratorLike = torch.Generator | int | None

GRAPH_LEVELS: dict[str, tuple[float, ...]] = {
    "flip": (0.0, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5),
    "drop_edges": (0.0, 0.1, 0.25, 0.5, 0.75, 1.0),
    "add_edges": (0.0, 0.1, 0.25, 0.5, 0.75, 1.0),
    "intensity": (0.25, 0.5, 1.0, 2.0, 4.0),
}
CLEAN_LEVEL: dict[str, float] = {"flip": 0.0, "drop_edges": 0.0, "add_edges": 0.0, "intensity": 1.0}


def _generator(generator: GeneratorLike) -> torch.Generator | None:
    if isinstance(generator, int) and not isinstance(generator, bool):
        return torch.Generator().manual_seed(generator)
    return generator


def _check_fraction(name: str, level: float) -> None:
    if not (isinstance(level, (int, float)) and 0.0 <= level <= 1.0):
        raise ValueError(f"{name} level is a fraction in [0, 1], got {level!r}")


def flip_features(x: Tensor, level: float, generator: GeneratorLike = None) -> Tensor:
    """Flip exactly ``round(level * x.numel())`` entries of a binary feature matrix (0 <-> 1).

    Raises:
        ValueError: ``level`` is outside ``[0, 1]`` or ``x`` holds values other than 0 and 1.
    """
    _check_fraction("flip", level)
    if not bool(((x == 0) | (x == 1)).all()):
        raise ValueError("flip_features needs binary features (only 0 and 1)")
    k = round(level * x.numel())
    index = torch.randperm(x.numel(), generator=_generator(generator))[:k].to(x.device)
    out = x.clone().reshape(-1)
    out[index] = 1 - out[index]
    return out.reshape(x.shape)


def _units(edge_index: Tensor, num_nodes: int) -> tuple[Tensor, int, bool]:
    """Unit id of every edge (its undirected pair if the graph is symmetric, else itself)."""
    if edge_index.shape[1] and is_undirected(edge_index, num_nodes=num_nodes):
        lo, hi = edge_index.min(0).values, edge_index.max(0).values
        keys, unit = torch.unique(lo * num_nodes + hi, return_inverse=True)
        return unit.cpu(), keys.numel(), True
    return torch.arange(edge_index.shape[1]), edge_index.shape[1], False


def drop_edges(
    edge_index: Tensor, level: float, generator: GeneratorLike = None, num_nodes: int | None = None
) -> Tensor:
    """Delete ``round(level * units)`` random edges (undirected pairs of a symmetric graph,
    directed edges otherwise; module docstring). The kept edges keep their order.

    Args:
        edge_index: ``[2, E]`` edges.
        level: fraction of the units to delete, in ``[0, 1]``.
        generator: a ``torch.Generator`` or an int seed.
        num_nodes: number of nodes (default: ``edge_index.max() + 1``).
    """
    _check_fraction("drop_edges", level)
    num_nodes = _num_nodes(edge_index, num_nodes)
    unit, count, _ = _units(edge_index, num_nodes)
    dropped = torch.zeros(count, dtype=torch.bool)
    dropped[torch.randperm(count, generator=_generator(generator))[: round(level * count)]] = True
    return edge_index[:, ~dropped[unit].to(edge_index.device)]


def add_edges(
    edge_index: Tensor, num_nodes: int, level: float, generator: GeneratorLike = None
) -> Tensor:
    """Append ``round(level * units)`` random new edges (module docstring): uniform over the
    node pairs that are not yet connected, never a self-loop or a duplicate. A symmetric graph
    gets both directions of each new pair and stays symmetric.

    Raises:
        ValueError: a bad level, or more new edges than there are free node pairs.
    """
    _check_fraction("add_edges", level)
    check_edge_index(edge_index, num_nodes)
    _, count, symmetric = _units(edge_index, num_nodes)
    k = round(level * count)
    src, dst = edge_index.cpu()
    taken = src * num_nodes + dst
    if symmetric:
        taken = torch.minimum(src, dst) * num_nodes + torch.maximum(src, dst)
    free = num_nodes * (num_nodes - 1) // (2 if symmetric else 1) - torch.unique(taken).numel()
    if k > free:
        raise ValueError(f"cannot add {k} edges: only {free} node pairs are free")
    new = _draw_pairs(num_nodes, k, torch.unique(taken), symmetric, _generator(generator))
    if symmetric:
        new = torch.cat([new, new.flip(0)], 1)
    return torch.cat([edge_index, new.to(edge_index)], 1)


def _draw_pairs(
    n: int, k: int, taken: Tensor, symmetric: bool, generator: torch.Generator | None
) -> Tensor:
    """``k`` distinct new pairs ``[2, k]`` by rejection: none in ``taken``, no self-loops."""
    keys = torch.empty(0, dtype=torch.long)
    while keys.numel() < k:
        draw = torch.randint(0, n, (2, 2 * (k - keys.numel()) + 16), generator=generator)
        a, b = (draw.min(0).values, draw.max(0).values) if symmetric else (draw[0], draw[1])
        cand = (a * n + b)[a != b]
        cand = cand[~torch.isin(cand, taken) & ~torch.isin(cand, keys)]
        # keep first occurrences only, in draw order (unique alone would sort them)
        uniq, inv = torch.unique(cand, return_inverse=True)
        first = torch.full((uniq.numel(),), cand.numel()).scatter_reduce(
            0, inv, torch.arange(cand.numel()), "amin"
        )
        keys = torch.cat([keys, cand[first.sort().values]])[:k]
    return torch.stack([keys // n, keys % n])


def _num_nodes(edge_index: Tensor, num_nodes: int | None) -> int:
    if num_nodes is None:
        num_nodes = int(edge_index.max()) + 1 if edge_index.numel() else 0
    check_edge_index(edge_index, num_nodes)
    return num_nodes


def scale_intensity(x: Tensor, factor: float) -> Tensor:
    """Multiply the input features by ``factor`` (>= 0): a brighter or dimmer input."""
    if not (isinstance(factor, (int, float)) and math.isfinite(factor) and factor >= 0):
        raise ValueError(f"intensity factor must be a finite number >= 0, got {factor!r}")
    return x * factor


GRAPH_PERTURBATIONS: dict[str, Callable[[Data, float, GeneratorLike], dict[str, Tensor]]] = {
    "flip": lambda d, lv, g: {"x": flip_features(d.x, lv, g)},
    "drop_edges": lambda d, lv, g: {"edge_index": drop_edges(d.edge_index, lv, g, d.num_nodes)},
    "add_edges": lambda d, lv, g: {"edge_index": add_edges(d.edge_index, d.num_nodes, lv, g)},
    "intensity": lambda d, lv, g: {"x": scale_intensity(d.x, lv)},
}


def perturb_graph(name: str, data: Data, level: float, generator: GeneratorLike = None) -> Data:
    """A shallow copy of ``data`` with ``x`` or ``edge_index`` perturbed by ``name`` at ``level``.

    Args:
        name: one of :data:`GRAPH_PERTURBATIONS` (``"flip"``, ``"drop_edges"``, ``"add_edges"``,
            ``"intensity"``).
        data: a PyG ``Data`` with ``x`` and ``edge_index``.
        level: the perturbation level (module docstring).
        generator: a ``torch.Generator`` or an int seed.

    Raises:
        ValueError: an unknown name or a bad level.
    """
    if name not in GRAPH_PERTURBATIONS:
        raise ValueError(
            f"unknown perturbation {name!r}; choose one of {list(GRAPH_PERTURBATIONS)}"
        )
    out = copy.copy(data)  # shares the untouched tensors
    for key, value in GRAPH_PERTURBATIONS[name](data, level, generator).items():
        out[key] = value
    return out
