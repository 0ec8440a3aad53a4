"""GC-SNN (Xu et al., IJCAI 2021): GCN aggregation, STFN, LIF, rate read-out."""

from __future__ import annotations

from spikegraph.models._blocks import STFNStack
from spikegraph.nn import SpikingASConv
from spikegraph.synapse import ScalingShape

__all__ = ["GCSNN"]


class GCSNN(STFNStack):
    r"""GC-SNN: graph convolutional spiking network with spatial-temporal feature
    normalisation (Xu, Deng, Wang, Xiao, Shi, Li, Pei, "Exploiting spiking dynamics with
    spatial-temporal feature normalization in graph learning", IJCAI 2021).

    The node features are fed at every step (direct coding); each layer aggregates with GCN
    weights on :class:`~spikegraph.nn.SpikingASConv` (synapses = edges), normalises the
    currents with :class:`~spikegraph.nn.STFNorm` and fires LIF spikes; a linear read-out
    classifies the last layer's firing rates:

    .. math::
        I^{l}(t) = \hat A\, s^{l-1}(t)\, W^{l} + b^{l}, \qquad
        s^{l}(t) = \mathrm{LIF}\bigl(\mathrm{STFN}(I^{l}(1..t))\bigr), \qquad
        \mathrm{logits} = W_o \frac{1}{T}\sum_t s^{L}(t) + b_o,

    with :math:`s^0(t) = X` and :math:`\hat A = D^{-1/2}(A + I)D^{-1/2}`. Defaults follow
    SGNNBench's configuration (width 256, two layers, ``T = 25``, threshold 0.5,
    :math:`\tau = 2`, hard reset); their membrane integrates :math:`I/\tau`, so in our units
    (:math:`v_t = \lambda v_{t-1} + I_t`) that is decay 0.5, threshold 1.0 and STFN's
    :math:`\rho V_{th} = 0.5` (``rho=0.5``). Deviation: SGNNBench aggregates with a mean
    over the GCN-weighted neighbours without self-loops and a bias per message; this is the
    paper's GCN aggregation.

    Args:
        in_channels: node feature size.
        hidden_channels: width of every spiking layer (default read-out input).
        out_channels: number of classes.
        num_layers: spiking graph layers (default ``2``).
        T: time steps (default ``25``).
        encoder: ``"repeat"`` (default) or ``"bernoulli"``.
        dropout: dropout on the features and on each hidden spike train (default ``0.0``).
        decay, threshold, reset, surrogate: LIF settings (defaults ``0.5``, ``1.0``,
            ``"hard"``, ``"atan"``).
        rho: STFN's :math:`\rho` (default ``0.5``).
        scaling: adaptive synaptic scaling of every graph layer's edges (a shape name or
            ``None``, the default: the paper has none).
        target_rate: an expected firing rate of every spiking layer, or ``None`` (default).
        **conv_kwargs: passed to every :class:`~spikegraph.nn.SpikingASConv` (default
            ``cached=True``).

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
        T: int = 25,
        encoder: str = "repeat",
        dropout: float = 0.0,
        decay: float = 0.5,
        threshold: float = 1.0,
        reset: str = "hard",
        surrogate: str = "atan",
        rho: float = 0.5,
        scaling: str | ScalingShape | None = None,
        target_rate: float | None = None,
        **conv_kwargs,
    ) -> None:
        super().__init__(
            lambda c_in, c_out: SpikingASConv(
                c_in, c_out, scaling=scaling, neuron=None, **{"cached": True, **conv_kwargs}
            ),
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
