"""Property checks for spiking layers, shipped so that user code and our tests stay short.

Each ``assert_*`` raises ``AssertionError`` with a message saying what broke.
"""

from __future__ import annotations

import copy
from collections.abc import Callable

import torch
from torch import Tensor, nn
from torch_geometric.data import Data
from torch_geometric.utils import to_torch_coo_tensor, to_torch_csr_tensor

__all__ = [
    "assert_spikes",
    "assert_permutation_equivariant",
    "assert_adjacency_formats_agree",
    "experience_by_synapse",
    "assert_reset_restores",
    "homophilous_graph",
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


def experience_by_synapse(model: nn.Module) -> dict[str, dict[tuple[int, int], float]]:
    """Every graph layer's experience keyed by synapse ``(source, target)``, by module name
    (layers that have not named their synapses yet are left out)."""
    out = {}
    for name, module in model.named_modules():
        synapses = getattr(module, "synapses", None)
        scaling = getattr(module, "scaling", None)
        if isinstance(synapses, Tensor) and synapses.numel() and scaling is not None:
            keys = map(tuple, synapses.T.tolist())
            out[name] = dict(zip(keys, scaling.experience.tolist(), strict=True))
    return out


def _adjacency_forms(edge_index: Tensor, num_nodes: int) -> dict[str, object]:
    shuffled = edge_index[:, torch.randperm(edge_index.shape[1], generator=torch.Generator())]
    forms: dict[str, object] = {
        "shuffled columns": shuffled,
        "reversed columns": edge_index.flip(1),
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
    return forms


def assert_adjacency_formats_agree(
    layer: nn.Module, x: Tensor, edge_index: Tensor, atol: float = 1e-6
) -> None:
    """The same graph as ``[2, E]`` indices in other column orders, torch sparse COO and CSR
    (and ``SparseTensor`` when installed) gives the same output, in eval and in training mode,
    and a training call leaves the same experience on every synapse.

    Pass a *trained* layer (or model ``layer(x, edge_index)``): its experience must follow the
    synapse (source, target), not the position of an edge in the input. The layer itself is
    not changed (each call runs on a copy)."""
    num_nodes = x.shape[-2]
    for training in (False, True):
        ref = copy.deepcopy(layer).train(training)
        torch.manual_seed(0)  # the same dropout masks for every form
        expected = ref(x, edge_index)
        for name, adj in _adjacency_forms(edge_index, num_nodes).items():
            other = copy.deepcopy(layer).train(training)
            torch.manual_seed(0)
            actual = other(x, adj)
            mode = "training" if training else "eval"
            diff = float((actual - expected).detach().abs().max())
            assert diff <= atol, f"{name} input differs from edge_index in {mode} mode by {diff}"
            if training:
                got, want = experience_by_synapse(other), experience_by_synapse(ref)
                assert got.keys() == want.keys(), f"{name}: different layers hold experience"
                for key in want:
                    assert got[key].keys() == want[key].keys(), f"{name}: {key} synapses differ"
                    worst = max(abs(got[key][k] - v) for k, v in want[key].items())
                    assert worst <= atol, f"{name}: {key} experience differs by {worst}"


def assert_reset_restores(module: nn.Module, run: Callable[[], Tensor]) -> None:
    """After ``reset_parameters()`` with the same seed, ``run()`` reproduces its first output."""
    torch.manual_seed(0)
    module.reset_parameters()
    first = run()
    run()  # a training-mode call moves state (the experience) that reset must restore
    torch.manual_seed(0)
    module.reset_parameters()
    torch.testing.assert_close(run(), first)


def homophilous_graph(
    num_nodes: int = 300,
    num_classes: int = 5,
    channels: int = 32,
    *,
    binary: bool = False,
    validation: bool = False,
    seed: int = 0,
) -> Data:
    """A small planted-partition graph for training tests: edges mostly within a class
    (expected degree about 5 inside, 1 across), features a weak class signal in noise, either
    standardised real values (signed) or binarised, and a random half of the nodes for training
    (``train_mask``; the rest ``test_mask``, or with ``validation`` every other held-out node in
    ``val_mask``). The edges carry most of the signal, so a model that reads the graph beats
    one that does not."""
    g = torch.Generator().manual_seed(seed)
    y = torch.randint(0, num_classes, (num_nodes,), generator=g)
    same = y[:, None] == y[None, :]
    p_in = 5.0 / (num_nodes / num_classes)
    prob = torch.where(same, p_in, 1.0 / num_nodes)
    adj = torch.rand(num_nodes, num_nodes, generator=g) < prob
    adj = (adj | adj.T).fill_diagonal_(False)
    x = 0.4 * torch.randn(num_classes, channels, generator=g)[y]
    x = x + torch.randn(num_nodes, channels, generator=g)
    x = (x > 1.0).float() if binary else (x - x.mean(0)) / x.std(0)
    train = torch.zeros(num_nodes, dtype=torch.bool)
    train[torch.randperm(num_nodes, generator=g)[: num_nodes // 2]] = True
    data = Data(x=x, edge_index=adj.nonzero().T, y=y, train_mask=train, test_mask=~train)
    if validation:
        held_out = data.test_mask.nonzero().flatten()
        data.val_mask = torch.zeros_like(data.test_mask)
        data.val_mask[held_out[::2]] = True
        data.test_mask[held_out[::2]] = False
    return data
