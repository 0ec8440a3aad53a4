"""Argument checks of the spiking graph layer: PyG arguments it does not honour, bipartite input,
global edge ids. Kept apart so that the layer file holds the maths."""

from __future__ import annotations

from torch import Tensor

from spikegraph.typing import Adj
from spikegraph.utils.checks import check_sequence

__all__ = ["check_global_ids", "check_message_passing_args", "split_input"]


def check_message_passing_args(kwargs: dict) -> None:
    """``MessagePassing`` arguments the layer would otherwise accept and ignore."""
    aggr = kwargs.pop("aggr", "add")
    if aggr not in ("add", "sum"):
        raise ValueError(
            f"SpikingASConv sums its synaptic currents; aggr={aggr!r} is not supported (use 'add')"
        )
    flow = kwargs.pop("flow", "source_to_target")
    if flow != "source_to_target":
        raise ValueError(
            f"flow={flow!r} is not supported: edges run source -> target; for the reverse "
            "direction pass the reversed graph (edge_index.flip(0))"
        )
    if kwargs:
        raise TypeError(f"SpikingASConv got unexpected keyword arguments {sorted(kwargs)}")


def split_input(
    x: Tensor | tuple[Tensor, Tensor | None],
    size: tuple[int, int] | None,
    *,
    in_channels: int,
    needs_targets: bool,
    normalized: bool,
) -> tuple[Tensor, Tensor | None, tuple[int, int] | None]:
    """``(x_src, x_dst, (N_src, N_dst))`` of a bipartite input, ``(x, None, None)`` of one node
    set (also ``(x, x)``, as ``to_hetero`` passes a relation within one node type).

    Args:
        x: ``[T, N, C]`` or a pair ``(x_src, x_dst)``.
        size: PyG's ``(N_src, N_dst)`` or ``None``.
        in_channels: the layer's input channels (``-1``: lazy, any).
        needs_targets: the layer reads the targets' activity (scaling on), so ``x_dst`` may not
            be ``None``.
        normalized: the layer normalises or adds self-loops, which two node sets cannot have.
    """
    pair = isinstance(x, tuple | list)
    if pair and len(x) != 2:
        raise ValueError(f"bipartite input must be a pair (x_src, x_dst), got {len(x)} items")
    x_src, x_dst = x if pair else (x, None)
    check_sequence(x_src, None if in_channels < 0 else in_channels, "x_src" if pair else "x")
    if x_src.dim() != 3:
        raise ValueError(f"x must have shape [T, N, C], got {tuple(x_src.shape)}")
    T, n_src = x_src.shape[:2]
    one_set = not pair or x_dst is x_src
    if one_set and (size is None or tuple(size) == (n_src, n_src)):
        return x_src, None, None
    if x_dst is None:
        if size is None:
            raise ValueError("x_dst=None needs size=(N_src, N_dst) for the number of targets")
        if needs_targets:
            raise ValueError(
                "the per-edge trace needs the targets' activity: pass (x_src, x_dst) (in "
                "layer-wise inference x_dst = x_src[:, :N_dst]), or use scaling=None"
            )
        n_dst = int(size[1])
    else:
        check_sequence(x_dst, None, "x_dst")  # only its activity counts: any channels
        if x_dst.dim() != 3 or x_dst.shape[0] != T:
            raise ValueError(f"x_dst must have shape [T={T}, N_dst, C], got {tuple(x_dst.shape)}")
        n_dst = x_dst.shape[1]
    if size is not None and tuple(size) != (n_src, n_dst):
        raise ValueError(
            f"size={tuple(size)} does not match the inputs: {n_src} sources, {n_dst} targets"
        )
    if normalized:
        raise ValueError(
            "bipartite input (x_src, x_dst) needs normalize=False and add_self_loops=False: "
            "two node sets have no self-loops and no symmetric GCN degrees; normalise the "
            "full graph once (e.g. spikegraph.tasks.minibatch.global_gcn_graph) and pass its "
            "edge weights"
        )
    return x_src, x_dst, (n_src, n_dst)


def check_global_ids(edge_index: Adj, e_id: Tensor, *, cached: bool) -> None:
    """``e_id`` names one global id per column of a ``[2, E]`` ``edge_index``."""
    if not isinstance(edge_index, Tensor) or edge_index.is_sparse or edge_index.dim() != 2:
        raise ValueError("e_id needs edge_index as a [2, E] tensor (its order names the ids)")
    if cached:
        raise ValueError("e_id (mini-batches) and cached=True (one fixed graph) exclude each other")
    if e_id.shape != (edge_index.shape[1],):
        raise ValueError(
            f"e_id must hold one global id per edge, shape ({edge_index.shape[1]},), "
            f"got {tuple(e_id.shape)}"
        )
