"""Graph plumbing for spiking layers: adjacency formats, GCN normalisation, per-step sparse products."""

from __future__ import annotations

import warnings
from typing import NamedTuple

import torch
from torch import Tensor
from torch_geometric.nn.conv.gcn_conv import gcn_norm
from torch_geometric.utils import add_remaining_self_loops

from spikegraph.utils.checks import check_edge_index, check_edge_weight

try:  # optional accelerator
    import torch_scatter
except ImportError:  # pragma: no cover - depends on the environment
    torch_scatter = None

__all__ = [
    "HAS_TORCH_SCATTER",
    "Adjacency",
    "csr_adjacency",
    "prepare_adjacency",
    "spmm",
    "to_edge_index",
]

HAS_TORCH_SCATTER = torch_scatter is not None


def _is_sparse_tensor(adj: object) -> bool:
    return type(adj).__name__ == "SparseTensor" and hasattr(adj, "coo")


def to_edge_index(
    adj: Tensor, edge_weight: Tensor | None, num_nodes: int
) -> tuple[Tensor, Tensor | None]:
    """Bring ``[2, E]`` edge indices, a torch sparse adjacency or a PyG ``SparseTensor`` to
    ``(edge_index, edge_weight)``, checked.

    A sparse adjacency follows PyG's transposed convention (``adj_t[i, j] != 0`` for an edge
    ``j -> i``) and carries its edge weights as values, so ``edge_weight`` must then be ``None``.
    """
    if _is_sparse_tensor(adj):
        row, col, value = adj.coo()
        adj_shape = tuple(adj.sizes())
        edge_index, values = torch.stack([col, row]), value
    elif isinstance(adj, Tensor) and adj.layout != torch.strided:
        coo = adj.to_sparse_coo().coalesce()
        adj_shape = tuple(coo.shape)
        row, col = coo.indices()
        edge_index, values = torch.stack([col, row]), coo.values()
    else:
        check_edge_index(adj, num_nodes)
        if edge_weight is not None:
            check_edge_weight(edge_weight, adj.shape[1])
        return adj.long(), edge_weight
    if adj_shape != (num_nodes, num_nodes):
        raise ValueError(f"sparse adjacency must be [{num_nodes}, {num_nodes}], got {adj_shape}")
    if edge_weight is not None:
        raise ValueError("a sparse adjacency carries its own edge weights; pass edge_weight=None")
    if values is not None and values.is_floating_point():
        check_edge_weight(values, edge_index.shape[1])
        edge_weight = values
    return edge_index, edge_weight


class Adjacency(NamedTuple):
    """A graph's synapses (input edges plus self-loops) and their CSR layout by target node.

    ``edge_index``/``weight`` are in synapse order (the order of the per-edge state);
    ``perm`` sorts synapses by (target, source), which ``rowptr``/``col`` describe.
    """

    edge_index: Tensor
    weight: Tensor
    rowptr: Tensor
    col: Tensor
    perm: Tensor
    num_nodes: int


def prepare_adjacency(
    edge_index: Tensor,
    edge_weight: Tensor | None,
    num_nodes: int,
    *,
    normalize: bool = True,
    add_self_loops: bool = True,
    dtype: torch.dtype = torch.float32,
) -> Adjacency:
    """Add self-loops (those missing), apply GCN normalisation and lay the result out in CSR."""
    if normalize:
        edge_index, weight = gcn_norm(
            edge_index, edge_weight, num_nodes, add_self_loops=add_self_loops, dtype=dtype
        )
    else:
        if edge_weight is None:
            edge_weight = torch.ones(edge_index.shape[1], dtype=dtype, device=edge_index.device)
        if add_self_loops:
            edge_index, edge_weight = add_remaining_self_loops(
                edge_index, edge_weight, 1.0, num_nodes
            )
        weight = edge_weight.to(dtype)
    src, dst = edge_index
    perm = torch.argsort(dst * num_nodes + src, stable=True)
    counts = torch.bincount(dst, minlength=num_nodes)
    rowptr = torch.zeros(num_nodes + 1, dtype=torch.long, device=edge_index.device)
    rowptr[1:] = torch.cumsum(counts, 0)
    return Adjacency(edge_index, weight, rowptr, src[perm], perm, num_nodes)


def csr_adjacency(adj: Adjacency, values: Tensor) -> Tensor:
    """The transposed adjacency (row = target) as a torch CSR tensor with one weight per synapse
    (``values`` in synapse order, ``[E]``)."""
    n = adj.num_nodes
    with warnings.catch_warnings():  # "CSR support is in beta": it is stable for what we use
        warnings.simplefilter("ignore", UserWarning)
        return torch.sparse_csr_tensor(
            adj.rowptr, adj.col, values[adj.perm], (n, n), check_invariants=False
        )


def spmm(adj_t: Tensor, h: Tensor, backend: str = "torch") -> Tensor:
    r"""Aggregate :math:`\sum_{j \to i} w_{ji} h_j` with a CSR adjacency from :func:`csr_adjacency`.

    Args:
        adj_t: transposed adjacency, torch sparse CSR ``[N, N]``.
        h: node features ``[N, F]`` (or ``[N, T * F]`` for several steps sharing the weights).
        backend: ``"torch"`` (a CSR sparse-dense product: no ``[E, F]`` message tensor) or
            ``"torch_scatter"`` (gather the messages, then ``segment_csr``).
    """
    if backend == "torch_scatter":
        messages = h[adj_t.col_indices()] * adj_t.values().unsqueeze(-1)
        return torch_scatter.segment_csr(messages, adj_t.crow_indices(), reduce="sum")
    return adj_t @ h
