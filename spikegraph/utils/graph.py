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
    "CSR",
    "Adjacency",
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


class CSR(NamedTuple):
    """One CSR layout of the synapses: ``perm`` sorts them by row, ``rowptr``/``col`` follow."""

    rowptr: Tensor
    col: Tensor
    perm: Tensor


class Adjacency(NamedTuple):
    """A graph's synapses (input edges plus self-loops) in synapse order, with two CSR layouts:
    ``by_target`` (rows = targets: the forward product) and ``by_source`` (its transpose: the
    backward product). ``edge_index``/``weight`` are in synapse order, the order of the per-edge
    state."""

    edge_index: Tensor
    weight: Tensor
    by_target: CSR
    by_source: CSR
    num_nodes: int


def _csr_layout(row: Tensor, col: Tensor, num_nodes: int) -> CSR:
    perm = torch.argsort(row * num_nodes + col, stable=True)
    rowptr = torch.zeros(num_nodes + 1, dtype=torch.long, device=row.device)
    rowptr[1:] = torch.cumsum(torch.bincount(row, minlength=num_nodes), 0)
    return CSR(rowptr, col[perm], perm)


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
    by_target = _csr_layout(dst, src, num_nodes)
    by_source = _csr_layout(src, dst, num_nodes)
    return Adjacency(edge_index, weight, by_target, by_source, num_nodes)


def _csr_matmul(layout: CSR, values: Tensor, h: Tensor) -> Tensor:
    n = layout.rowptr.numel() - 1
    with warnings.catch_warnings():  # "CSR support is in beta": it is stable for what we use
        warnings.simplefilter("ignore", UserWarning)
        a = torch.sparse_csr_tensor(
            layout.rowptr, layout.col, values[layout.perm], (n, n), check_invariants=False
        )
    return a @ h


class _SpMM(torch.autograd.Function):
    """``A @ h`` whose backward uses the stored transpose layout (no CSR conversion per call)."""

    @staticmethod
    def forward(ctx, adj: Adjacency, values: Tensor, h: Tensor) -> Tensor:
        ctx.adj = adj
        ctx.save_for_backward(values, h)
        return _csr_matmul(adj.by_target, values, h)

    @staticmethod
    def backward(ctx, grad: Tensor) -> tuple[None, Tensor | None, Tensor | None]:
        values, h = ctx.saved_tensors
        adj = ctx.adj
        grad_h = _csr_matmul(adj.by_source, values, grad) if ctx.needs_input_grad[2] else None
        grad_values = None
        if ctx.needs_input_grad[1]:  # rare: learnable edge weights or trace_grad=True
            src, dst = adj.edge_index
            grad_values = (grad[dst] * h[src]).sum(-1)
        return None, grad_values, grad_h


def spmm(adj: Adjacency, values: Tensor, h: Tensor, backend: str = "torch") -> Tensor:
    r"""Aggregate :math:`\sum_{j \to i} w_{ji} h_j` along the synapses of ``adj``.

    Args:
        adj: the graph from :func:`prepare_adjacency`.
        values: one weight per synapse, in synapse order, ``[E]``.
        h: node features ``[N, F]`` (or ``[N, T * F]`` for several steps sharing the weights).
        backend: ``"torch"`` (CSR sparse-dense products forward and backward: no ``[E, F]``
            message tensor) or ``"torch_scatter"`` (gather the messages, then ``segment_csr``).
    """
    if backend == "torch_scatter":
        layout = adj.by_target
        messages = h[layout.col] * values[layout.perm].unsqueeze(-1)
        return torch_scatter.segment_csr(messages, layout.rowptr, reduce="sum")
    return _SpMM.apply(adj, values, h)
