r"""The spiking graph convolution with adaptive synaptic scaling."""

from __future__ import annotations

import torch
from torch import Tensor, nn
from torch_geometric.nn import MessagePassing
from torch_geometric.nn.dense.linear import Linear

from spikegraph.neurons import get_neuron
from spikegraph.synapse import ScalingShape, SynapticScaling
from spikegraph.typing import Adj
from spikegraph.utils.checks import check_sequence
from spikegraph.utils.graph import (
    HAS_TORCH_SCATTER,
    Adjacency,
    prepare_adjacency,
    spmm,
    to_edge_index,
)

__all__ = ["SpikingASConv", "node_drive"]

BACKENDS = ("torch", "torch_scatter")


def node_drive(x: Tensor) -> Tensor:
    """Presynaptic activity per node and step, :math:`a_j(t) = \\min(1, \\mathrm{mean}_c |x_{jc}(t)|)`:
    the fraction of a node's channels that fire, for spike inputs. ``[T, N, C] -> [T, N]``."""
    nonnegative = not x.requires_grad and x.numel() > 0 and bool(x.min() >= 0)
    magnitude = x if nonnegative else x.abs()  # spikes are their own magnitude: no copy
    return magnitude.mean(-1).clamp(max=1.0)


class SpikingASConv(MessagePassing):
    r"""Spiking graph convolution whose edges scale themselves adaptively (after AS-SNN,
    Xu et al., IEEE TNNLS 2025).

    Every edge :math:`e = (j \to i)` is a synapse. At step :math:`t` it carries the GCN-normalised
    weight :math:`\hat w_e` scaled by :math:`f(x_e(t-1))`, a nonparametric function of its
    intensity trace (:mod:`spikegraph.synapse`), and node :math:`i` integrates

    .. math::
        I_i(t) = \sum_{e = (j \to i)} \hat w_e\, f\bigl(x_e(t-1)\bigr)\, \bigl(W x_j(t)\bigr) + b,
        \qquad s_i(t) = \mathrm{LIF}(I_i(1..t)).

    The trace is driven by :math:`a_j(t)` (:func:`node_drive`) and records the intensity the edge
    transmitted, :math:`u_e(t) = \min(1, a_j(t) f(x_e(t-1)))`; it is one scalar per edge and step,
    never a ``[T, E, F]`` tensor. The scale multiplies the weight, so
    :math:`\partial L/\partial W` carries :math:`f(x_e(t-1))`; the trace itself is detached unless
    ``trace_grad=True``. The per-edge long-term experience lives in ``self.scaling`` (a
    :class:`~spikegraph.synapse.SynapticScaling`) and is sized to the graph's synapses (edges plus
    added self-loops) on the first training call. No other state survives between calls.

    **Mini-batches.** For a subgraph of a larger graph (e.g. from PyG's ``NeighborLoader``),
    pass ``e_id``, the global id of every edge: the experience is then read and updated at those
    ids, so mini-batch training updates the same per-edge state as full-batch training. Size it
    first with ``reset_experience(num_edges)`` of the full graph. Every synapse needs a global id,
    so add self-loops to the full graph (``add_self_loops=False`` here); for the same outputs as
    full batch, normalise the full graph too (``normalize=False`` and its weights ``[e_id]``).

    Args:
        in_channels: input channels :math:`C_{in}`.
        out_channels: output channels :math:`C_{out}`.
        scaling: a shape name (``"tent"``, ``"homeostatic"``, ``"gaussian"``, ``"linear"``), a
            :class:`~spikegraph.synapse.ScalingShape`, or ``None`` to turn scaling off.
        neuron: ``"lif"``, ``"if"``, a neuron module (default ``LIF()``), or ``None`` to return
            the synaptic currents instead of spikes (for a membrane read-out layer).
        normalize: apply symmetric GCN normalisation (default ``True``).
        add_self_loops: add the missing self-loops (default ``True``).
        bias: learn an additive bias on the current.
        trace_decay: :math:`\lambda_c` of the trace (``1.0``: running count).
        prior_weight: pseudo-count of the experience in the trace.
        experience_momentum: update rate of the experience in training.
        trace_grad: let gradients flow through the trace.
        backend: sparse product: ``"torch"`` (CSR products, the default and the faster on
            CPU: see ``benchmarks/``) or ``"torch_scatter"`` (gather + ``segment_csr``; needs
            the torch-scatter package).
        cached: keep the normalised adjacency of the first call and reuse it (transductive
            learning on one fixed graph, as ``GCNConv(cached=True)``); the graph is then not
            re-checked on later calls.
        **kwargs: passed to :class:`torch_geometric.nn.MessagePassing`.

    Shapes:
        - input: ``x`` ``[T, N, C_in]`` spikes or currents; ``edge_index`` ``[2, E]`` or a sparse
          ``[N, N]`` adjacency; ``edge_weight`` ``[E]`` or ``None``; ``e_id`` ``[E]`` or ``None``
        - output: spikes ``[T, N, C_out]`` of 0./1. (currents with ``neuron=None``)

    **Cost.** A repeated input (a stride-0 view, as :func:`~spikegraph.encoders.repeat` returns)
    is transformed once; without scaling it is also aggregated once, and the currents are then
    a view of one step over time (read-only: ``.clone()`` it before writing in place). With
    scaling every step has its own edge weights and costs one sparse product forward and one
    backward; ``benchmarks/spiking_conv.py`` measures both against PyG's ``GCNConv``.
    """

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        *,
        scaling: str | ScalingShape | None = "tent",
        neuron: str | nn.Module | None = "lif",
        normalize: bool = True,
        add_self_loops: bool = True,
        bias: bool = True,
        trace_decay: float = 1.0,
        prior_weight: float = 1.0,
        experience_momentum: float = 0.1,
        trace_grad: bool = False,
        backend: str = "torch",
        cached: bool = False,
        **kwargs,
    ) -> None:
        kwargs.setdefault("aggr", "add")
        super().__init__(**kwargs)
        if backend not in BACKENDS:
            raise ValueError(f"unknown backend {backend!r}; choose one of {BACKENDS}")
        if backend == "torch_scatter" and not HAS_TORCH_SCATTER:
            raise ImportError("backend='torch_scatter' needs the torch-scatter package")
        self.in_channels = in_channels
        self.out_channels = out_channels
        self.normalize = normalize
        self.add_self_loops = add_self_loops
        self.backend = backend
        self.cached = cached
        self._cached_adj: Adjacency | None = None
        self.lin = Linear(in_channels, out_channels, bias=False, weight_initializer="glorot")
        self.bias = nn.Parameter(torch.empty(out_channels)) if bias else None
        self.neuron = None if neuron is None else get_neuron(neuron)
        self.scaling = SynapticScaling(
            scaling,
            decay=trace_decay,
            prior_weight=prior_weight,
            experience_momentum=experience_momentum,
            trace_grad=trace_grad,
        )
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """Re-initialise the weights and forget the experience (its size is kept)."""
        super().reset_parameters()
        self._cached_adj = None
        self.lin.reset_parameters()
        if self.bias is not None:
            nn.init.zeros_(self.bias)
        self.scaling.reset_experience(self.scaling.num_synapses)

    def reset_experience(self, num_synapses: int | None = None) -> None:
        """Forget the long-term experience, e.g. before moving to another graph."""
        self.scaling.reset_experience(num_synapses)

    def forward(
        self,
        x: Tensor,
        edge_index: Adj,
        edge_weight: Tensor | None = None,
        e_id: Tensor | None = None,
    ) -> Tensor:
        current = self.synaptic_current(x, edge_index, edge_weight, e_id)
        return current if self.neuron is None else self.neuron(current)

    def synaptic_current(
        self,
        x: Tensor,
        edge_index: Adj,
        edge_weight: Tensor | None = None,
        e_id: Tensor | None = None,
    ) -> Tensor:
        """The input current :math:`I(t)` of every node before the neuron, ``[T, N, C_out]``."""
        check_sequence(x, self.in_channels)
        if x.dim() != 3:
            raise ValueError(f"x must have shape [T, N, C], got {tuple(x.shape)}")
        T, N, _ = x.shape
        e_id = e_id if self.scaling.enabled else None  # without scaling, no per-edge state
        if e_id is not None:
            self._check_global_ids(edge_index, e_id)
        adj = self.adjacency(edge_index, edge_weight, N, x.dtype)
        if e_id is not None and adj.edge_index.shape[1] != e_id.numel():
            raise ValueError(
                f"the layer added {adj.edge_index.shape[1] - e_id.numel()} self-loops that have "
                "no global id in e_id: add self-loops to the full graph once (e.g. gcn_norm) "
                "and build the layer with add_self_loops=False"
            )
        # One input repeated over time (a stride-0 view, as encoders.repeat returns) is
        # transformed once; its steps then differ only through the scaling.
        repeated = T > 1 and x.stride(0) == 0
        x_in = x[0] if repeated else x
        h = self.lin(x_in)  # [N, C_out] or [T, N, C_out]
        a = node_drive(x_in if self.scaling.trace_grad else x_in.detach())  # [N] or [T, N]
        scale = self.scaling(a[..., adj.edge_index[0]].expand(T, -1), index=e_id)  # [T, E]
        values = adj.weight if scale is None else adj.weight * scale
        out = spmm(adj, values, h, backend=self.backend)
        if self.bias is not None:
            out.add_(self.bias)  # in place: the product's backward does not need its output
        return out.expand(T, N, -1)  # a view over time when every step is the same

    def adjacency(
        self,
        edge_index: Adj,
        edge_weight: Tensor | None,
        num_nodes: int,
        dtype: torch.dtype = torch.float32,
    ) -> Adjacency:
        """The synapses this layer sees for a graph: checked, self-loops added, normalised, in
        CSR (the cached one with ``cached=True``)."""
        if self._cached_adj is not None:
            if self._cached_adj.num_nodes != num_nodes:
                raise ValueError(
                    f"cached=True holds a graph of {self._cached_adj.num_nodes} nodes but x has "
                    f"{num_nodes}; call reset_parameters() (or use cached=False) for a new graph"
                )
            return self._cached_adj
        edge_index, edge_weight = to_edge_index(edge_index, edge_weight, num_nodes)
        adj = prepare_adjacency(
            edge_index,
            edge_weight,
            num_nodes,
            normalize=self.normalize,
            add_self_loops=self.add_self_loops,
            dtype=dtype,
        )
        if self.cached:
            self._cached_adj = adj
        return adj

    def _check_global_ids(self, edge_index: Adj, e_id: Tensor) -> None:
        if not isinstance(edge_index, Tensor) or edge_index.is_sparse or edge_index.dim() != 2:
            raise ValueError("e_id needs edge_index as a [2, E] tensor (its order names the ids)")
        if self.cached:
            raise ValueError(
                "e_id (mini-batches) and cached=True (one fixed graph) exclude each other"
            )
        if e_id.shape != (edge_index.shape[1],):
            raise ValueError(
                f"e_id must hold one global id per edge, shape ({edge_index.shape[1]},), "
                f"got {tuple(e_id.shape)}"
            )

    def __repr__(self) -> str:
        shape = self.scaling.shape
        return (
            f"{type(self).__name__}({self.in_channels}, {self.out_channels}, "
            f"scaling={shape!r}, neuron={self.neuron!r}, normalize={self.normalize})"
        )
