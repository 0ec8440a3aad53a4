r"""Firing sparsity and operation counts, read from any model through forward hooks.

:class:`FiringMonitor` never changes a model's outputs: its hooks only read. It records

- for every spiking neuron module (:class:`~spikegraph.neurons.LIF`, :class:`~spikegraph.neurons.IF`):
  the mean firing rate, the rate per time step, and the fraction of neurons that stay silent
  through a whole forward call; with ``per_node=True`` also the spike count of every node
  (:meth:`FiringMonitor.node_rates`), which :func:`rates_by_degree` bins by node degree;
- for every synaptic layer (:class:`~spikegraph.nn.SpikingASConv`, :class:`~spikegraph.nn.ASLinear`):
  the operations it performs and those of its ANN twin.

**Counting.** A synaptic layer first transforms its input, then (graph layers) aggregates along
the synapses. For spike input the transform is event-driven: each spike adds one weight column,
``C_out`` accumulates (its fan-out into the dense transform); these are the *synaptic operations*
(SOPs). For real-valued input (e.g. a first layer fed with currents) every nonzero input costs
``C_out`` multiply-accumulates (MACs). The aggregation moves real-valued, scaled messages: one MAC
per synapse (edge or self-loop) and output channel at every step. The ANN twin does the same
layer once on real values: ``rows x C_in x C_out`` MACs for the dense transform plus
``synapses x C_out`` for the aggregation. Energy uses the 45 nm figures (Horowitz, 2014):
0.9 pJ per accumulate, 4.6 pJ per MAC. These are estimates of arithmetic only (no memory traffic).
"""

from __future__ import annotations

import inspect
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Self

import torch
from torch import Tensor, nn
from torch.utils.hooks import RemovableHandle

from spikegraph.neurons import LIF
from spikegraph.nn import ASLinear, SpikingASConv

__all__ = ["FiringMonitor", "ForwardHooks", "rates_by_degree", "E_AC_PJ", "E_MAC_PJ"]

E_AC_PJ = 0.9
E_MAC_PJ = 4.6


@dataclass
class _Rates:
    spikes_per_step: Tensor | None = None  # [T] summed over calls
    neurons_per_step: int = 0  # per call
    silent: list[float] = field(default_factory=list)
    per_node: bool = False
    node_spikes: Tensor | None = None  # [N] summed over calls, steps and channels
    node_samples: int = 0  # steps x channels per node, summed over calls

    def add(self, spikes: Tensor) -> None:
        if self.per_node:
            self._add_nodes(spikes)
        per_step = spikes.detach().reshape(spikes.shape[0], -1).sum(1).double()
        if self.spikes_per_step is not None and self.spikes_per_step.numel() != per_step.numel():
            raise ValueError("the number of time steps changed between recorded calls; reset()")
        self.spikes_per_step = (
            per_step if self.spikes_per_step is None else self.spikes_per_step + per_step
        )
        self.neurons_per_step += spikes[0].numel()
        self.silent.append(float((spikes.detach().sum(0) == 0).double().mean()))

    def _add_nodes(self, spikes: Tensor) -> None:
        # Node axis: dim 1 of a time-major [T, N, *channels] output; a [T, N] output has one
        # neuron per node.
        flat = spikes.detach().reshape(spikes.shape[0], spikes.shape[1], -1).double()
        counts = flat.sum((0, 2))
        if self.node_spikes is not None and self.node_spikes.numel() != counts.numel():
            raise ValueError("the number of nodes changed between recorded calls; reset()")
        self.node_spikes = counts if self.node_spikes is None else self.node_spikes + counts
        self.node_samples += flat.shape[0] * flat.shape[2]

    def summary(self) -> dict[str, Any]:
        per_step = (self.spikes_per_step / self.neurons_per_step).tolist()
        return {
            "firing_rate": sum(per_step) / len(per_step),
            "firing_rate_per_step": per_step,
            "silent_fraction": sum(self.silent) / len(self.silent),
        }


@dataclass
class _Ops:
    sops: float = 0.0
    macs: float = 0.0
    ann_macs: float = 0.0


def _is_binary(x: Tensor) -> bool:
    return bool(((x == 0) | (x == 1)).all())


class ForwardHooks:
    """Owns forward hooks and removes them: on leaving a ``with`` block or by :meth:`remove`.
    Subclasses append the handles of the hooks they register to ``self._handles``."""

    def __init__(self) -> None:
        self._handles: list[RemovableHandle] = []

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.remove()

    def remove(self) -> None:
        for handle in self._handles:
            handle.remove()
        self._handles.clear()


class FiringMonitor(ForwardHooks):
    """Record firing rates and operation counts of a model's spiking layers.

    Use as a context manager (hooks are removed on exit) or call :meth:`remove`::

        with FiringMonitor(model) as monitor:
            model(x, edge_index)
        print(monitor.summary())

    Args:
        model: any module containing spikegraph neurons and/or synaptic layers.
        per_node: also keep every node's spike count (off by default: it costs an ``[N]``
            tensor per spiking layer); read it with :meth:`node_rates`.
    """

    def __init__(self, model: nn.Module, *, per_node: bool = False) -> None:
        super().__init__()
        self.per_node = per_node
        self._rates: dict[str, _Rates] = {}
        self._ops: dict[str, _Ops] = {}
        for name, module in model.named_modules():
            if isinstance(module, LIF):
                self._rates[name] = _Rates(per_node=per_node)
                self._handles.append(module.register_forward_hook(self._rate_hook(name)))
            if isinstance(module, (SpikingASConv, ASLinear)):
                self._ops[name] = _Ops()
                hook = self._ops_hook(name)
                self._handles.append(module.register_forward_hook(hook, with_kwargs=True))
        if not self._rates and not self._ops:
            raise ValueError("the model has no spikegraph neurons or synaptic layers to monitor")

    def reset(self) -> None:
        """Forget what was recorded (the hooks stay)."""
        self._rates = {name: _Rates(per_node=self.per_node) for name in self._rates}
        self._ops = {name: _Ops() for name in self._ops}

    def _rate_hook(self, name: str):
        def hook(module: nn.Module, args: tuple, output: Tensor) -> None:
            self._rates[name].add(output)

        return hook

    def _ops_hook(self, name: str):
        def hook(module: nn.Module, args: tuple, kwargs: dict, output: Tensor) -> None:
            x = (args[0] if args else kwargs["x"]).detach()
            ops = self._ops[name]
            T, c_in, c_out = x.shape[0], x.shape[-1], output.shape[-1]
            active = float((x != 0).sum()) * c_out
            if _is_binary(x):
                ops.sops += active
            else:
                ops.macs += active
            rows = x[0].numel() // c_in
            ops.ann_macs += rows * c_in * c_out
            if isinstance(module, SpikingASConv):
                bound = inspect.signature(module.forward).bind(*args, **kwargs).arguments
                adj = module.adjacency(bound["edge_index"], bound.get("edge_weight"), x.shape[-2])
                synapses = adj.edge_index.shape[1]
                ops.macs += T * synapses * c_out
                ops.ann_macs += synapses * c_out

        return hook

    def node_rates(self) -> dict[str, Tensor]:
        """Firing rate of every node (spikes over steps, channels and calls), per spiking layer.

        The node axis is dim 1 of the layer's time-major output ``[T, N, C]``.

        Raises:
            RuntimeError: the monitor was made without ``per_node=True``.
        """
        if not self.per_node:
            raise RuntimeError("node rates need FiringMonitor(model, per_node=True)")
        return {
            name: r.node_spikes / r.node_samples
            for name, r in self._rates.items()
            if r.node_spikes is not None
        }

    def summary(self) -> dict[str, Any]:
        """Per-layer and overall statistics (rates in ``[0, 1]``, counts per recorded call set)."""
        layers = {name: r.summary() for name, r in self._rates.items() if r.neurons_per_step}
        sops = sum(o.sops for o in self._ops.values())
        macs = sum(o.macs for o in self._ops.values())
        ann_macs = sum(o.ann_macs for o in self._ops.values())
        rates = [layer["firing_rate"] for layer in layers.values()]
        energy = sops * E_AC_PJ + macs * E_MAC_PJ
        ann_energy = ann_macs * E_MAC_PJ
        return {
            "layers": layers,
            "firing_rate_mean": sum(rates) / len(rates) if rates else float("nan"),
            "silent_fraction_mean": (
                sum(layer["silent_fraction"] for layer in layers.values()) / len(layers)
                if layers
                else float("nan")
            ),
            "sops": sops,
            "macs": macs,
            "ann_macs": ann_macs,
            "energy_pj": energy,
            "ann_energy_pj": ann_energy,
            "energy_ratio": energy / ann_energy if ann_energy else float("nan"),
        }


def rates_by_degree(
    rates: Tensor, degree: Tensor, bins: Sequence[int] = (0, 1, 2, 4, 8, 16, 32)
) -> dict[str, list]:
    """Mean node firing rate per degree bin.

    Args:
        rates: ``[N]`` node rates (e.g. from :meth:`FiringMonitor.node_rates`).
        degree: ``[N]`` node degrees (e.g. ``torch_geometric.utils.degree(edge_index[1], N)``).
        bins: increasing lower bin edges; bin ``k`` holds degrees in ``[bins[k], bins[k+1])``,
            the last bin is open-ended; degrees below ``bins[0]`` are left out.

    Returns:
        ``{"lower": [...], "upper": [...], "rate_mean": [...], "count": [...]}``, one entry per
        bin; ``upper`` is ``inf`` for the last bin, ``rate_mean`` is ``nan`` for an empty bin.
    """
    if rates.shape != degree.shape or rates.dim() != 1:
        raise ValueError(f"rates and degree must both be [N], got {rates.shape}, {degree.shape}")
    edges = list(bins)
    if not edges or any(b >= a for a, b in zip(edges[1:], edges[:-1], strict=True)):
        raise ValueError(f"bins must be a non-empty increasing sequence, got {bins}")
    index = torch.bucketize(degree.double(), torch.tensor(edges, dtype=torch.double), right=True)
    out: dict[str, list] = {"lower": edges, "upper": [*edges[1:], math.inf]}
    out["count"] = [int((index == k + 1).sum()) for k in range(len(edges))]
    out["rate_mean"] = [
        float(rates[index == k + 1].double().mean()) if n else math.nan
        for k, n in enumerate(out["count"])
    ]
    return out
