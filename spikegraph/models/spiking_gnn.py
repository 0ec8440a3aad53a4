"""A spiking graph network: encoder, stacked SpikingASConv layers, read-out to logits."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import torch
import torch.nn.functional as F
from torch import Tensor, nn
from tqdm.auto import tqdm

from spikegraph.encoders import get_encoder
from spikegraph.neurons import LIF
from spikegraph.nn import SpikingASConv
from spikegraph.synapse import ScalingShape
from spikegraph.typing import Adj
from spikegraph.utils.checks import check_finite

__all__ = ["SpikingGNN"]

READOUTS = ("membrane", "rate")
DROPOUT_MASKS = ("sequence", "step")


class SpikingGNN(nn.Module):
    """Node classifier: ``[N, C]`` features -> ``T`` steps of spikes -> ``[N, classes]`` logits.

    Hidden layers are :class:`~spikegraph.nn.SpikingASConv` layers that emit spikes. The last
    layer either integrates without spiking and its currents are averaged over time
    (``readout="membrane"``), or spikes and its firing rates, times ``rate_scale``, are the logits
    (``readout="rate"``, the GC-SNN read-out).

    Args:
        in_channels: node feature size.
        hidden_channels: width of the spiking hidden layers.
        out_channels: number of classes.
        num_layers: number of graph layers (>= 1).
        T: time steps.
        encoder: ``"repeat"`` (direct coding) or ``"bernoulli"``.
        dropout: dropout on the features and on each hidden spike train.
        dropout_mask: ``"sequence"`` (default): one mask per node and channel for all ``T``
            steps, so that a dropped-out hidden neuron is silent for the whole sequence and
            a kept one passes its spike train unchanged but for the factor :math:`1/(1-p)`;
            ``"step"``: a fresh mask at every step.
        scaling: scaling shape (name, instance or ``None``) of every layer, or a sequence
            with one per layer.
        decay, threshold, reset, surrogate: LIF settings of the hidden neurons.
        readout: ``"membrane"`` or ``"rate"``.
        rate_scale: logits per unit firing rate for ``readout="rate"``.
        target_rate: expected firing rate of the spiking layers (one number, or one per
            spiking layer; see :class:`~spikegraph.synapse.TargetRate`), or ``None``
            (default: the layers fire freely). The model is a building block and leaves the
            rate to its user; the node-classification examples (``examples/cora.py``,
            ``citeseer.py``, ``ogbn_arxiv.py``) set 0.1 on their command line
            (``--target-rate none`` to fire freely).
        **conv_kwargs: passed to every :class:`~spikegraph.nn.SpikingASConv`.
    """

    def __init__(
        self,
        in_channels: int,
        hidden_channels: int,
        out_channels: int,
        *,
        num_layers: int = 2,
        T: int = 8,
        encoder: str = "repeat",
        dropout: float = 0.5,
        dropout_mask: str = "sequence",
        scaling: str | ScalingShape | None | Sequence[str | ScalingShape | None] = "relative",
        decay: float = 0.5,
        threshold: float = 1.0,
        reset: str = "soft",
        surrogate: str = "atan",
        readout: str = "membrane",
        rate_scale: float = 10.0,
        target_rate: float | Sequence[float | None] | None = None,
        **conv_kwargs,
    ) -> None:
        super().__init__()
        if num_layers < 1:
            raise ValueError(f"num_layers must be >= 1, got {num_layers}")
        if readout not in READOUTS:
            raise ValueError(f"unknown readout {readout!r}; choose one of {READOUTS}")
        if dropout_mask not in DROPOUT_MASKS:
            raise ValueError(
                f"unknown dropout_mask {dropout_mask!r}; choose one of {DROPOUT_MASKS}"
            )
        self.dropout_mask = dropout_mask
        self.encoder = get_encoder(encoder, T)
        self.dropout = dropout
        self.readout = readout
        self.rate_scale = rate_scale
        sizes = [in_channels] + [hidden_channels] * (num_layers - 1) + [out_channels]
        shapes = _per_layer(scaling, num_layers, "scaling")
        spiking = num_layers - (readout == "membrane")
        targets = _per_layer(target_rate, spiking, "target_rate", "spiking layers")
        targets += [None] * (num_layers - spiking)
        self.convs = nn.ModuleList()
        for i, (c_in, c_out) in enumerate(zip(sizes[:-1], sizes[1:], strict=True)):
            last = i == num_layers - 1
            neuron = (
                None if last and readout == "membrane" else LIF(decay, threshold, reset, surrogate)
            )
            self.convs.append(
                SpikingASConv(
                    c_in,
                    c_out,
                    scaling=shapes[i],
                    neuron=neuron,
                    target_rate=targets[i],
                    **conv_kwargs,
                )
            )

    @property
    def T(self) -> int:
        return self.encoder.T

    def reset_parameters(self) -> None:
        for conv in self.convs:
            conv.reset_parameters()

    def reset_experience(
        self, synapses: Tensor | int | None = None, num_nodes: int | None = None
    ) -> None:
        """Forget every layer's experience; name the full graph's synapses for mini-batches
        (see ``forward``'s ``e_id`` and :meth:`~spikegraph.nn.conv.edge_state.EdgeExperience.reset_experience`)."""
        for conv in self.convs:
            conv.reset_experience(synapses, num_nodes)

    def forward(
        self,
        x: Tensor,
        edge_index: Adj,
        edge_weight: Tensor | None = None,
        e_id: Tensor | None = None,
    ) -> Tensor:
        """Logits ``[N, classes]``; ``e_id`` (global edge ids of a sampled subgraph) is passed
        to every layer, see :class:`~spikegraph.nn.SpikingASConv`."""
        check_finite(x, "x")
        if x.dim() != 2:
            raise ValueError(f"x must be node features [N, C], got shape {tuple(x.shape)}")
        h = self.encoder(F.dropout(x, self.dropout, self.training))
        for i, conv in enumerate(self.convs):
            if i > 0:
                h = self._hidden_dropout(h)
            h = conv(h, edge_index, edge_weight, e_id)
        if self.readout == "membrane":
            return h.mean(0)
        return self.rate_scale * h.mean(0)

    def _hidden_dropout(self, h: Tensor) -> Tensor:
        """Dropout on a hidden spike train ``[T, N, C]`` (see ``dropout_mask``)."""
        if not self.training or self.dropout_mask == "step" or not 0.0 < self.dropout < 1.0:
            return F.dropout(h, self.dropout, self.training)
        keep = torch.empty_like(h[0]).bernoulli_(1.0 - self.dropout)
        return h * keep.div_(1.0 - self.dropout)

    @torch.no_grad()
    def inference(self, x: Tensor, loader: Iterable, *, progress: bool = False) -> Tensor:
        """Logits ``[N, classes]`` of every node, computed one layer at a time over all nodes
        (PyG's layer-wise inference): each layer runs over every batch of ``loader`` before the
        next layer starts, so no node's receptive field is sampled or computed twice.

        ``loader`` yields the one-hop, full-neighbourhood subgraphs of a graph whose nodes are
        all seeds once, e.g. PyG's ``NeighborLoader(data, num_neighbors=[-1], shuffle=False)``
        (:func:`spikegraph.tasks.minibatch.layerwise_loader`): batches with ``n_id`` (seeds
        first), ``batch_size``, ``edge_index`` (edges into the seeds), ``e_id`` and, where the
        graph has them, ``edge_weight``. Every layer is then called bipartite, from the batch's
        nodes into its seeds, so the layers must be built with ``normalize=False`` and
        ``add_self_loops=False`` and the graph must carry its self-loops and GCN weights
        (:func:`~spikegraph.tasks.minibatch.global_gcn_graph`), as for mini-batch training;
        the outputs then equal a full-graph call's up to summation order.

        Memory: one layer's output for all nodes, ``[T, N, hidden]``, is held at a time, as
        bytes for spiking layers (their outputs are 0/1: ``T * N * hidden`` bytes, 173 MB for
        169,343 nodes, 128 channels and ``T = 8``; 693 MB as floats) and as the time mean
        ``[N, classes]`` for the last layer. Needs eval mode (no dropout, no experience update).
        """
        if self.training:
            raise RuntimeError("inference() is for evaluation: call model.eval() first")
        check_finite(x, "x")
        if x.dim() != 2:
            raise ValueError(f"x must be node features [N, C], got shape {tuple(x.shape)}")
        h = self.encoder(x)
        for i, conv in enumerate(self.convs):
            last = i == len(self.convs) - 1
            bar = tqdm(loader, desc=f"layer {i + 1}", disable=not progress, leave=False)
            h = _layer_over_batches(conv, h, bar, x.dtype, time_mean=last)
        return h if self.readout == "membrane" else self.rate_scale * h

    def __repr__(self) -> str:
        convs = ", ".join(repr(c) for c in self.convs)
        return f"{type(self).__name__}(T={self.T}, readout={self.readout}, convs=[{convs}])"


def _per_layer(value: object, layers: int, name: str, what: str = "layers") -> list:
    """``value`` for each of ``layers`` layers: a sequence gives one per layer (a string, a shape,
    a number or ``None`` is one value for all)."""
    if not isinstance(value, Sequence) or isinstance(value, str):
        return [value] * layers
    values = list(value)
    if len(values) != layers:
        raise ValueError(f"{name} has {len(values)} values for {layers} {what}")
    return values


def _take_nodes(h: Tensor, index: Tensor, dtype: torch.dtype) -> Tensor:
    """``h[:, index]`` as ``dtype``; a stride-0 time axis (a repeated input) stays a view."""
    if h.shape[0] > 1 and h.stride(0) == 0:
        return h[0, index].to(dtype).expand(h.shape[0], -1, -1)
    return h[:, index].to(dtype)


def _layer_over_batches(
    conv: SpikingASConv, h: Tensor, batches: Iterable, dtype: torch.dtype, time_mean: bool
) -> Tensor:
    """One layer over every node: ``[T, N, C_out]`` (bytes for a LIF layer's 0/1 spikes), or
    its mean over time ``[N, C_out]`` with ``time_mean``."""
    steps, num_nodes = h.shape[:2]
    spikes = isinstance(conv.neuron, LIF) and not time_mean  # LIF emits exactly 0. or 1.
    shape = (num_nodes, conv.out_channels) if time_mean else (steps, num_nodes, conv.out_channels)
    out = torch.zeros(shape, dtype=torch.uint8 if spikes else dtype, device=h.device)
    for batch in batches:
        n = batch.batch_size
        x_src = _take_nodes(h, batch.n_id, dtype)
        y = conv(
            (x_src, x_src[:, :n]),
            batch.edge_index,
            getattr(batch, "edge_weight", None),
            e_id=getattr(batch, "e_id", None),
            size=(batch.n_id.numel(), n),
        )
        seeds = batch.n_id[:n]
        if time_mean:
            out[seeds] = y.mean(0)
        else:
            out[:, seeds] = y.to(out.dtype)
    return out
