r"""Spatial-temporal feature normalisation (STFN) of membrane currents."""

from __future__ import annotations

import torch
from torch import Tensor, nn

from spikegraph.utils.checks import check_sequence

__all__ = ["STFNorm"]


class STFNorm(nn.Module):
    r"""Spatial-temporal feature normalisation (Xu et al., "Exploiting spiking dynamics with
    spatial-temporal feature normalization in graph learning", IJCAI 2021).

    Every node's input current is normalised over its channels *and* the time steps seen so
    far (causal, as the neurons see it), then scaled to the firing threshold:

    .. math::
        \mu_i(t) = \frac{1}{tC} \sum_{\tau \le t} \sum_c I_{ic}(\tau), \qquad
        \sigma_i^2(t) = \frac{1}{tC} \sum_{\tau \le t} \sum_c I_{ic}(\tau)^2 - \mu_i(t)^2,

    .. math::
        \hat I_{ic}(t) = \gamma_c\, \rho V_{th}\,
            \frac{I_{ic}(t) - \mu_i(t)}{\sqrt{\sigma_i^2(t) + \epsilon}} + \beta_c .

    The statistics are those of each node's own sequence, in training and in evaluation alike
    (as layer normalisation; no running averages, so nothing depends on the graph trained on).
    Deviation: SGNNBench keeps per-node running statistics for evaluation, which ties the
    layer to the transductive graph.

    Args:
        channels: number of channels :math:`C`.
        threshold: the neurons' firing threshold :math:`V_{th}` (default ``1.0``).
        rho: the factor :math:`\rho` (default ``1.0``).
        eps: :math:`\epsilon` (default ``1e-5``).
        affine: learn :math:`\gamma, \beta` per channel (default ``True``).

    Shapes:
        - input: currents ``[T, N, C]``
        - output: normalised currents ``[T, N, C]``
    """

    def __init__(
        self,
        channels: int,
        threshold: float = 1.0,
        *,
        rho: float = 1.0,
        eps: float = 1e-5,
        affine: bool = True,
    ) -> None:
        super().__init__()
        if threshold <= 0:
            raise ValueError(f"threshold must be > 0, got {threshold}")
        self.channels = channels
        self.threshold = threshold
        self.rho = rho
        self.eps = eps
        self.weight = nn.Parameter(torch.empty(channels)) if affine else None
        self.bias = nn.Parameter(torch.empty(channels)) if affine else None
        self.reset_parameters()

    def reset_parameters(self) -> None:
        if self.weight is not None:
            nn.init.ones_(self.weight)
            nn.init.zeros_(self.bias)

    def forward(self, current: Tensor) -> Tensor:
        check_sequence(current, self.channels, "current")
        T, C = current.shape[0], current.shape[-1]
        count = torch.arange(1, T + 1, dtype=current.dtype, device=current.device) * C
        count = count.view(T, *([1] * (current.dim() - 1)))
        mean = current.sum(-1, keepdim=True).cumsum(0) / count
        square = current.square().sum(-1, keepdim=True).cumsum(0) / count
        var = (square - mean.square()).clamp_min(0.0)
        out = (current - mean) * (self.rho * self.threshold) / (var + self.eps).sqrt()
        if self.weight is not None:
            out = out * self.weight + self.bias
        return out

    def extra_repr(self) -> str:
        return f"{self.channels}, threshold={self.threshold:g}, rho={self.rho:g}"
