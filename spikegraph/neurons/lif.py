r"""Leaky integrate-and-fire (LIF) and integrate-and-fire (IF) neurons.

Each neuron is a pure step function (state in, spikes and state out) plus a thin module that
loops it over the leading time axis. The membrane follows

.. math::
    v_t = \lambda\, \tilde v_{t-1} + I_t, \qquad s_t = \Theta(v_t - V_{th}), \qquad
    \tilde v_t = \begin{cases} v_t - V_{th} s_t & \text{soft reset} \\
                               v_t (1 - s_t) & \text{hard reset (to 0)} \end{cases}

which is the AS-SNN authors' :math:`u_t = \lambda (u_{t-1} - V_{th} s_{t-1}) + W x_t` for the soft
reset. IF is the special case :math:`\lambda = 1`.

The modules run the whole sequence as one autograd node (``_LIFSequence``): the forward
pass keeps only the membrane :math:`v_t` and the backward pass is the exact back-propagation
through time of :func:`lif_step`, written out. This is the same gradient as looping
:func:`lif_step` under autograd (the tests check it to 1e-6) at a fraction of the bookkeeping:
no per-step graph nodes, no stacking of per-step outputs.
"""

from __future__ import annotations

from typing import Any, NamedTuple

import torch
from torch import Tensor, nn
from torch.autograd.function import once_differentiable

from spikegraph.neurons.surrogate import Surrogate, get_surrogate

__all__ = ["LIFState", "lif_step", "if_step", "LIF", "IF", "NEURONS", "get_neuron"]

RESETS = ("soft", "hard")


class LIFState(NamedTuple):
    """Membrane potential after the previous step's reset."""

    v: Tensor


def lif_step(
    current: Tensor,
    state: LIFState | None,
    *,
    decay: float,
    threshold: float,
    reset: str = "soft",
    surrogate: Surrogate,
    detach_reset: bool = False,
) -> tuple[Tensor, LIFState]:
    """One LIF step (module docstring). ``state=None`` starts from :math:`v = 0`.

    Returns:
        ``(spikes, new_state)``: 0./1. spikes shaped like ``current``.
    """
    v = current if state is None else decay * state.v + current
    spike = surrogate(v - threshold)
    fired = spike.detach() if detach_reset else spike
    v = v - threshold * fired if reset == "soft" else v * (1.0 - fired)
    return spike, LIFState(v)


def if_step(current: Tensor, state: LIFState | None, **kwargs: object) -> tuple[Tensor, LIFState]:
    """One integrate-and-fire step: :func:`lif_step` without leak (``decay=1``)."""
    return lif_step(current, state, decay=1.0, **kwargs)  # type: ignore[arg-type]


class LIF(nn.Module):
    """LIF neurons over a sequence ``[T, ...]``; no state survives between calls.

    Args:
        decay: membrane leak :math:`\\lambda` in ``[0, 1]`` (``1`` = no leak).
        threshold: firing threshold :math:`V_{th} > 0`.
        reset: ``"soft"`` (subtract the threshold) or ``"hard"`` (reset to 0).
        surrogate: a surrogate gradient or its name. The default ``"atan"`` passes a gradient
            at every membrane value, so a neuron that has fallen silent can still learn to fire
            again (a rectangular window passes none outside it, and a layer whose drive starts
            small then never recovers).
        detach_reset: keep the reset out of the backward pass.

    Shapes:
        - input: currents ``[T, *]``
        - output: spikes ``[T, *]`` of 0./1.
    """

    def __init__(
        self,
        decay: float = 0.5,
        threshold: float = 1.0,
        reset: str = "soft",
        surrogate: str | Surrogate = "atan",
        detach_reset: bool = False,
    ) -> None:
        super().__init__()
        if not 0.0 <= decay <= 1.0:
            raise ValueError(f"decay must lie in [0, 1], got {decay}")
        if threshold <= 0:
            raise ValueError(f"threshold must be > 0, got {threshold}")
        if reset not in RESETS:
            raise ValueError(f"unknown reset {reset!r}; choose 'soft' or 'hard'")
        self.decay = decay
        self.threshold = threshold
        self.reset = reset
        self.surrogate = get_surrogate(surrogate)
        self.detach_reset = detach_reset

    def forward(self, current: Tensor) -> Tensor:
        if current.dim() < 1 or current.shape[0] == 0:
            raise ValueError(f"expected currents [T, ...] with T >= 1, got {tuple(current.shape)}")
        return _LIFSequence.apply(current, self)

    def __repr__(self) -> str:  # one line: it is nested in every layer's repr
        return f"{type(self).__name__}({self.extra_repr()}, surrogate={self.surrogate})"

    def extra_repr(self) -> str:
        return f"decay={self.decay:g}, threshold={self.threshold:g}, reset={self.reset}"


class _LIFSequence(torch.autograd.Function):
    r"""A whole LIF sequence as one autograd node, with back-propagation through time by hand.

    With :math:`h' = ` the surrogate derivative at :math:`v_t - V_{th}`, :math:`g_t` the gradient
    arriving at :math:`s_t` and :math:`b_t = \lambda\, \partial L / \partial v_{t+1}` the
    gradient reaching the reset membrane :math:`\tilde v_t` (0 at the last step),

    .. math::
        \frac{\partial L}{\partial I_t} = \frac{\partial L}{\partial v_t}
        = b_t \frac{\partial \tilde v_t}{\partial v_t}
          + \Bigl(g_t + b_t \frac{\partial \tilde v_t}{\partial s_t}\Bigr) h',

    where soft reset has :math:`(1, -V_{th})`, hard reset :math:`(1 - s_t, -v_t)`, and
    ``detach_reset`` drops the :math:`\partial \tilde v_t / \partial s_t` term.

    Both passes write into tensors allocated once per call (``out=`` and in-place operations):
    on CPU a fresh allocation of a large step costs several times the arithmetic on it (the
    pages are faulted in anew each time). The arithmetic is that of :func:`lif_step`,
    operation for operation, so spikes and gradients are the same to the last bit.
    """

    @staticmethod
    def forward(ctx: Any, current: Tensor, neuron: LIF) -> Tensor:
        v_all = torch.empty_like(current, memory_format=torch.contiguous_format)  # before reset
        spikes = torch.empty_like(v_all)
        kept = torch.empty_like(v_all[0])  # the membrane after the reset, reused every step
        for t, v in enumerate(v_all):
            if t == 0:
                v.copy_(current[0])
            else:
                torch.mul(kept, neuron.decay, out=v).add_(current[t])
            torch.ge(v, neuron.threshold, out=spikes[t])
            if neuron.reset == "soft":
                torch.sub(v, spikes[t], alpha=neuron.threshold, out=kept)
            else:
                torch.sub(v, torch.mul(v, spikes[t], out=kept), out=kept)
        ctx.save_for_backward(v_all)
        ctx.neuron = neuron
        return spikes

    @staticmethod
    @once_differentiable
    def backward(ctx: Any, grad_spikes: Tensor) -> tuple[Tensor, None]:
        (v_all,) = ctx.saved_tensors
        n = ctx.neuron
        grad_current = torch.empty_like(v_all)
        b = torch.zeros_like(v_all[0])
        h, through_spike = torch.empty_like(b), torch.empty_like(b)
        for t in range(v_all.shape[0] - 1, -1, -1):
            v, a = v_all[t], grad_current[t]
            n.surrogate.derivative_(torch.sub(v, n.threshold, out=h))
            # (g + b ds~/ds) h', with ds~/ds = -V_th (soft) or -v (hard)
            if n.detach_reset:
                torch.mul(grad_spikes[t], h, out=through_spike)
            else:
                if n.reset == "soft":
                    torch.mul(b, n.threshold, out=through_spike)
                else:
                    torch.mul(v, b, out=through_spike)
                torch.sub(grad_spikes[t], through_spike, out=through_spike).mul_(h)
            if n.reset == "soft":
                torch.add(b, through_spike, out=a)
            else:
                a.copy_(b).masked_fill_(v >= n.threshold, 0.0).add_(through_spike)
            torch.mul(a, n.decay, out=b)
        return grad_current, None


class IF(LIF):
    """Integrate-and-fire neurons: :class:`LIF` with ``decay=1``."""

    def __init__(self, threshold: float = 1.0, **kwargs: object) -> None:
        super().__init__(decay=1.0, threshold=threshold, **kwargs)  # type: ignore[arg-type]

    def extra_repr(self) -> str:
        return f"threshold={self.threshold:g}, reset={self.reset}"


NEURONS: dict[str, type[LIF]] = {"lif": LIF, "if": IF}


def get_neuron(neuron: str | nn.Module, **params: object) -> nn.Module:
    """A neuron module from its name (``"lif"``, ``"if"``) and parameters, or passed through."""
    if isinstance(neuron, nn.Module):
        return neuron
    if not isinstance(neuron, str):
        raise TypeError(f"neuron must be a name or a module, got {type(neuron)}")
    try:
        return NEURONS[neuron.lower()](**params)  # type: ignore[arg-type]
    except KeyError:
        raise ValueError(
            f"unknown neuron {neuron!r}; choose one of {', '.join(map(repr, NEURONS))}"
        ) from None
