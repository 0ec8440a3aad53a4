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

from spikegraph.utils.graph import Adjacency, SynapseTable

__all__ = ["EXPERIENCE_MODES", "SynapseSlots"]

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
