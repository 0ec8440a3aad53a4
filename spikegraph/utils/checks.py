"""Input validation with messages that name the problem (no crash deep inside torch).

Checks of values (NaN/Inf, index ranges) read tensors back to Python, which ``torch.compile``
cannot trace (a graph break per check); they are skipped while compiling, where the shapes and
types are still checked. Run a model eagerly once to check its inputs' values.
"""

from __future__ import annotations

import torch
from torch import Tensor

__all__ = [
    "check_time_steps",
    "check_finite",
    "check_sequence",
    "check_edge_index",
    "check_edge_weight",
    "checking_values",
    "compiling",
]


def check_time_steps(T: int) -> None:
    if isinstance(T, bool) or not isinstance(T, int) or T < 1:
        raise ValueError(f"the number of time steps T must be a positive integer, got {T!r}")


def _distinct(x: Tensor) -> Tensor:
    """Drop the broadcast (stride-0) dimensions of a view: the same values, each once."""
    return x[tuple(0 if st == 0 else slice(None) for st in x.stride())] if x.dim() else x


def compiling() -> bool:
    """Whether ``torch.compile`` is tracing this call (``False`` on torch < 2.3)."""
    is_compiling = getattr(torch.compiler, "is_compiling", None)
    return is_compiling is not None and is_compiling()


def checking_values() -> bool:
    """Whether to check tensor values: not while ``torch.compile`` traces (see above)."""
    return not compiling()


def check_finite(x: Tensor, name: str) -> None:
    if not isinstance(x, Tensor):
        raise TypeError(f"{name} must be a torch.Tensor, got {type(x).__name__}")
    if not checking_values():
        return
    x = _distinct(x)
    if not x.is_floating_point() or bool(torch.isfinite(x.sum())):
        return  # NaN and Inf survive a sum: one cheap pass in the common case
    if not torch.isfinite(x).all():
        bad = "NaN" if torch.isnan(x).any() else "Inf"
        raise ValueError(f"{name} contains {bad} values")


def check_sequence(x: Tensor, channels: int | None, name: str = "x") -> None:
    """``x`` must be a finite floating tensor ``[T, *, channels]`` with ``T >= 1`` (any
    number of channels for ``channels=None``)."""
    check_finite(x, name)
    if x.dim() < 3:
        raise ValueError(
            f"{name} must have shape [T, N, C] (time first), got {tuple(x.shape)}; "
            "encode static features with spikegraph.encoders.repeat(x, T)"
        )
    if x.shape[0] == 0:
        raise ValueError(f"{name} has T = 0 time steps; need T >= 1")
    if channels is not None and x.shape[-1] != channels:
        raise ValueError(f"{name} has {x.shape[-1]} channels, the layer expects {channels}")
    if not x.is_floating_point():
        raise TypeError(f"{name} must be a floating-point tensor, got {x.dtype}")


def check_edge_index(edge_index: Tensor, num_nodes: int, num_targets: int | None = None) -> None:
    """``edge_index`` must be an integer ``[2, E]`` tensor with entries in ``[0, num_nodes)``
    (for a bipartite graph: sources in ``[0, num_nodes)``, targets in ``[0, num_targets)``)."""
    if not isinstance(edge_index, Tensor):
        raise TypeError(f"edge_index must be a torch.Tensor, got {type(edge_index).__name__}")
    if edge_index.is_floating_point() or edge_index.dtype == torch.bool:
        raise TypeError(f"edge_index must hold integers, got {edge_index.dtype}")
    if edge_index.dim() != 2 or edge_index.shape[0] != 2:
        raise ValueError(f"edge_index must have shape [2, E], got {tuple(edge_index.shape)}")
    if edge_index.numel() == 0 or not checking_values():
        return
    lo, hi = int(edge_index.min()), int(edge_index.max())
    if lo < 0:
        raise ValueError(f"edge_index contains a negative node index ({lo})")
    if num_targets is None or num_targets == num_nodes:
        if hi >= num_nodes:
            raise ValueError(f"edge_index refers to node {hi} but x has only {num_nodes} nodes")
        return
    for row, (name, n) in enumerate((("source", num_nodes), ("target", num_targets))):
        if (top := int(edge_index[row].max())) >= n:
            raise ValueError(f"edge_index refers to {name} node {top} but there are only {n}")


def check_edge_weight(edge_weight: Tensor, num_edges: int) -> None:
    """``edge_weight`` must be a finite floating tensor with one scalar per edge."""
    check_finite(edge_weight, "edge_weight")
    if not edge_weight.is_floating_point():
        raise TypeError(f"edge_weight must be floating point, got {edge_weight.dtype}")
    if edge_weight.dim() != 1 or edge_weight.numel() != num_edges:
        raise ValueError(
            f"edge_weight must have shape [E] = [{num_edges}] (one scalar per edge), "
            f"got {tuple(edge_weight.shape)}"
        )
