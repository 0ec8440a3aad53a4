"""A spiking MLP for event frames: the AS-SNN authors' N-MNIST network on :class:`ASLinear`."""

from __future__ import annotations

from torch import Tensor, nn

from spikegraph.neurons import LIF
from spikegraph.nn import ASLinear
from spikegraph.synapse import ScalingShape
from spikegraph.utils.checks import check_finite

__all__ = ["SpikingMLP", "READOUTS"]

READOUTS = ("membrane", "rate")


class SpikingMLP(nn.Module):
    r"""Frames ``[B, T, *frame]`` -> ``T`` steps of spiking dense layers -> logits ``[B, K]``.

    Every layer is an :class:`~spikegraph.nn.ASLinear`; the hidden ones are followed by LIF
    neurons. The read-out is either

    - ``"membrane"`` (default): the output layer does not fire; the logits are its synaptic
      current averaged over the ``T`` steps, :math:`\frac1T \sum_t I_t`, i.e. the membrane
      of a non-leaking, non-firing integrator read at the end and divided by ``T``. Every
      output unit gets a gradient on every sample, so none can fall silent for good;
    - ``"rate"``: the output layer fires too (LIF) and the logits are its firing rates times
      ``rate_scale`` (the AS-SNN authors' read-out). An output neuron whose membrane stays
      far below threshold then passes little gradient (none with the rectangular surrogate).

    The other defaults are the authors' N-MNIST setting: 2312 -> 512 -> 10, soft-reset LIF
    with decay 0.25 and threshold 0.2, and the library's atan surrogate, which passes a
    gradient at every membrane value (the authors' rectangular window passes none to a
    neuron far from threshold). Frames enter as real-valued input currents, clipped at
    ``input_clip``: with the default ``1.0`` a pixel that saw an event in a frame's time bin
    drives its synapses fully, whatever the count, and test-time noise adds fractions.

    Args:
        in_features: size of one flattened frame (``2 * 34 * 34 = 2312`` for N-MNIST).
        hidden: widths of the hidden layers (an int for one hidden layer).
        out_features: number of classes.
        scaling: scaling shape of every layer (name, instance or ``None`` for the baseline).
        decay, threshold, reset, surrogate: LIF settings.
        readout: ``"membrane"`` or ``"rate"`` (above).
        rate_scale: logits per unit output firing rate (``readout="rate"`` only).
        input_clip: upper bound applied to the frames (``None``: no clipping).
        **layer_kwargs: passed to every :class:`~spikegraph.nn.ASLinear`.
    """

    def __init__(
        self,
        in_features: int = 2312,
        hidden: int | tuple[int, ...] = 512,
        out_features: int = 10,
        *,
        scaling: str | ScalingShape | None = "tent",
        decay: float = 0.25,
        threshold: float = 0.2,
        reset: str = "soft",
        surrogate: str = "atan",
        readout: str = "membrane",
        rate_scale: float = 10.0,
        input_clip: float | None = 1.0,
        **layer_kwargs,
    ) -> None:
        super().__init__()
        if readout not in READOUTS:
            raise ValueError(f"unknown readout {readout!r}; choose one of {READOUTS}")
        hidden = (hidden,) if isinstance(hidden, int) else tuple(hidden)
        sizes = [in_features, *hidden, out_features]
        self.in_features = in_features
        self.readout = readout
        self.rate_scale = rate_scale
        self.input_clip = input_clip
        fires = [True] * len(hidden) + [readout == "rate"]
        self.layers = nn.ModuleList(
            ASLinear(
                c_in,
                c_out,
                scaling=scaling,
                neuron=LIF(decay, threshold, reset, surrogate) if spiking else None,
                **layer_kwargs,
            )
            for c_in, c_out, spiking in zip(sizes[:-1], sizes[1:], fires, strict=True)
        )

    def reset_parameters(self) -> None:
        for layer in self.layers:
            layer.reset_parameters()

    def forward(self, frames: Tensor, gates: list[Tensor | None] | None = None) -> Tensor:
        """Rate logits of a batch of frame sequences.

        Args:
            frames: ``[B, T, ...]``; everything after ``T`` is flattened to ``in_features``.
            gates: optional multiplicative masks, one per hidden layer (``None`` = no gate),
                each broadcastable to that layer's spikes ``[T, B, hidden]`` (context gating).
        """
        check_finite(frames, "frames")
        if frames.dim() < 3 or frames[0, 0].numel() != self.in_features:
            raise ValueError(
                f"frames must be [B, T, ...] with {self.in_features} values per frame, "
                f"got shape {tuple(frames.shape)}"
            )
        if self.input_clip is not None:
            frames = frames.clamp(max=self.input_clip)
        h = frames.flatten(2).transpose(0, 1)  # [T, B, C]
        for i, layer in enumerate(self.layers):
            h = layer(h)
            if gates is not None and i < len(gates) and gates[i] is not None:
                h = h * gates[i]
        logits = h.mean(0)  # mean output current (membrane) or firing rate
        return logits if self.readout == "membrane" else self.rate_scale * logits
