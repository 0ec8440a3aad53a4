r"""The spiking graph convolution with adaptive synaptic scaling."""

from __future__ import annotations

import warnings

import torch
from torch import Tensor, nn
from torch_geometric.nn import MessagePassing
from torch_geometric.nn.dense.linear import Linear

from spikegraph.neurons import get_neuron
from spikegraph.nn.conv.drives import DRIVES, node_drive
from spikegraph.nn.conv.edge_state import EXPERIENCE_MODES, EdgeExperience, SynapseSlots
from spikegraph.nn.conv.inputs import check_global_ids, check_message_passing_args, split_input
from spikegraph.synapse import ScalingShape, SynapticScaling, TargetRate
from spikegraph.typing import Adj
from spikegraph.utils.checks import compiling
from spikegraph.utils.graph import (
    HAS_TORCH_SCATTER,
    Adjacency,
    prepare_adjacency,
    spmm,
    to_edge_index,
)

__all__ = ["SpikingASConv", "node_drive"]

BACKENDS = ("torch", "torch_scatter")


class SpikingASConv(EdgeExperience, MessagePassing):
    r"""Spiking graph convolution whose edges scale themselves adaptively (after AS-SNN,
    Xu et al., IEEE TNNLS 2025).

    Every edge :math:`e = (j \to i)` is a synapse. At step :math:`t` it carries the GCN-normalised
    weight :math:`\hat w_e` scaled by :math:`f(x_e(t-1))`, a nonparametric function of its
    intensity trace (:mod:`spikegraph.synapse`), and node :math:`i` integrates

    .. math::
        I_i(t) = \sum_{e = (j \to i)} \hat w_e\, f\bigl(x_e(t-1)\bigr)\, \bigl(W x_j(t)\bigr) + b,
        \qquad s_i(t) = \mathrm{LIF}(I_i(1..t)).

    **The per-edge trace.** An edge is driven by the coincidence of activity at its two ends,
    :math:`c_e(t) = a_j(t)\, a_i(t)` with :math:`a_n(t)` the fraction of node :math:`n`'s input
    channels that fire (:func:`node_drive`): the chance that a channel of the source and one of
    the target are active together (``drive="coincidence"``, the default; ``"overlap"`` and
    ``"share"`` are drives specific to the edge, :mod:`~spikegraph.nn.conv.drives`). It transmits :math:`u_e(t) = \min(1, c_e(t) f(x_e(t-1)))`,
    and its trace is the running mean of what it transmitted, started from its experience
    :math:`e_e` (:mod:`spikegraph.synapse.trace`),

    .. math::
        x_e(t) = (1 - \beta_t)\, x_e(t-1) + \beta_t \min\bigl(1, c_e(t) f(x_e(t-1))\bigr),
        \qquad \beta_t = 1 / (t + \rho).

    Two edges leaving one node into targets of different activity therefore carry different
    traces and scales. For a steady drive the trace converges to the fixed point
    :math:`x_e^* = \min(1, c_e f(x_e^*))` (:func:`~spikegraph.synapse.fixed_point` with drive
    :math:`c_e`), where the map contracts (:func:`~spikegraph.synapse.lipschitz` < 1). With the
    default :class:`~spikegraph.synapse.Relative` shape,
    :math:`f(x) = \operatorname{clip}(1 + \alpha(1 - x/e_e), 1/2, 2)`, the set point is the
    edge's own experience: an edge whose endpoints are as active as in training keeps scale 1,
    one that carries :math:`\sigma` times its usual coincidence settles at
    :math:`x^*/e_e = \sigma(1+\alpha)/(1+\sigma\alpha)`, which contracts the disturbance
    (:math:`\times 4 \mapsto \times 1.6`, :math:`\times 1/4 \mapsto \times 0.4`), and the map
    contracts for :math:`\sigma\alpha < 3`. The trace is one scalar per edge and step, never a
    ``[T, E, F]`` tensor. The scale multiplies the weight, so :math:`\partial L/\partial W`
    carries :math:`f(x_e(t-1))`; the trace itself is detached unless ``trace_grad=True``.

    **Experience: per synapse or per layer.** The long-term experience (``self.scaling``, a
    :class:`~spikegraph.synapse.SynapticScaling`) is the reference every trace starts from and
    a relative shape reads against. ``experience="synapse"`` (transductive) gives every synapse
    (source, target), edges plus added self-loops, a slot of its own, named on the first
    training call (``self.edges``, :class:`~spikegraph.nn.conv.edge_state.SynapseSlots`); later
    calls find each synapse's slot by its endpoints, so the same graph in another column order
    or format (torch COO/CSR, PyG ``SparseTensor``) gives the same outputs, and a graph with
    synapses the layer does not know raises. ``experience="layer"`` (inductive) gives the layer
    one shared reference :math:`\bar e`, the running mean intensity of all its synapses in
    training: it names no synapse, so a ``DataLoader`` of many graphs and graphs never seen run
    with no extra call, and a batch of graphs gives each graph the outputs it gets alone (in
    eval). With :math:`\sigma_e = c_e / \bar e` an edge's drive relative to the reference, each
    trace settles at :math:`x_e^* / \bar e = \sigma_e (1+\alpha) / (1+\sigma_e\alpha)` as above,
    and training moves :math:`\bar e` to where the synapses' mean intensity equals it,
    :math:`\operatorname{mean}_e x_e^* = \bar e` (for a uniform drive :math:`c`:
    :math:`\bar e = c` and scale 1). ``"auto"`` (default) is ``"synapse"`` for a layer bound to
    one graph (``cached=True``, as PyG's transductive ``GCNConv(cached=True)``; or synapses
    named with ``reset_experience(edge_index)``; or global ids ``e_id``) and ``"layer"``
    otherwise. No other state survives between calls.

    **Mini-batches.** For a subgraph of a larger graph (e.g. from PyG's ``NeighborLoader``),
    pass ``e_id``, the global id of every edge: the experience is then read and updated at those
    ids, so mini-batch training updates the same per-edge state as full-batch training. Name the
    full graph's synapses first with ``reset_experience(edge_index)`` (global id ``k`` is its
    column ``k``); a full-graph call then finds the same slots. Every synapse needs a global id,
    so add self-loops to the full graph (``add_self_loops=False`` here); for the same outputs as
    full batch, normalise the full graph too (``normalize=False`` and its weights ``[e_id]``).

    **Bipartite input.** ``x = (x_src, x_dst)`` with ``size = (N_src, N_dst)`` (optional: the
    inputs give it) sends messages from the source nodes into the target nodes, as PyG's
    ``SAGEConv``: ``lin`` transforms ``x_src`` and the output has ``N_dst`` rows. ``x_dst`` gives
    the targets' drive :math:`a_i` of the coincidence (any number of channels), e.g.
    ``x_src[:, :N_dst]`` in layer-wise inference, where the targets are the first sources
    (:meth:`SpikingGNN.inference <spikegraph.models.SpikingGNN.inference>`); it may be ``None``
    only with ``scaling=None``. Two node sets have no self-loops and no symmetric GCN degrees, so
    bipartite input needs ``normalize=False`` and ``add_self_loops=False`` (the weights of a
    graph normalised once as a whole, as for mini-batches); ``(x, x)``, as ``to_hetero`` passes a
    relation within one node type, is the ordinary graph on one node set.

    **Compilation.** Under ``torch.compile`` the value checks (NaN, index ranges) are skipped,
    the CSR products run as one custom operator that the compiler keeps whole (it cannot trace
    sparse tensors) and ``propagate()`` with its hooks is bypassed; with ``cached=True`` and a
    first eager call (which checks the graph and names the synapses) the layer itself then
    causes no graph break (``benchmarks/compile.py``).

    Args:
        in_channels: input channels :math:`C_{in}`, or ``-1`` to take them from the first
            input (PyG's lazy initialisation, e.g. for ``to_hetero`` with node types of
            different feature sizes).
        out_channels: output channels :math:`C_{out}`.
        scaling: a shape name (``"relative"``, the default; ``"mean_field"``, its control
            with one scale per step for all synapses; ``"tent"``, ``"homeostatic"``,
            ``"gaussian"``, ``"linear"``: absolute set points), a
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
        consolidation: strength :math:`\lambda` of long-term consolidation (default ``0``:
            off): after :func:`~spikegraph.synapse.consolidate`, the gradient through edge
            :math:`k` is scaled by :math:`1 / (1 + \lambda M_k)`, :math:`M_k` its consolidated
            experience (:mod:`spikegraph.synapse.consolidation`; one more sparse product).
        backend: sparse product: ``"torch"`` (CSR products, the default and the faster on
            CPU: see ``benchmarks/``) or ``"torch_scatter"`` (gather + ``segment_csr``; needs
            the torch-scatter package).
        cached: keep the normalised adjacency of the first call and reuse it (transductive
            learning on one fixed graph, as ``GCNConv(cached=True)``); the graph is then not
            re-checked on later calls.
        target_rate: an expected firing rate for this layer's neurons: every output channel
            scales its incoming synapses by a gain that training calls adjust until the
            channel fires at this rate (:class:`~spikegraph.synapse.TargetRate`); ``None``
            (default) leaves rates free.
        rate_adaptation: the gain controller's step per training call.
        experience: ``"auto"`` (default), ``"synapse"`` (one experience slot per synapse of one
            graph) or ``"layer"`` (one shared, inductive reference); see above.
        drive: what drives each edge's trace (:mod:`~spikegraph.nn.conv.drives`):
            ``"coincidence"`` (default, :math:`a_j a_i` above), ``"overlap"`` (channels active
            at both ends) or ``"share"`` (the edge's share of its target's input).
        **kwargs: ``aggr="add"`` and ``flow="source_to_target"`` only, for code that passes
            them; any other value or argument raises (the layer would ignore it).

    Shapes:
        - input: ``x`` ``[T, N, C_in]`` spikes or currents, or a pair ``([T, N_src, C_in],
          [T, N_dst, *])``; ``edge_index`` ``[2, E]`` or a sparse ``[N_dst, N_src]`` adjacency;
          ``edge_weight`` ``[E]`` or ``None``; ``e_id`` ``[E]`` or ``None``; ``size``
          ``(N_src, N_dst)`` or ``None``
        - output: spikes ``[T, N_dst, C_out]`` of 0./1. (currents with ``neuron=None``)

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
        scaling: str | ScalingShape | None = "relative",
        neuron: str | nn.Module | None = "lif",
        normalize: bool = True,
        add_self_loops: bool = True,
        bias: bool = True,
        trace_decay: float = 1.0,
        prior_weight: float = 1.0,
        experience_momentum: float = 0.1,
        trace_grad: bool = False,
        consolidation: float = 0.0,
        backend: str = "torch",
        cached: bool = False,
        target_rate: float | None = None,
        rate_adaptation: float = 0.5,
        experience: str = "auto",
        drive: str = "coincidence",
        **kwargs,
    ) -> None:
        check_message_passing_args(kwargs)
        super().__init__(aggr="add", flow="source_to_target", node_dim=-2)
        if experience not in EXPERIENCE_MODES:
            raise ValueError(f"unknown experience {experience!r}; choose one of {EXPERIENCE_MODES}")
        self.experience = experience
        if drive not in DRIVES:
            raise ValueError(f"unknown drive {drive!r}; choose one of {tuple(DRIVES)}")
        self.drive = drive
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
        if target_rate is not None and self.neuron is None:
            raise ValueError("target_rate needs spiking neurons (neuron=None returns currents)")
        self.rate = (
            None if target_rate is None else TargetRate(target_rate, adaptation=rate_adaptation)
        )
        self.scaling = SynapticScaling(
            scaling,
            decay=trace_decay,
            prior_weight=prior_weight,
            experience_momentum=experience_momentum,
            trace_grad=trace_grad,
            consolidation=consolidation,
        )
        self.edges = SynapseSlots()  # which synapse owns which experience slot
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """Re-initialise the weights and forget the experience (its size is kept)."""
        super().reset_parameters()
        self._cached_adj = None
        self.lin.reset_parameters()
        if self.rate is not None:
            self.rate.reset()
        if self.bias is not None:
            nn.init.zeros_(self.bias)
        self.scaling.reset_experience(self.scaling.num_synapses)

    def forward(
        self,
        x: Tensor | tuple[Tensor, Tensor | None],
        edge_index: Adj,
        edge_weight: Tensor | None = None,
        e_id: Tensor | None = None,
        size: tuple[int, int] | None = None,
    ) -> Tensor:
        current = self.synaptic_current(x, edge_index, edge_weight, e_id, size)
        if self.neuron is None:
            return current
        spikes = self.neuron(current)
        if self.rate is not None:
            self.rate.observe(spikes)
        return spikes

    def synaptic_current(
        self,
        x: Tensor | tuple[Tensor, Tensor | None],
        edge_index: Adj,
        edge_weight: Tensor | None = None,
        e_id: Tensor | None = None,
        size: tuple[int, int] | None = None,
    ) -> Tensor:
        """The input current :math:`I(t)` of every (target) node before the neuron,
        ``[T, N, C_out]``: the per-edge scale, then GCN's ``lin -> propagate -> bias``."""
        x, x_dst, bipartite = split_input(
            x,
            size,
            in_channels=self.in_channels,
            needs_targets=self.scaling.enabled,
            normalized=self.normalize or self.add_self_loops,
        )
        T, N, _ = x.shape
        e_id = e_id if self.scaling.enabled else None  # without scaling, no per-edge state
        if e_id is not None:
            check_global_ids(edge_index, e_id, cached=self.cached)
        adj = self.adjacency(edge_index, edge_weight, bipartite or N, x.dtype)
        # One input repeated over time (a stride-0 view, as encoders.repeat returns) is
        # transformed once; its steps then differ only through the scaling.
        x_in = x[0] if T > 1 and x.stride(0) == 0 else x
        slots = self._experience_slots(adj, e_id)
        scale = self.edge_scale(x_in, x_dst, adj, slots, T, shared=self._shared(e_id))
        h = self.lin(x_in)  # [N, C_out] or [T, N, C_out]
        if self.rate is not None:  # one gain per postsynaptic channel: scale before the sum
            h = self.rate(h)
        values = adj.weight if scale is None else adj.weight * scale
        out = self._aggregate(adj, values, h, slots)
        if self.bias is not None:  # in place: the product's backward does not need its output
            out.add_(self.bias if self.rate is None else self.rate(self.bias))
        n_dst = N if bipartite is None else bipartite[1]
        return out.expand(T, n_dst, -1)  # a view over time when every step is the same

    def edge_scale(
        self,
        x: Tensor,
        x_dst: Tensor | None,
        adj: Adjacency,
        slots: Tensor | None,
        T: int,
        *,
        shared: bool = False,
    ) -> Tensor | None:
        """The factor :math:`f(x_e(t-1))` of every synapse and step, ``[T, E]`` in ``adj``'s
        order (``None`` with scaling off), from the drive of its two ends
        (:mod:`~spikegraph.nn.conv.drives`, ``self.drive``).

        Args:
            x: the sources' input, ``[N, C]`` (one step for all) or ``[T, N, C]``.
            x_dst: the targets' input of a bipartite call (``None``: ``x``).
            adj: the call's synapses.
            slots: the experience slot of every synapse (``None``: slot order or shared).
            T: time steps.
            shared: read the layer-level (inductive) experience.
        """
        if not self.scaling.trace_grad:
            x, x_dst = x.detach(), None if x_dst is None else x_dst.detach()
        drive = DRIVES[self.drive](x, x_dst, adj)  # [E] or [T, E]: one scalar per edge
        # None without a shape; still called so that hooks (e.g. TraceRecorder) see the drive
        return self.scaling(drive.expand(T, -1), index=slots, shared=shared)

    def _aggregate(self, adj: Adjacency, values: Tensor, h: Tensor, slots: Tensor | None) -> Tensor:
        r""":math:`\sum_e v_e h_{j(e)}` into every target; with consolidation the same sum, but
        the gradient through synapse :math:`k` is scaled by its plasticity."""
        plasticity = self.scaling.plasticity(slots)
        if plasticity is None:
            return self._propagate(adj, values, h)
        kept = values * plasticity.to(values.dtype)
        with torch.no_grad():
            rest = self._propagate(adj, values - kept, h)
        return self._propagate(adj, kept, h) + rest

    def _propagate(self, adj: Adjacency, values: Tensor, h: Tensor) -> Tensor:
        """Sum the weighted messages into every target through PyG's ``propagate()``, so that
        its hooks and explainers see the layer. Normally ``propagate`` hands the whole product
        to :meth:`message_and_aggregate` (the CSR path); an explainer's edge mask
        (``self.explain``) needs per-edge messages, so it then runs :meth:`message` and the
        sum over the synapses in the input's order (its edges, then the added self-loops), as
        PyG's explainers expect."""
        if self.explain:
            as_input = adj.input_order.argsort()
            edge_index, values = adj.edge_index[:, as_input], values[..., as_input]
            size = adj.bipartite_size
            return self.propagate(edge_index, h=h, values=values, adj=adj, size=size)
        if compiling():  # sparse tensors do not trace: the product directly
            return self.message_and_aggregate(None, h=h, values=values, adj=adj)
        layout, shape = adj.by_target, (adj.num_nodes, adj.num_sources)
        with warnings.catch_warnings():  # "CSR support is in beta": only its structure is used
            warnings.simplefilter("ignore", UserWarning)
            adj_t = torch.sparse_csr_tensor(
                layout.rowptr, layout.col, adj.weight, shape, check_invariants=False
            )
        return self.propagate(adj_t, h=h, values=values, adj=adj)

    def message(self, h_j: Tensor, values: Tensor) -> Tensor:
        """Per-synapse messages ``[*, E, C_out]``: the source's features times the scaled weight
        (only while explaining; the CSR path never builds them)."""
        return h_j * values.unsqueeze(-1)

    def message_and_aggregate(
        self, adj_t: Tensor, h: Tensor, values: Tensor, adj: Adjacency
    ) -> Tensor:
        """The fused product: :func:`~spikegraph.utils.graph.spmm` over the synapses of
        ``adj`` (``adj_t`` is the same graph as a sparse tensor, for PyG's checks and hooks)."""
        return spmm(adj, values, h, backend=self.backend)

    def adjacency(
        self,
        edge_index: Adj,
        edge_weight: Tensor | None,
        num_nodes: int | tuple[int, int],
        dtype: torch.dtype = torch.float32,
    ) -> Adjacency:
        """The synapses this layer sees for a graph: checked, self-loops added, normalised, in
        CSR (the cached one with ``cached=True``). ``num_nodes`` is ``(N_src, N_dst)`` for a
        bipartite graph."""
        if self._cached_adj is not None:
            cached = self._cached_adj
            size = num_nodes if isinstance(num_nodes, tuple) else (num_nodes, num_nodes)
            if size != cached.bipartite_size:
                held = (
                    cached.num_nodes
                    if cached.num_nodes == cached.num_sources
                    else cached.bipartite_size
                )
                raise ValueError(
                    f"cached=True holds a graph of {held} nodes but x has {num_nodes}; call "
                    "reset_parameters() (or use cached=False) for a new graph"
                )
            return cached
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

    def __repr__(self) -> str:
        shape = self.scaling.shape
        extra = "".join(
            f", {name}={value!r}"
            for name, value, default in (
                ("drive", self.drive, "coincidence"),
                ("experience", self.experience, "auto"),
            )
            if value != default
        )
        return (
            f"{type(self).__name__}({self.in_channels}, {self.out_channels}, "
            f"scaling={shape!r}, neuron={self.neuron!r}, normalize={self.normalize}{extra})"
        )
