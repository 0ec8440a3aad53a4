"""GA-SNN (Xu et al., IJCAI 2021): graph attention, STFN, LIF, rate read-out."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor, nn
from torch_geometric.utils import add_remaining_self_loops, softmax

from spikegraph.models._blocks import STFNStack
from spikegraph.nn import ASLinear
from spikegraph.synapse import ScalingShape
from spikegraph.typing import Adj
from spikegraph.utils.graph import to_edge_index

__all__ = ["GASNN", "SpikingGraphAttention"]


class SpikingGraphAttention(nn.Module):
    r"""Multi-head graph attention over a sequence, step by step (GAT, Velickovic et al.,
    ICLR 2018, as GA-SNN uses it). The projection is a dense synapse
    (:class:`~spikegraph.nn.ASLinear`, with optional adaptive scaling of its inputs):

    .. math::
        h_j(t) = W x_j(t), \quad
        \alpha_{ij}(t) = \operatorname{softmax}_{j \in \mathcal N(i) \cup \{i\}}
            \operatorname{LeakyReLU}\bigl(a_s^\top h_j(t) + a_d^\top h_i(t)\bigr), \quad
        I_i(t) = \Big\Vert_{k=1}^{H} \sum_j \alpha^k_{ij}(t)\, h^k_j(t) + b.

    Args:
        in_channels: input channels.
        out_channels: output channels (all heads together; divisible by ``heads``).
        heads: attention heads (default ``4``).
        negative_slope: of the LeakyReLU (default ``0.2``).
        scaling: scaling shape of the projection's synapses, or ``None`` (default).

    Shapes:
        - input: ``x`` ``[T, N, C_in]``, ``edge_index`` ``[2, E]`` or a sparse adjacency
        - output: currents ``[T, N, C_out]``
    """

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        *,
        heads: int = 4,
        negative_slope: float = 0.2,
        scaling: str | ScalingShape | None = None,
    ) -> None:
        super().__init__()
        if heads < 1 or out_channels % heads:
            raise ValueError(f"out_channels={out_channels} must be a multiple of heads={heads}")
        self.heads = heads
        self.out_channels = out_channels
        self.negative_slope = negative_slope
        self.lin = ASLinear(in_channels, out_channels, scaling=scaling, neuron=None, bias=False)
        self.att_src = nn.Parameter(torch.empty(heads, out_channels // heads))
        self.att_dst = nn.Parameter(torch.empty(heads, out_channels // heads))
        self.bias = nn.Parameter(torch.empty(out_channels))
        self.reset_parameters()

    def reset_parameters(self) -> None:
        self.lin.reset_parameters()
        nn.init.xavier_uniform_(self.att_src)
        nn.init.xavier_uniform_(self.att_dst)
        nn.init.zeros_(self.bias)

    def forward(self, x: Tensor, edge_index: Adj) -> Tensor:
        T, N = x.shape[:2]
        edge_index, _ = to_edge_index(edge_index, None, N)
        src, dst = add_remaining_self_loops(edge_index, num_nodes=N)[0]
        repeated = T > 1 and x.stride(0) == 0 and not self.lin.scaling.enabled
        h = self.lin(x[:1] if repeated else x)  # [T', N, C]
        steps = []
        for h_t in h.view(h.shape[0], N, self.heads, -1).unbind(0):
            score = (h_t * self.att_src).sum(-1)[src] + (h_t * self.att_dst).sum(-1)[dst]
            alpha = softmax(F.leaky_relu(score, self.negative_slope), dst, num_nodes=N)
            message = h_t[src] * alpha.unsqueeze(-1)  # [E, H, D]
            out = h_t.new_zeros(h_t.shape).index_add_(0, dst, message)
            steps.append(out.reshape(N, -1) + self.bias)
        out = torch.stack(steps)
        return out.expand(T, -1, -1) if repeated else out

    def extra_repr(self) -> str:
        return f"heads={self.heads}, out_channels={self.out_channels}"


class GASNN(STFNStack):
    r"""GA-SNN: graph attention spiking network with spatial-temporal feature normalisation
    (Xu, Deng, Wang, Xiao, Shi, Li, Pei, "Exploiting spiking dynamics with spatial-temporal
    feature normalization in graph learning", IJCAI 2021).

    GC-SNN (:class:`~spikegraph.models.GCSNN`) with attention in place of the fixed GCN
    weights (:class:`SpikingGraphAttention`):

    .. math::
        I^{l}(t) = \mathrm{GAT}^{l}\bigl(s^{l-1}(t)\bigr), \qquad
        s^{l}(t) = \mathrm{LIF}\bigl(\mathrm{STFN}(I^{l}(1..t))\bigr), \qquad
        \mathrm{logits} = W_o \frac{1}{T}\sum_t s^{L}(t) + b_o,

    with :math:`s^0(t) = X`. Defaults follow SGNNBench's configuration (width 256, 4 heads,
    two layers, ``T = 20``, SGNNBench's threshold 0.5 and :math:`\tau = 2`: decay 0.5,
    threshold 1.0 and ``rho=0.5`` in our units, see :class:`~spikegraph.models.GCSNN`).
    Deviation: SGNNBench mixes the heads with one more linear map and averages the messages;
    here the heads are concatenated and summed, as in GAT.

    Args:
        in_channels: node feature size.
        hidden_channels: width of every spiking layer (all heads together).
        out_channels: number of classes.
        num_layers: spiking attention layers (default ``2``).
        heads: attention heads (default ``4``).
        T: time steps (default ``20``).
        encoder: ``"repeat"`` (default) or ``"bernoulli"``.
        dropout: dropout on the features and on each hidden spike train (default ``0.0``).
        decay, threshold, reset, surrogate: LIF settings (defaults ``0.5``, ``1.0``,
            ``"hard"``, ``"atan"``).
        rho: STFN's :math:`\rho` (default ``0.5``).
        scaling: adaptive scaling of the projections' dense synapses (a shape name or
            ``None``, the default: the paper has none).
        target_rate: an expected firing rate of every spiking layer, or ``None`` (default).

    Shapes:
        - input: ``x`` ``[N, C_in]``, ``edge_index`` ``[2, E]`` or a sparse adjacency
        - output: logits ``[N, C_out]``
    """

    def __init__(
        self,
        in_channels: int,
        hidden_channels: int,
        out_channels: int,
        *,
        num_layers: int = 2,
        heads: int = 4,
        T: int = 20,
        encoder: str = "repeat",
        dropout: float = 0.0,
        decay: float = 0.5,
        threshold: float = 1.0,
        reset: str = "hard",
        surrogate: str = "atan",
        rho: float = 0.5,
        scaling: str | ScalingShape | None = None,
        target_rate: float | None = None,
    ) -> None:
        super().__init__(
            lambda c_in, c_out: SpikingGraphAttention(c_in, c_out, heads=heads, scaling=scaling),
            in_channels,
            hidden_channels,
            out_channels,
            num_layers=num_layers,
            T=T,
            encoder=encoder,
            dropout=dropout,
            decay=decay,
            threshold=threshold,
            reset=reset,
            surrogate=surrogate,
            rho=rho,
            target_rate=target_rate,
        )
