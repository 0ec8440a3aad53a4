"""Neighbour sampling for mini-batches, with or without PyG's compiled samplers.

PyG's :class:`~torch_geometric.loader.NeighborLoader` samples with ``pyg-lib`` or
``torch-sparse``, neither of which a plain ``pip install`` brings. :func:`neighbor_loader` returns
that loader where one of them is installed and otherwise the same loader
(:class:`~torch_geometric.loader.NodeLoader`) driven by :class:`TorchNeighborSampler`, a
pure-torch sampler for homogeneous graphs: the batches have the same fields (``n_id``, ``e_id``,
``batch_size``, ``edge_index`` from sampled source to destination, the edge attributes of the
sampled edges) and, with every neighbour taken (``-1``), the same nodes and edges in the same
order.

Sampling (``k`` neighbours per node and hop): the seeds come first; at every hop each node found
in the hop before takes all of its incoming edges (``k = -1`` or ``k`` at least its in-degree)
or ``k`` of them drawn without replacement from torch's global generator, kept in the graph's
CSC order; the sources seen for the first time join the nodes in the order they first appear.
The subgraph holds exactly the sampled edges (PyG's ``subgraph_type="directional"``).
"""

from __future__ import annotations

import warnings
from typing import Any

import torch
import torch_geometric.typing
from torch import Tensor
from torch_geometric.data import Data
from torch_geometric.loader import NeighborLoader, NodeLoader
from torch_geometric.sampler import NeighborSampler, SamplerOutput

__all__ = ["HAS_COMPILED_SAMPLER", "TorchNeighborSampler", "neighbor_loader"]

HAS_COMPILED_SAMPLER: bool = bool(
    torch_geometric.typing.WITH_PYG_LIB or torch_geometric.typing.WITH_TORCH_SPARSE
)
"""Whether PyG's own ``NeighborLoader`` can sample here (``pyg-lib`` or ``torch-sparse``)."""


class TorchNeighborSampler(NeighborSampler):
    """PyG's :class:`~torch_geometric.sampler.NeighborSampler` with its sampling step in pure
    torch, for homogeneous graphs, without replacement, directional subgraphs, no time.

    Args:
        data: The graph (:class:`~torch_geometric.data.Data`).
        num_neighbors: Neighbours per hop, ``-1`` for all.
        **kwargs: Passed to :class:`~torch_geometric.sampler.NeighborSampler`; options that
            this sampler does not implement (``replace``, ``disjoint``, ``time_attr``,
            ``weight_attr``, an induced subgraph) raise a ``ValueError``.
    """

    def __init__(self, data: Data, num_neighbors: list[int], **kwargs: Any) -> None:
        if not isinstance(data, Data):
            raise ValueError("TorchNeighborSampler samples homogeneous graphs (Data) only")
        unsupported = {"replace", "disjoint", "time_attr", "weight_attr"}
        given = sorted(k for k in unsupported if kwargs.get(k))
        if given or kwargs.get("subgraph_type", "directional") != "directional":
            raise ValueError(
                f"TorchNeighborSampler does not implement {given or ['subgraph_type']}; "
                "install pyg-lib or torch-sparse for PyG's NeighborLoader"
            )
        with warnings.catch_warnings():  # PyG's advice to install pyg-lib: not needed here
            warnings.filterwarnings("ignore", message=".*pyg-lib.*")
            super().__init__(data, num_neighbors, **kwargs)

    def _sample(self, seed: Tensor, seed_time: Tensor | None = None, **kwargs) -> SamplerOutput:
        if isinstance(seed, dict) or seed_time is not None:
            raise ValueError("TorchNeighborSampler samples homogeneous graphs without time")
        colptr, row = self.colptr, self.row
        seed = seed.to(torch.long)
        if seed.unique().numel() != seed.numel():
            raise ValueError("the seed nodes of one batch must be distinct")
        local = torch.full((colptr.numel() - 1,), -1, dtype=torch.long)
        local[seed] = torch.arange(seed.numel())
        nodes, frontier, count = [seed], seed, seed.numel()
        rows, cols, edges, sampled_edges = [], [], [], []
        for k in self.num_neighbors.get_mapped_values():
            pos, dst = _in_edges(colptr, frontier, k)
            src = row[pos].to(torch.long)
            new = _first_appearances(src[local[src] < 0])
            local[new] = torch.arange(count, count + new.numel())
            count += new.numel()
            rows.append(local[src])
            cols.append(local[dst])
            edges.append(pos)
            nodes.append(new)
            sampled_edges.append(pos.numel())
            frontier = new
        return SamplerOutput(
            node=torch.cat(nodes),
            row=torch.cat(rows) if rows else torch.empty(0, dtype=torch.long),
            col=torch.cat(cols) if cols else torch.empty(0, dtype=torch.long),
            edge=torch.cat(edges) if edges else torch.empty(0, dtype=torch.long),
            batch=None,
            num_sampled_nodes=[n.numel() for n in nodes],
            num_sampled_edges=sampled_edges,
        )


def _in_edges(colptr: Tensor, nodes: Tensor, k: int) -> tuple[Tensor, Tensor]:
    """CSC positions of the incoming edges that ``nodes`` take (all, or ``k`` each at random,
    in CSC order), and each position's destination node."""
    start = colptr[nodes].to(torch.long)
    deg = colptr[nodes + 1].to(torch.long) - start
    group = torch.repeat_interleave(torch.arange(nodes.numel()), deg)
    first = torch.cumsum(deg, 0) - deg  # each node's first entry among the positions
    offset = torch.arange(group.numel()) - first[group]
    pos = start[group] + offset
    if k >= 0 and bool((deg > k).any()):
        # a random rank within each node's edges; keep the k lowest, then back to CSC order
        order = torch.argsort(
            group.to(torch.float64) + torch.rand(group.numel(), dtype=torch.float64)
        )
        rank = torch.empty_like(order)
        rank[order] = torch.arange(order.numel()) - first[group[order]]
        keep = rank < k
        pos, group = pos[keep], group[keep]
    return pos, nodes[group]


def _first_appearances(values: Tensor) -> Tensor:
    """The distinct ``values`` in the order of their first appearance."""
    if values.numel() == 0:
        return values
    unique, inverse = torch.unique(values, return_inverse=True)
    first = torch.full((unique.numel(),), values.numel(), dtype=torch.long)
    first.scatter_reduce_(0, inverse, torch.arange(values.numel()), reduce="amin")
    return unique[torch.argsort(first)]


def neighbor_loader(data: Data, num_neighbors: list[int], **kwargs: Any) -> NodeLoader:
    """PyG's :class:`~torch_geometric.loader.NeighborLoader` where ``pyg-lib`` or
    ``torch-sparse`` is installed, else the same loader over :class:`TorchNeighborSampler`.

    Args:
        data: The graph (:class:`~torch_geometric.data.Data`).
        num_neighbors: Neighbours per hop, ``-1`` for all.
        **kwargs: ``input_nodes``, ``batch_size``, ``shuffle``, ``batch_sampler``, ... as for
            ``NeighborLoader``.
    """
    if HAS_COMPILED_SAMPLER:
        return NeighborLoader(data, num_neighbors=num_neighbors, **kwargs)
    sampler_keys = {"replace", "subgraph_type", "disjoint", "time_attr", "weight_attr"}
    sampler_kwargs = {k: kwargs.pop(k) for k in list(kwargs) if k in sampler_keys}
    sampler = TorchNeighborSampler(data, list(num_neighbors), **sampler_kwargs)
    return NodeLoader(data, node_sampler=sampler, **kwargs)
