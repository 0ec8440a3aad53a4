"""Property checks for spiking layers, shipped so that user code and our tests stay short.

Each ``assert_*`` raises ``AssertionError`` with a message saying what broke.
"""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch import Tensor, nn
from torch_geometric.utils import to_torch_coo_tensor, to_torch_csr_tensor

__all__ = [
    "assert_spikes",
    "assert_permutation_equivariant",
    "assert_adjacency_formats_agree",
    "assert_reset_restores",
]


def assert_spikes(out: Tensor) -> None:
    """Every entry is exactly 0. or 1. in a floating tensor."""
    assert out.is_floating_point(), f"spikes must be floating point, got {out.dtype}"
    bad = ~((out == 0) | (out == 1))
    assert not bad.any(), f"{int(bad.sum())} entries are neither 0 nor 1"


def assert_permutation_equivariant(
    layer: nn.Module, x: Tensor, edge_index: Tensor, atol: float = 1e-6
) -> None:
    """Relabelling the nodes relabels the output: ``layer(x[:, p], p^-1(E)) == layer(x, E)[:, p]``.

    The layer must hold no per-edge state that depends on edge order, or be in eval mode.
    """
    num_nodes = x.shape[-2]
    perm = torch.randperm(num_nodes)
    inverse = torch.empty_like(perm)
    inverse[perm] = torch.arange(num_nodes)
    expected = layer(x, edge_index)[..., perm, :]
    actual = layer(x[..., perm, :], inverse[edge_index])
    torch.testing.assert_close(actual, expected, atol=atol, rtol=0)


def assert_adjacency_formats_agree(
    layer: nn.Module, x: Tensor, edge_index: Tensor, atol: float = 1e-6
) -> None:
    """``[2, E]`` indices, torch sparse COO and CSR (and ``SparseTensor`` when installed) give the
    same output. Synapse order differs between formats, so use a layer in eval mode."""
    num_nodes = x.shape[-2]
    expected = layer(x, edge_index)
    forms = {
        "torch COO": to_torch_coo_tensor(edge_index.flip(0), size=num_nodes),
        "torch CSR": to_torch_csr_tensor(edge_index.flip(0), size=num_nodes),
    }
    try:
        from torch_sparse import SparseTensor

        forms["SparseTensor"] = SparseTensor.from_edge_index(
            edge_index.flip(0), sparse_sizes=(num_nodes, num_nodes)
        )
    except ImportError:
        pass
    for name, adj in forms.items():
        actual = layer(x, adj)
        assert torch.allclose(actual, expected, atol=atol), f"{name} input differs from edge_index"


def assert_reset_restores(module: nn.Module, run: Callable[[], Tensor]) -> None:
    """After ``reset_parameters()`` with the same seed, ``run()`` reproduces its first output."""
    torch.manual_seed(0)
    module.reset_parameters()
    first = run()
    run()  # a training-mode call moves state (the experience) that reset must restore
    torch.manual_seed(0)
    module.reset_parameters()
    torch.testing.assert_close(run(), first)
