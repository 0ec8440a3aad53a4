"""Graph plumbing for spiking layers: adjacency formats, GCN normalisation, per-step sparse products."""

from __future__ import annotations

import warnings
from itertools import pairwise
from typing import NamedTuple

import torch
from torch import Tensor
from torch_geometric.nn.conv.gcn_conv import gcn_norm
from torch_geometric.utils import add_remaining_self_loops

from spikegraph.utils.checks import check_edge_index, check_edge_weight, compiling

try:  # optional accelerator
    import torch_scatter
except ImportError:  # pragma: no cover - depends on the environment
    torch_scatter = None

__all__ = [
    "HAS_TORCH_SCATTER",
    "CSR",
    "SynapseTable",
    "Adjacency",
    "prepare_adjacency",
    "spmm",
    "to_edge_index",
]

HAS_TORCH_SCATTER = torch_scatter is not None


def _is_sparse_tensor(adj: object) -> bool:
    return type(adj).__name__ == "SparseTensor" and hasattr(adj, "coo")


def to_edge_index(
    adj: Tensor, edge_weight: Tensor | None, num_nodes: int | tuple[int, int]
) -> tuple[Tensor, Tensor | None]:
    """Bring ``[2, E]`` edge indices, a torch sparse adjacency or a PyG ``SparseTensor`` to
    ``(edge_index, edge_weight)``, checked.

    A sparse adjacency follows PyG's transposed convention (``adj_t[i, j] != 0`` for an edge
    ``j -> i``) and carries its edge weights as values, so ``edge_weight`` must then be ``None``.
    ``num_nodes`` is ``(sources, targets)`` for a bipartite graph (``adj_t`` is then
    ``[targets, sources]``).
    """
    num_src, num_dst = _pair(num_nodes)
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
        check_edge_index(adj, num_src, num_dst)
        if edge_weight is not None:
            check_edge_weight(edge_weight, adj.shape[1])
        return adj.long(), edge_weight
    if adj_shape != (num_dst, num_src):
        raise ValueError(f"sparse adjacency must be [{num_dst}, {num_src}], got {adj_shape}")
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
    """A graph's synapses (input edges plus self-loops) with two CSR layouts: ``by_target``
    (rows = targets: the forward product) and ``by_source`` (its transpose: the backward
    product). The synapse order, that of ``edge_index``, ``weight`` and all per-edge state, is
    target-major (sorted by target, then source): the forward product's own order, so that
    per-step weights ``[T, E]`` enter it without a gather. ``input_order`` gives each synapse's
    column in the input (the self-loops added after the input's ``E`` edges: ``E, E+1, ...``).
    ``num_nodes`` counts the targets (the output's rows), ``num_sources`` the sources (the
    input's rows): the same but for a bipartite graph."""

    edge_index: Tensor
    weight: Tensor
    by_target: CSR
    by_source: CSR
    num_nodes: int
    input_order: Tensor
    num_sources: int

    @property
    def bipartite_size(self) -> tuple[int, int]:
        """``(sources, targets)``, PyG's ``size`` of the graph."""
        return self.num_sources, self.num_nodes


class SynapseTable(NamedTuple):
    """Where each synapse (source, target) of a graph keeps its per-edge state: the synapses in
    slot order plus a sorted key index to find them again in any column order or format."""

    synapses: Tensor  # [2, K] (source, target) of slot k
    sorted_keys: Tensor  # [K] the keys of the slots, sorted
    order: Tensor  # [K] the slot of each sorted key

    @classmethod
    def build(cls, synapses: Tensor) -> SynapseTable:
        sorted_keys, order = torch.sort(synapse_keys(synapses), stable=True)
        return cls(synapses, sorted_keys, order)

    def lookup(self, edge_index: Tensor) -> tuple[Tensor, Tensor]:
        """``(slot, found)`` for every column of ``edge_index`` ``[2, E]`` (slot is arbitrary
        where ``found`` is ``False``)."""
        keys = synapse_keys(edge_index)
        if not len(self.order):
            return torch.zeros_like(keys), torch.zeros_like(keys, dtype=torch.bool)
        pos = torch.searchsorted(self.sorted_keys, keys).clamp_(max=len(self.order) - 1)
        return self.order[pos], self.sorted_keys[pos] == keys

    def slots(self, edge_index: Tensor) -> Tensor:
        """The slot of every column of ``edge_index`` ``[2, E]``; raises for unknown synapses."""
        slots, found = self.lookup(edge_index)
        if not bool(found.all()):
            missing = int((~found).sum())
            j, i = edge_index[:, int((~found).nonzero()[0])].tolist()
            raise ValueError(
                f"{missing} synapses of this graph (e.g. {j} -> {i}) have no experience in this "
                f"layer, which knows {len(self.order)} synapses: pass the graph it was trained on "
                "(any order or format), move_experience() to the new graph, or "
                "reset_experience() to start afresh"
            )
        return slots


def synapse_keys(edge_index: Tensor) -> Tensor:
    """One int64 key per column of ``[2, E]``, equal exactly for equal (source, target) pairs."""
    return edge_index[1].long() * (1 << 32) + edge_index[0].long()


def _pair(num_nodes: int | tuple[int, int]) -> tuple[int, int]:
    """``(sources, targets)`` of a graph's size: one count for both, or a bipartite pair."""
    if isinstance(num_nodes, tuple | list):
        return int(num_nodes[0]), int(num_nodes[1])
    return num_nodes, num_nodes


def _csr_layout(row: Tensor, col: Tensor, num_rows: int, num_cols: int) -> CSR:
    perm = torch.argsort(row * num_cols + col, stable=True)
    rowptr = torch.zeros(num_rows + 1, dtype=torch.long, device=row.device)
    rowptr[1:] = torch.cumsum(torch.bincount(row, minlength=num_rows), 0)
    return CSR(rowptr, col[perm], perm)


def prepare_adjacency(
    edge_index: Tensor,
    edge_weight: Tensor | None,
    num_nodes: int | tuple[int, int],
    *,
    normalize: bool = True,
    add_self_loops: bool = True,
    dtype: torch.dtype = torch.float32,
) -> Adjacency:
    """Add self-loops (those missing), apply GCN normalisation and lay the result out in CSR.

    ``num_nodes`` is one count, or ``(sources, targets)`` for a bipartite graph, which has
    neither self-loops nor symmetric degrees: it needs ``normalize=False`` and
    ``add_self_loops=False``."""
    num_src, num_dst = _pair(num_nodes)
    if not isinstance(num_nodes, int) and (normalize or add_self_loops):
        raise ValueError(
            "a bipartite graph (two node sets) has no self-loops and no symmetric GCN degrees: "
            "use normalize=False and add_self_loops=False"
        )
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
    order = torch.argsort(dst * num_src + src, stable=True)  # target-major synapse order
    edge_index, weight = edge_index[:, order], weight[order]
    src, dst = edge_index
    rowptr = torch.zeros(num_dst + 1, dtype=torch.long, device=src.device)
    rowptr[1:] = torch.cumsum(torch.bincount(dst, minlength=num_dst), 0)
    by_target = CSR(rowptr, src, torch.arange(src.numel(), device=src.device))
    by_source = _csr_layout(src, dst, num_src, num_dst)
    return Adjacency(edge_index, weight, by_target, by_source, num_dst, order, num_src)


def _addmm_csr(
    rowptr: Tensor, col: Tensor, values: Tensor, h: Tensor, out: Tensor, accumulate: bool
) -> None:
    """``out = A @ h`` (or ``out += A @ h``) for the CSR matrix ``A = (rowptr, col, values)``.

    Writing into ``out`` matters on CPU: ``A @ h`` allocates, zero-fills and copies its result,
    which on a large graph costs a good fraction of the product itself."""
    shape = (rowptr.numel() - 1, h.shape[0])
    with warnings.catch_warnings():  # "CSR support is in beta": it is stable for what we use
        warnings.simplefilter("ignore", UserWarning)
        a = torch.sparse_csr_tensor(rowptr, col, values, shape, check_invariants=False)
    torch.addmm(out, a, h, beta=1 if accumulate else 0, out=out)


CACHE_BYTES = 4 << 20  # the features one row block may gather: about a core's share of cache


def _shared_features_matmul(
    rowptr: Tensor, col: Tensor, ordered: Tensor, h: Tensor, out: Tensor
) -> None:
    """``out[t] = A_t @ h`` for the CSR matrices ``(rowptr, col, ordered[t])`` (per-step
    weights ``[T, E]`` in CSR order) and one shared ``h``.

    On CPU the rows are taken in blocks and each block does all ``T`` steps before the next:
    the rows of ``h`` a block gathers are then still in cache for steps 2..T, which makes the
    products markedly faster on a large graph. Elsewhere: one block."""
    n, steps = rowptr.numel() - 1, ordered.shape[0]
    per_row = max(1, col.numel() // max(n, 1) * h.shape[1] * h.element_size())
    block = max(1, CACHE_BYTES // per_row) if h.device.type == "cpu" else max(n, 1)
    starts = list(range(0, n, block)) + [n]
    offsets = rowptr[starts].tolist()
    for (r0, r1), (p0, p1) in zip(pairwise(starts), pairwise(offsets), strict=True):
        block_rowptr, block_col = rowptr[r0 : r1 + 1] - p0, col[p0:p1]
        for t in range(steps):
            v_t, out_t = ordered[t, p0:p1], out[t, r0:r1]
            _addmm_csr(block_rowptr, block_col, v_t, h, out_t, accumulate=False)


def _values_at(values: Tensor, t: int) -> Tensor:  # [T, E] or [1, E] (shared) -> [E]
    return values[t if values.shape[0] > 1 else 0]


def _features_at(h: Tensor, t: int) -> Tensor:  # [T, N, F] or [N, F] (shared) -> [N, F]
    return h[t] if h.dim() == 3 else h


def _csr_products(
    rowptr: Tensor,
    col: Tensor,
    values: Tensor,
    h: Tensor,
    num_rows: int,
    sum_steps: bool,
) -> Tensor:
    """``A_t @ h_t`` for every step, ``A_t`` the CSR matrix ``(rowptr, col, values[t])`` with
    ``num_rows`` rows: ``[T, num_rows, F]``, or with ``sum_steps`` their sum ``[num_rows, F]``.
    ``values`` is ``[T, E]`` or ``[1, E]`` (shared by all steps) in the CSR order, ``h`` is
    ``[T, N, F]`` or ``[N, F]`` (shared)."""
    steps = max(values.shape[0], h.shape[0] if h.dim() == 3 else 1)
    if sum_steps:
        out = h.new_empty(num_rows, h.shape[-1])
        for t in range(steps):
            v_t, h_t = _values_at(values, t), _features_at(h, t)
            _addmm_csr(rowptr, col, v_t, h_t, out, accumulate=t > 0)
        return out
    out = h.new_empty(steps, num_rows, h.shape[-1])
    if h.dim() == 2 and values.shape[0] > 1:
        _shared_features_matmul(rowptr, col, values, h, out)
        return out
    for t in range(steps):
        v_t, h_t = _values_at(values, t), _features_at(h, t)
        _addmm_csr(rowptr, col, v_t, h_t, out[t], accumulate=False)
    return out


def _products_shape(rowptr, col, values, h, num_rows, sum_steps):  # noqa: ANN001, ANN202
    if sum_steps:
        return h.new_empty(num_rows, h.shape[-1])
    steps = max(values.shape[0], h.shape[0] if h.dim() == 3 else 1)
    return h.new_empty(steps, num_rows, h.shape[-1])


# The same products as one operator that torch.compile keeps whole (it cannot trace sparse
# tensors or the row blocks' read-back); eager calls skip the dispatcher. torch >= 2.4.
_csr_products_op = _csr_products
if hasattr(torch.library, "custom_op"):
    _csr_products_op = torch.library.custom_op("spikegraph::csr_products", mutates_args=())(
        _csr_products
    )
    _csr_products_op.register_fake(_products_shape)


def _products(layout: CSR, values: Tensor, h: Tensor, num_rows: int, sum_steps: bool) -> Tensor:
    """:func:`_csr_products` of ``layout``; ``values`` in its CSR order."""
    products = _csr_products_op if compiling() else _csr_products
    return products(layout.rowptr, layout.col, values, h, num_rows, sum_steps)


class _SpMM(torch.autograd.Function):
    """``A_t @ h_t`` for every step into one ``[T, N, F]`` output. ``values`` is ``[T, E]`` or
    ``[1, E]`` (shared by all steps), ``h`` is ``[T, N, F]`` or ``[N, F]`` (shared). The
    backward pass uses the stored transpose layout (no CSR conversion per call)."""

    @staticmethod
    def forward(ctx, adj: Adjacency, values: Tensor, h: Tensor) -> Tensor:
        ctx.adj = adj
        ctx.save_for_backward(values, h)
        # the forward layout's order is the synapse order: the weights enter without a gather
        return _products(adj.by_target, values, h, adj.num_nodes, sum_steps=False)

    @staticmethod
    def backward(ctx, grad: Tensor) -> tuple[None, Tensor | None, Tensor | None]:
        values, h = ctx.saved_tensors
        adj = ctx.adj
        grad_h = grad_values = None
        if ctx.needs_input_grad[2]:  # a shared h sums its steps' gradients
            layout, shared = adj.by_source, h.dim() == 2
            ordered = values[:, layout.perm]
            grad_h = _products(layout, ordered, grad, adj.num_sources, sum_steps=shared)
        if ctx.needs_input_grad[1]:  # rare: learnable edge weights or trace_grad=True
            src, dst = adj.edge_index
            steps = grad.shape[0]
            rows = [(grad[t][dst] * _features_at(h, t)[src]).sum(-1) for t in range(steps)]
            grad_values = torch.stack(rows)
            if values.shape[0] == 1:
                grad_values = grad_values.sum(0, keepdim=True)
        return None, grad_values, grad_h


def spmm(adj: Adjacency, values: Tensor, h: Tensor, backend: str = "torch") -> Tensor:
    r"""Aggregate :math:`\sum_{j \to i} w_{ji} h_j` along the synapses of ``adj``, for one step
    or for ``T`` steps at once.

    Args:
        adj: the graph from :func:`prepare_adjacency`.
        values: one weight per synapse, in synapse order: ``[E]``, or ``[T, E]`` per step.
        h: the sources' features ``[N, F]``, or ``[T, N, F]`` per step (``N`` =
            ``adj.num_sources``; the output has ``adj.num_nodes`` rows, the targets).
        backend: ``"torch"`` (CSR sparse-dense products forward and backward, written into
            one output: no ``[E, F]`` message tensor) or ``"torch_scatter"`` (gather the
            messages, then ``segment_csr``).

    Returns:
        ``[N, F]`` when both are single-step, else ``[T, N, F]``: each step aggregates its own
        features (or the shared ``h``) with its own weights (or the shared ``values``).
    """
    num_synapses = adj.edge_index.shape[1]
    if values.dim() not in (1, 2) or values.shape[-1] != num_synapses:
        raise ValueError(
            f"values must be [E] or [T, E] with E = {num_synapses}, got {tuple(values.shape)}"
        )
    if h.dim() not in (2, 3) or h.shape[-2] != adj.num_sources:
        raise ValueError(
            f"h must be [N, F] or [T, N, F] with N = {adj.num_sources} (the sources), "
            f"got {tuple(h.shape)}"
        )
    if values.dim() == 2 and h.dim() == 3 and values.shape[0] != h.shape[0]:
        raise ValueError(f"values has {values.shape[0]} steps but h has {h.shape[0]}")
    single = values.dim() == 1 and h.dim() == 2
    values = values.unsqueeze(0) if values.dim() == 1 else values
    if backend == "torch_scatter":
        out = _segment_steps(adj.by_target, values, h)
    else:
        out = _SpMM.apply(adj, values, h)
    return out[0] if single else out


def _segment_steps(layout: CSR, values: Tensor, h: Tensor) -> Tensor:
    steps = max(values.shape[0], h.shape[0] if h.dim() == 3 else 1)
    out = []
    for t in range(steps):  # the synapse order is the layout's: no gather
        v_t, h_t = _values_at(values, t), _features_at(h, t)
        messages = h_t[layout.col] * v_t.unsqueeze(-1)
        out.append(torch_scatter.segment_csr(messages, layout.rowptr, reduce="sum"))
    return torch.stack(out)
