r"""What drives a graph synapse's trace: one scalar per edge and step from the activity at its
two ends.

Each function maps the sources' input :math:`x` (``[N, C]`` for one step shared by all steps,
or ``[T, N, C]``), the targets' input (``None``: the same nodes) and the call's synapses to
``[E]`` or ``[T, E]`` values in :math:`[0, 1]`, in the synapses' (target-major) order:

- ``"coincidence"`` (default): :math:`c_e = a_j a_i`, with :math:`a_n` the fraction of node
  :math:`n`'s channels that fire (:func:`node_drive`): the chance that a channel of the source
  and one of the target are active together. It depends on an edge only through the activity
  levels of the two nodes it joins.
- ``"overlap"``: :math:`c_e = \frac{1}{C}\sum_c |x_{jc}|\,|x_{ic}|`, the fraction of channels
  active at *both* ends at once: pre- and postsynaptic coincidence channel by channel. Two
  edges into one target from sources of equal activity differ when the sources' active
  channels overlap the target's differently (e.g. a neighbour with similar words and an
  injected stranger). Needs the same channels at both ends; computed in edge chunks, never a
  ``[T, E, C]`` tensor.
- ``"share"``: :math:`c_e = \hat w_e a_j / \sum_{e' \to i} \hat w_{e'} a_{j'}`, the edge's share
  of its target's (unscaled) synaptic input: an edge from a neighbour that suddenly carries more
  than its usual share is depressed, whatever the target does.

With the relative shape every drive is read against the synapse's experience, so only its
change from what the synapse usually carries matters; each gives the fixed point
:math:`x_e^*/e_e = \sigma_e(1+\alpha)/(1+\sigma_e\alpha)` with :math:`\sigma_e` its own drive
relative to its experience.
"""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch import Tensor

from spikegraph.utils.checks import checking_values
from spikegraph.utils.graph import Adjacency

__all__ = ["DRIVES", "coincidence", "node_drive", "overlap", "share"]

#: Edges per chunk of :func:`overlap` (bounds its ``[chunk, C]`` temporaries).
OVERLAP_CHUNK = 1 << 16


def node_drive(x: Tensor) -> Tensor:
    """Presynaptic activity per node and step, :math:`a_j(t) = \\min(1, \\mathrm{mean}_c |x_{jc}(t)|)`:
    the fraction of a node's channels that fire, for spike inputs. ``[T, N, C] -> [T, N]``."""
    nonnegative = checking_values() and not x.requires_grad and x.numel() > 0 and bool(x.min() >= 0)
    magnitude = x if nonnegative else x.abs()  # spikes are their own magnitude: no copy
    return magnitude.mean(-1).clamp(max=1.0)


def _one_step(x: Tensor) -> Tensor:
    """A repeated input (a stride-0 view over time) as its single step."""
    return x[0] if x.dim() == 3 and x.shape[0] > 1 and x.stride(0) == 0 else x


def coincidence(x: Tensor, x_dst: Tensor | None, adj: Adjacency) -> Tensor:
    """:math:`a_j a_i` of every synapse (module docstring)."""
    a = node_drive(x)
    a_dst = a if x_dst is None else node_drive(_one_step(x_dst))
    src, dst = adj.edge_index
    return a[..., src] * a_dst[..., dst]


def overlap(x: Tensor, x_dst: Tensor | None, adj: Adjacency) -> Tensor:
    """The fraction of channels active at both ends of every synapse (module docstring)."""
    x_src = x.abs()
    x_tgt = x_src if x_dst is None else _one_step(x_dst).abs()
    if x_tgt.shape[-1] != x_src.shape[-1]:
        raise ValueError(
            f"drive='overlap' compares channels: the targets' input has {x_tgt.shape[-1]} "
            f"channels, the sources' {x_src.shape[-1]}"
        )
    if x_tgt.dim() != x_src.dim():  # one side per step, the other repeated
        x_src, x_tgt = torch.broadcast_tensors(
            x_src if x_src.dim() == 3 else x_src.unsqueeze(0),
            x_tgt if x_tgt.dim() == 3 else x_tgt.unsqueeze(0),
        )
    src, dst = adj.edge_index
    out = x_src.new_empty((*x_src.shape[:-2], src.numel()))
    for lo in range(0, src.numel(), OVERLAP_CHUNK):
        s, d = src[lo : lo + OVERLAP_CHUNK], dst[lo : lo + OVERLAP_CHUNK]
        prod = x_src[..., s, :] * x_tgt[..., d, :]
        out[..., lo : lo + OVERLAP_CHUNK] = prod.mean(-1)
    return out.clamp(max=1.0)


def share(x: Tensor, x_dst: Tensor | None, adj: Adjacency) -> Tensor:
    """Every synapse's share of its target's unscaled input (module docstring)."""
    src, dst = adj.edge_index
    carried = node_drive(x)[..., src] * adj.weight.abs().to(x.dtype)
    total = carried.new_zeros((*carried.shape[:-1], adj.num_nodes)).index_add_(-1, dst, carried)
    return carried / total[..., dst].clamp_min(torch.finfo(carried.dtype).tiny)


DRIVES: dict[str, Callable[[Tensor, Tensor | None, Adjacency], Tensor]] = {
    "coincidence": coincidence,
    "overlap": overlap,
    "share": share,
}
