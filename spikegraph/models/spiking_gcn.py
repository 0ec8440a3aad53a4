"""SpikingGCN (Zhu et al., IJCAI 2022) on the shared neurons and dense synapses."""

from __future__ import annotations

import torch
from torch import Tensor, nn
from torch_geometric.nn.conv.gcn_conv import gcn_norm

from spikegraph.encoders import BernoulliEncoder, get_encoder
from spikegraph.models._blocks import SequenceBatchNorm, SpikingStage
from spikegraph.neurons import LIF
from spikegraph.nn import ASLinear
from spikegraph.synapse import ScalingShape
from spikegraph.typing import Adj
from spikegraph.utils.checks import check_finite
from spikegraph.utils.graph import to_edge_index

__all__ = ["SpikingGCN"]


class SpikingGCN(nn.Module):
    r"""SpikingGCN: graph convolution once, then a spiking classifier (Zhu, Yu, Li, Wen, Yu,
    Li, Wu, "Spiking Graph Convolutional Networks", IJCAI 2022).

    The features are propagated :math:`K` hops without learning, as in SGC, and cached for the
    fixed graph; a rate encoder turns them into spike trains, a dense spiking layer
    (:class:`~spikegraph.nn.ASLinear`) classifies them, and the firing rates are read out:

    .. math::
        \tilde X = \hat A^K X, \qquad
        x(t) \sim \mathrm{Bernoulli}(\tilde X / \max \tilde X) \ \text{or}\ x(t) = \tilde X,

    .. math::
        s(t) = \mathrm{LIF}\bigl(\mathrm{BN}(W x(t))\bigr), \qquad
        \mathrm{logits} = W_o \frac{1}{T} \sum_t s(t) + b_o,

    with :math:`\hat A = D^{-1/2}(A + I)D^{-1/2}`. With ``hidden_channels=None`` the spiking
    layer is the output layer, as in the paper, and the logits are
    ``rate_scale`` times its firing rates. With a width it is a hidden layer and a linear
    read-out follows, as in SGNNBench's configuration (width 512, ``K = 6``, ``T = 5``,
    threshold 0.5, batch norm); SGNNBench's code defines a Poisson encoder but feeds the
    propagated features directly (``encoder="repeat"``, the default here).

    Args:
        in_channels: node feature size.
        hidden_channels: width of the spiking layer, or ``None`` for the paper's single layer.
        out_channels: number of classes.
        K: propagation hops (default ``6``).
        T: time steps (default ``5``).
        encoder: ``"repeat"`` (direct input, default) or ``"bernoulli"`` (rate coding of the
            propagated features scaled to ``[0, 1]``).
        batch_norm: batch normalisation of the currents (default ``True``).
        dropout: dropout on the propagated features (default ``0.0``).
        decay, threshold, reset, surrogate: LIF settings (defaults ``0.5``, ``1.0``,
            ``"hard"``, ``"atan"``: SGNNBench's :math:`\tau = 2` and threshold 0.5 for a
            membrane that integrates :math:`I/\tau`, in our units
            :math:`v_t = \lambda v_{t-1} + I_t`).
        rate_scale: logits per unit firing rate without a hidden width (default ``10.0``).
        scaling: adaptive synaptic scaling of the dense synapses (a shape name or ``None``,
            the default: the paper has none).
        target_rate: an expected firing rate of the spiking layer, or ``None`` (default).
        cached: keep :math:`\tilde X` of the first call (default ``True``: one fixed graph).

    Shapes:
        - input: ``x`` ``[N, C_in]``, ``edge_index`` ``[2, E]`` or a sparse adjacency
        - output: logits ``[N, C_out]``
    """

    def __init__(
        self,
        in_channels: int,
        hidden_channels: int | None,
        out_channels: int,
        *,
        K: int = 6,
        T: int = 5,
        encoder: str = "repeat",
        batch_norm: bool = True,
        dropout: float = 0.0,
        decay: float = 0.5,
        threshold: float = 1.0,
        reset: str = "hard",
        surrogate: str = "atan",
        rate_scale: float = 10.0,
        scaling: str | ScalingShape | None = None,
        target_rate: float | None = None,
        cached: bool = True,
    ) -> None:
        super().__init__()
        if K < 0:
            raise ValueError(f"K must be >= 0, got {K}")
        self.K = K
        self.encoder = get_encoder(encoder, T)
        self.dropout = dropout
        self.rate_scale = rate_scale
        self.cached = cached
        self._cached_x: Tensor | None = None
        width = out_channels if hidden_channels is None else hidden_channels
        self.lin = ASLinear(in_channels, width, scaling=scaling, neuron=None)
        norm = SequenceBatchNorm(width) if batch_norm else None
        self.spiking = SpikingStage(norm, LIF(decay, threshold, reset, surrogate), target_rate)
        self.readout = None if hidden_channels is None else nn.Linear(width, out_channels)
        self.reset_parameters()

    @property
    def T(self) -> int:
        return self.encoder.T

    def reset_parameters(self) -> None:
        self._cached_x = None
        self.lin.reset_parameters()
        self.spiking.reset_parameters()
        if self.readout is not None:
            self.readout.reset_parameters()

    def propagate(self, x: Tensor, edge_index: Adj) -> Tensor:
        """:math:`\\hat A^K X`, cached for the fixed graph with ``cached=True``."""
        if self.cached and self._cached_x is not None:
            if self._cached_x.shape != x.shape:
                raise ValueError(
                    f"cached propagated features are {tuple(self._cached_x.shape)}, the input "
                    f"is {tuple(x.shape)}: a new graph needs cached=False or reset_parameters()"
                )
            return self._cached_x
        num_nodes = x.shape[0]
        edge_index, edge_weight = to_edge_index(edge_index, None, num_nodes)
        (src, dst), w = gcn_norm(edge_index, edge_weight, num_nodes, add_self_loops=True)
        out = x.detach()
        for _ in range(self.K):
            out = torch.zeros_like(out).index_add_(0, dst, out[src] * w.unsqueeze(-1))
        if self.cached:
            self._cached_x = out
        return out

    def forward(self, x: Tensor, edge_index: Adj) -> Tensor:
        check_finite(x, "x")
        if x.dim() != 2:
            raise ValueError(f"x must be node features [N, C], got shape {tuple(x.shape)}")
        h = self.propagate(x, edge_index)
        h = nn.functional.dropout(h, self.dropout, self.training)
        if isinstance(self.encoder, BernoulliEncoder):
            h = h.clamp_min(0) / h.max().clamp_min(1e-12)
        x_t = self.encoder(h)
        if x_t.stride(0) == 0 and not self.lin.scaling.enabled:  # repeated: transform once
            current = self.lin(x_t[:1]).expand(self.T, -1, -1)
        else:
            current = self.lin(x_t)
        spikes = self.spiking(current)
        rate = spikes.mean(0)
        if self.readout is None:
            return self.rate_scale * rate
        return self.readout(rate)

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(K={self.K}, T={self.T}, lin={self.lin!r}, "
            f"readout={self.readout!r})"
        )
