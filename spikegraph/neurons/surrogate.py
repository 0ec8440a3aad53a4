r"""Surrogate gradients: a Heaviside spike forward, a smooth stand-in's derivative backward.

Each surrogate is a module with a smooth :meth:`~Surrogate.primitive` :math:`h(v)` (a soft step)
and its :meth:`~Surrogate.derivative` :math:`h'(v)`; calling it on :math:`v = u - V_{th}` returns
:math:`\Theta(v)` and back-propagates :math:`h'(v)`. Pick one by name with :func:`get_surrogate`.
"""

from __future__ import annotations

import math
from typing import Any

import torch
from torch import Tensor, nn

__all__ = ["Surrogate", "Rectangular", "Sigmoid", "ATan", "Triangle", "SURROGATES", "get_surrogate"]


class _SpikeFunction(torch.autograd.Function):
    @staticmethod
    def forward(ctx: Any, v: Tensor, surrogate: Surrogate) -> Tensor:
        ctx.save_for_backward(v)
        ctx.surrogate = surrogate
        return (v >= 0).to(v.dtype)

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> tuple[Tensor, None]:
        (v,) = ctx.saved_tensors
        return grad * ctx.surrogate.derivative(v), None


class Surrogate(nn.Module):
    """Heaviside step with a surrogate derivative; subclasses define the smooth form."""

    def forward(self, v: Tensor) -> Tensor:
        return _SpikeFunction.apply(v, self)

    def primitive(self, v: Tensor) -> Tensor:
        """The smooth step whose derivative is used in the backward pass."""
        raise NotImplementedError

    def derivative(self, v: Tensor) -> Tensor:
        raise NotImplementedError

    def derivative_(self, v: Tensor) -> Tensor:
        """:meth:`derivative` written over ``v`` (a buffer of the neurons' backward pass);
        the piecewise-linear surrogates and ``atan`` do it without temporaries."""
        return v.copy_(self.derivative(v))


class Rectangular(Surrogate):
    r"""The AS-SNN authors' window :math:`h'(v) = \mathbb{1}\{|v| < w/2\} / w` (``width=1``:
    :math:`\mathbb{1}\{|u - V_{th}| < 0.5\}`); its primitive is the ramp
    :math:`\operatorname{clip}(v/w + 1/2, 0, 1)`."""

    def __init__(self, width: float = 1.0) -> None:
        super().__init__()
        if width <= 0:
            raise ValueError(f"width must be > 0, got {width}")
        self.width = width

    def primitive(self, v: Tensor) -> Tensor:
        return (v / self.width + 0.5).clamp(0.0, 1.0)

    def derivative(self, v: Tensor) -> Tensor:
        return (v.abs() < self.width / 2).to(v.dtype) / self.width

    def derivative_(self, v: Tensor) -> Tensor:
        torch.lt(v.abs_(), self.width / 2, out=v)
        return v if self.width == 1 else v.div_(self.width)

    def extra_repr(self) -> str:
        return f"width={self.width:g}"


class Sigmoid(Surrogate):
    r""":math:`h(v) = \sigma(\alpha v)`, :math:`h'(v) = \alpha \sigma(\alpha v)(1 - \sigma(\alpha v))`."""

    def __init__(self, alpha: float = 4.0) -> None:
        super().__init__()
        self.alpha = alpha

    def primitive(self, v: Tensor) -> Tensor:
        return torch.sigmoid(self.alpha * v)

    def derivative(self, v: Tensor) -> Tensor:
        s = torch.sigmoid(self.alpha * v)
        return self.alpha * s * (1.0 - s)

    def extra_repr(self) -> str:
        return f"alpha={self.alpha:g}"


class ATan(Surrogate):
    r""":math:`h(v) = \tfrac{1}{\pi}\arctan(\tfrac{\pi}{2}\alpha v) + \tfrac12`,
    :math:`h'(v) = \tfrac{\alpha/2}{1 + (\pi \alpha v / 2)^2}`."""

    def __init__(self, alpha: float = 2.0) -> None:
        super().__init__()
        self.alpha = alpha

    def primitive(self, v: Tensor) -> Tensor:
        return torch.atan(math.pi / 2 * self.alpha * v) / math.pi + 0.5

    # alpha/2 / (1 + (pi alpha v / 2)^2) = 1 / (c + c (pi alpha / 2)^2 v^2) with c = 2 / alpha:
    # one fused multiply-add and a reciprocal (the in-place form: two passes, no temporaries)

    def derivative(self, v: Tensor) -> Tensor:
        c = 2.0 / self.alpha
        return torch.addcmul(v.new_tensor(c), v, v, value=c * self._k2).reciprocal()

    def derivative_(self, v: Tensor) -> Tensor:
        c = 2.0 / self.alpha
        torch.addcmul(v.new_tensor(c), v, v, value=c * self._k2, out=v)
        return v.reciprocal_()

    @property
    def _k2(self) -> float:
        return (math.pi / 2 * self.alpha) ** 2

    def extra_repr(self) -> str:
        return f"alpha={self.alpha:g}"


class Triangle(Surrogate):
    r""":math:`h'(v) = \max(0, 1 - |v|/w) / w`, the derivative of a piecewise-quadratic step."""

    def __init__(self, width: float = 1.0) -> None:
        super().__init__()
        if width <= 0:
            raise ValueError(f"width must be > 0, got {width}")
        self.width = width

    def primitive(self, v: Tensor) -> Tensor:
        z = (v / self.width).clamp(-1.0, 1.0)
        return 0.5 + z - z * z.abs() / 2

    def derivative(self, v: Tensor) -> Tensor:
        return (1.0 - v.abs() / self.width).clamp_min(0.0) / self.width

    def derivative_(self, v: Tensor) -> Tensor:
        return v.abs_().div_(self.width).neg_().add_(1.0).clamp_min_(0.0).div_(self.width)

    def extra_repr(self) -> str:
        return f"width={self.width:g}"


SURROGATES: dict[str, type[Surrogate]] = {
    "rectangular": Rectangular,
    "sigmoid": Sigmoid,
    "atan": ATan,
    "triangle": Triangle,
}


def get_surrogate(surrogate: str | Surrogate, **params: float) -> Surrogate:
    """A surrogate from its name (``"rectangular"``, ``"sigmoid"``, ``"atan"``, ``"triangle"``)
    and hyper-parameters, or an instance passed through."""
    if isinstance(surrogate, Surrogate):
        return surrogate
    if not isinstance(surrogate, str):
        raise TypeError(f"surrogate must be a name or a Surrogate, got {type(surrogate)}")
    try:
        return SURROGATES[surrogate.lower()](**params)
    except KeyError:
        raise ValueError(
            f"unknown surrogate {surrogate!r}; choose one of {', '.join(map(repr, SURROGATES))}"
        ) from None
