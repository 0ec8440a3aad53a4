r"""Where a graph layer's per-synapse state lives.

A graph layer's synapse is an edge :math:`(j \to i)`. Its long-term experience (a
:class:`~spikegraph.synapse.SynapticScaling` buffer) is one slot per synapse; this module keeps
which synapse owns which slot, so that the state follows the synapse, not a column index,
through any column order, sparse format or mini-batch. :class:`SynapseSlots` holds the synapses
(source, target) in slot order as a persistent buffer (saved in ``state_dict`` next to the
experience) and answers, for the synapses of a call, the slot of each.

Two ways to experience a graph (``SpikingASConv(experience=...)``):

- ``"synapse"`` (transductive): one slot per synapse of one fixed graph, named on the first
  training call (or by ``reset_experience(edge_index)`` for mini-batches with global edge ids);
  another graph raises until the experience is moved to it (``move_experience``).
- ``"layer"`` (inductive): one shared entry for the whole layer, which any graph can read: no
  per-synapse state at all, so batches of many graphs and graphs never seen work as they are.
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

from spikegraph.typing import Adj
from spikegraph.utils.checks import check_edge_index
from spikegraph.utils.graph import Adjacency, SynapseTable

__all__ = ["EXPERIENCE_MODES", "EdgeExperience", "SynapseSlots"]

#: How a graph layer keeps its long-term experience: ``"auto"`` resolves to ``"synapse"`` for a
#: layer bound to one graph (``cached=True``, named synapses or global edge ids), else ``"layer"``.
EXPERIENCE_MODES = ("auto", "synapse", "layer")


class SynapseSlots(nn.Module):
    """The synapses (source, target) of one graph in experience-slot order.

    Buffers: ``synapses`` ``[2, K]`` (empty until named) and ``graph_nodes`` (the node count of
    that graph). Derived look-up tables are rebuilt after loading and never saved.
    """

    synapses: Tensor
    graph_nodes: Tensor

    def __init__(self) -> None:
        super().__init__()
        self.register_buffer("synapses", torch.empty(2, 0, dtype=torch.long))
        self.register_buffer("graph_nodes", torch.zeros((), dtype=torch.long))
        self._table: tuple[Tensor, SynapseTable] | None = None
        self._cached: tuple[Adjacency, Tensor | None] | None = None

    @property
    def named(self) -> bool:
        """Whether the synapses of a graph have been named."""
        return self.synapses.shape[1] > 0

    def name(self, synapses: Tensor, num_nodes: int) -> None:
        """Name a graph's synapses: column ``k`` of ``synapses`` owns slot ``k``."""
        self.synapses = synapses.detach().long().clone().to(self.synapses.device)
        self.graph_nodes.fill_(num_nodes)
        self._cached = None

    def clear(self) -> None:
        """Forget the synapses (the next training call of a full graph names them again)."""
        self.name(self.synapses.new_empty(2, 0), 0)

    def slots(self, adj: Adjacency, *, training: bool, cache: bool) -> Tensor | None:
        """The slot of each synapse of a full-graph call, ``None`` for slot order (the graph as
        it was named, or named by this call because it is the first training call).

        Args:
            adj: the call's synapses.
            training: whether the call may name the synapses (the first training call does).
            cache: remember the answer for this very ``adj`` (a layer with ``cached=True``).
        """
        if self._cached is not None and self._cached[0] is adj:
            return self._cached[1]
        if not self.named:
            if training:  # the first call that writes experience names them
                self.name(adj.edge_index, adj.num_nodes)
                if cache:  # later calls skip the look-up (no read-back: compile-friendly)
                    self._cached = (adj, None)
            return None
        if adj.num_nodes != int(self.graph_nodes):
            raise ValueError(
                f"this layer's experience belongs to a graph of {int(self.graph_nodes)} nodes, "
                f"but x has {adj.num_nodes}: a sampled subgraph needs e_id (global edge ids); "
                "for another graph use experience='layer' (the inductive experience), "
                "move_experience() or reset_experience()"
            )
        slots = self.table().slots(adj.edge_index)
        if slots.numel() == self.synapses.shape[1] and bool(
            (slots == torch.arange(slots.numel(), device=slots.device)).all()
        ):
            slots = None  # the graph as it was named: no gather needed
        if cache:
            self._cached = (adj, slots)
        return slots

    def table(self) -> SynapseTable:
        """The look-up table of the named synapses (rebuilt when they change)."""
        if self._table is None or self._table[0] is not self.synapses:
            self._table = (self.synapses, SynapseTable.build(self.synapses))
        return self._table[1]

    def lookup(self, edge_index: Tensor) -> tuple[Tensor, Tensor]:
        """``(slot, found)`` of every column of ``edge_index`` ``[2, E]`` among the named
        synapses (the slot is arbitrary where ``found`` is ``False``)."""
        return self.table().lookup(edge_index)

    def _load_from_state_dict(self, state_dict, prefix, *args) -> None:  # noqa: ANN001
        saved = state_dict.get(prefix + "synapses")
        if saved is not None and saved.shape != self.synapses.shape:
            self.synapses = torch.empty_like(saved, device=self.synapses.device)
        self._table = self._cached = None  # rebuilt from the loaded synapses
        super()._load_from_state_dict(state_dict, prefix, *args)


class EdgeExperience:
    """The experience plumbing of a graph layer, kept out of its maths: naming, moving and
    resetting per-synapse state, and choosing between per-synapse and layer-level experience.

    The layer provides ``scaling`` (a :class:`~spikegraph.synapse.SynapticScaling`), ``edges``
    (a :class:`SynapseSlots`), ``experience`` (one of :data:`EXPERIENCE_MODES`), ``cached`` and
    ``adjacency(edge_index, edge_weight, num_nodes)``.
    """

    def reset_experience(
        self, synapses: Tensor | int | None = None, num_nodes: int | None = None
    ) -> None:
        """Forget the long-term experience and the synapses it belongs to.

        Args:
            synapses: ``None``: the next training call names the synapses (full batch);
                ``[2, E]`` edge indices: the full graph's synapses for mini-batches with
                ``e_id`` (global id ``k`` is column ``k``; self-loops and normalisation
                already applied, see the class docstring); an int: a buffer of that many
                slots addressed by ``e_id`` only, with no full-graph calls.
            num_nodes: nodes of the graph of ``synapses`` (default: the largest index + 1).
        """
        if isinstance(synapses, Tensor):
            if num_nodes is None:
                num_nodes = int(synapses.max()) + 1 if synapses.numel() else 0
            check_edge_index(synapses, num_nodes)
            self.edges.name(synapses, num_nodes)
            self.scaling.reset_experience(synapses.shape[1])
            return
        self.edges.clear()
        self.scaling.reset_experience(synapses)

    @property
    def synapses(self) -> Tensor:
        """The named synapses ``[2, K]`` (source, target) in experience-slot order."""
        return self.edges.synapses

    def experience_mode(self, e_id: Tensor | None = None) -> str:
        """``"synapse"`` or ``"layer"``: how this call keeps its experience (class docstring)."""
        if self.experience != "auto":
            return self.experience
        bound = self.cached or e_id is not None or self.edges.named
        return "synapse" if bound else "layer"

    @torch.no_grad()
    def move_experience(self, edge_index: Adj, num_nodes: int) -> None:
        """Carry a per-synapse experience over to another graph (e.g. one with edges added or
        deleted): every synapse this layer knows keeps its experience, new synapses start fresh.
        Drops the cached adjacency of ``cached=True``."""
        self._cached_adj = None
        if not self.edges.named or not self.scaling.enabled:
            self.reset_experience()
            return
        new = self.adjacency(edge_index, None, num_nodes).edge_index
        self._cached_adj = None  # adjacency() cached the new graph: keep the layer unbound
        slots, found = self.edges.lookup(new)
        names = ("experience", "memory") if self.scaling.consolidation > 0 else ("experience",)
        old = {name: getattr(self.scaling, name) for name in names}
        self.reset_experience(new, num_nodes)  # fresh entries everywhere ...
        for name in names:  # ... but for the known synapses
            getattr(self.scaling, name)[found] = old[name][slots[found]]

    def _shared(self, e_id: Tensor | None) -> bool:
        return self.scaling.enabled and self.experience_mode(e_id) == "layer"

    def _experience_slots(self, adj: Adjacency, e_id: Tensor | None) -> Tensor | None:
        """The experience slot of each synapse of this call (``None``: slot order, or the
        shared entry of a layer-level experience)."""
        if not self.scaling.enabled or self.experience_mode(e_id) == "layer":
            return None
        if e_id is not None:  # e_id names the input's columns; adj is target-major
            if adj.edge_index.shape[1] != e_id.numel():
                raise ValueError(
                    f"the layer added {adj.edge_index.shape[1] - e_id.numel()} self-loops that "
                    "have no global id in e_id: add self-loops to the full graph once (e.g. "
                    "gcn_norm) and build the layer with add_self_loops=False"
                )
            return e_id[adj.input_order]
        if not self.edges.named and self.scaling.num_synapses is not None:
            raise ValueError(
                "the experience was sized by a count (reset_experience(n)) and knows no "
                "synapses: pass e_id, or name the full graph's synapses with "
                "reset_experience(edge_index)"
            )
        return self.edges.slots(adj, training=self.scaling.training, cache=self.cached)

    def _load_from_state_dict(self, state_dict, prefix, *args) -> None:  # noqa: ANN001
        for name in ("synapses", "graph_nodes"):  # saved before the slots had a module
            if prefix + name in state_dict:
                state_dict[prefix + "edges." + name] = state_dict.pop(prefix + name)
        super()._load_from_state_dict(state_dict, prefix, *args)
