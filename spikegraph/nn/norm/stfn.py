r"""Spatial-temporal feature normalisation (STFN) of membrane currents."""

from __future__ import annotations

import torch
from torch import Tensor, nn
from torch.autograd.function import once_differentiable

from spikegraph.utils.checks import check_sequence

__all__ = ["STFNorm"]


def _steps_seen(current: Tensor) -> Tensor:
    """:math:`tC` for every step ``t`` (1-based), shaped ``[T, 1, ..., 1]`` to broadcast."""
    T, C = current.shape[0], current.shape[-1]
    count = torch.arange(1, T + 1, dtype=current.dtype, device=current.device) * C
    return count.view(T, *([1] * (current.dim() - 1)))


def _reverse_cumsum(x: Tensor) -> Tensor:
    r""":math:`\sum_{t' \ge t} x_{t'}` along the time axis."""
    return x.flip(0).cumsum(0).flip(0)


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

    The layer is one autograd node with its gradient written out: forward + backward is
    about 2.8x faster on one CPU thread than autograd on the equations above, a GC-SNN
    training step 1.3x (``benchmarks/stfn.py``).

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
        return _STFNFunction.apply(
            current, self.weight, self.bias, self.rho * self.threshold, self.eps
        )

    def extra_repr(self) -> str:
        return f"{self.channels}, threshold={self.threshold:g}, rho={self.rho:g}"


class _STFNFunction(torch.autograd.Function):
    r"""STFN as one autograd node, with its gradient written out.

    Writing :math:`r_t = \rho V_{th} / \sqrt{\sigma_t^2 + \epsilon}` and
    :math:`\hat x = (I - \mu_t) r_t`, the statistics of step :math:`t` pool the sums
    :math:`S_1 = \sum I`, :math:`S_2 = \sum I^2` of every step up to :math:`t`, so the gradient
    reaching :math:`I(\tau)` from them is a sum over the steps :math:`t \ge \tau`:

    .. math::
        \frac{\partial L}{\partial I_c(\tau)} = g_c(\tau)\, r_\tau
            + \sum_{t \ge \tau} \frac{\bar\mu_t}{tC}
            + 2 I_c(\tau) \sum_{t \ge \tau} \frac{\bar v_t}{tC},
        \qquad
        \bar v_t = -\frac{r_t}{2(\sigma_t^2 + \epsilon)} \sum_c g_c(t) (I_c(t) - \mu_t),
        \quad
        \bar\mu_t = -r_t \sum_c g_c(t) - 2 \mu_t \bar v_t,

    with :math:`g = \partial L / \partial \hat x`. Only per-node, per-step sums are formed
    besides a few passes over the ``[T, N, C]`` tensors (autograd on the plain expression
    makes and keeps several more); the tests check it against that expression.
    """

    @staticmethod
    def forward(ctx, current, weight, bias, scale, eps):  # noqa: ANN001, ANN205
        count = _steps_seen(current)
        mean = current.sum(-1, keepdim=True).cumsum(0) / count
        second = torch.linalg.vector_norm(current, dim=-1, keepdim=True).square_()
        var = second.cumsum(0).div_(count).sub_(mean.square())
        var_plus_eps = var.clamp_min(0.0).add_(eps)
        inv = var_plus_eps.rsqrt().mul_(scale)  # r_t
        normed = torch.addcmul(-mean * inv, current, inv)  # (I - mu) r in one pass
        out = normed if weight is None else torch.addcmul(bias, normed, weight)
        ctx.save_for_backward(current, normed, mean, inv, var_plus_eps, var > 0, weight)
        return out

    @staticmethod
    @once_differentiable
    def backward(ctx, grad_out):  # noqa: ANN001, ANN205
        current, normed, mean, inv, var_plus_eps, var_positive, weight = ctx.saved_tensors
        channels = current.shape[-1]
        weighted = grad_out * normed
        grad_weight = grad_bias = None
        if weight is None:
            grad_normed, dot_normed = grad_out, weighted.sum(-1, keepdim=True)
            sum_grad = grad_out.sum(-1, keepdim=True)
        else:
            grad_normed = grad_out * weight
            dot_normed = (weighted @ weight).unsqueeze(-1)  # sum_c g (I - mu) r
            sum_grad = (grad_out @ weight).unsqueeze(-1)
            grad_weight = weighted.reshape(-1, channels).sum(0)
            grad_bias = grad_out.reshape(-1, channels).sum(0)
        # dL/dr_t = dot_normed / r_t and dr_t/dvar_t = -r_t / (2 (var_t + eps))
        grad_var = dot_normed.div(var_plus_eps).mul_(-0.5).mul_(var_positive)
        grad_mean = -inv * sum_grad - 2.0 * mean * grad_var
        count = _steps_seen(current)
        from_mean = _reverse_cumsum(grad_mean / count)
        from_square = _reverse_cumsum(grad_var / count).mul_(2.0)
        grad_in = grad_normed.mul(inv).add_(from_mean).addcmul_(current, from_square)
        return grad_in, grad_weight, grad_bias, None, None
