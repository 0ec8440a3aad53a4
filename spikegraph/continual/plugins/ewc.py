r"""Elastic weight consolidation (EWC; Kirkpatrick et al., PNAS 2017), diagonal Fisher.

After task :math:`t` the plugin stores the weights :math:`\theta^*_t` and the diagonal empirical
Fisher information

.. math::
    F_{t,k} = \frac{1}{N} \sum_{n=1}^{N}
        \Bigl(\frac{\partial}{\partial \theta_k} \mathrm{CE}\bigl(f_\theta(x_n), y_n\bigr)
        \Big|_{\theta = \theta^*_t}\Bigr)^2,

from per-sample gradients on ``fisher_samples`` training samples of the task (evenly spread,
true labels; the model in eval mode, so the synapses' experience is not updated, and through the
task's forward kwargs, e.g. XdG gates). Training on later tasks then minimises

.. math::
    L = \mathrm{CE} + \frac{\lambda}{2} \sum_{t \,\text{done}} \sum_k F_{t,k}
        \bigl(\theta_k - \theta^*_{t,k}\bigr)^2,

one penalty per earlier task, as in the original paper (the authors' setting:
:math:`\lambda = 10^4`). Only trainable parameters are consolidated; the experience buffers of
the synapses are not parameters and are left to their own update rule.
"""

from __future__ import annotations

from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from spikegraph.continual.plugins.base import Plugin
from spikegraph.events.training import FrameSet

__all__ = ["EWC", "diagonal_fisher"]


def _params(model: nn.Module) -> dict[str, Tensor]:
    return {n: p for n, p in model.named_parameters() if p.requires_grad}


def diagonal_fisher(
    model: nn.Module, data: FrameSet, samples: int = 200, **forward_kwargs
) -> dict[str, Tensor]:
    """Mean squared per-sample gradient of the cross-entropy, per trainable parameter."""
    if samples < 1:
        raise ValueError(f"samples must be >= 1, got {samples}")
    n = min(samples, len(data))
    index = torch.linspace(0, len(data) - 1, n).round().long().unique()
    params = _params(model)
    fisher = {k: torch.zeros_like(p) for k, p in params.items()}
    was_training = model.training
    model.eval()
    for i in index.tolist():
        logits = model(data.frames[i : i + 1].float(), **forward_kwargs)
        loss = F.cross_entropy(logits, data.labels[i : i + 1])
        grads = torch.autograd.grad(loss, list(params.values()), allow_unused=True)
        for k, g in zip(params, grads, strict=True):
            if g is not None:
                fisher[k] += g.detach() ** 2
    model.train(was_training)
    return {k: f / len(index) for k, f in fisher.items()}


class EWC(Plugin):
    """The EWC penalty over all earlier tasks (see the module docstring).

    Args:
        lam: penalty strength :math:`\\lambda` (default ``1e4``, the authors').
        fisher_samples: samples per task for the Fisher information.
    """

    name = "ewc"

    def __init__(self, lam: float = 1e4, fisher_samples: int = 200) -> None:
        if lam < 0 or fisher_samples < 1:
            raise ValueError(f"need lam >= 0 and fisher_samples >= 1, got {lam}, {fisher_samples}")
        self.lam = float(lam)
        self.fisher_samples = int(fisher_samples)
        self.fishers: list[dict[str, Tensor]] = []
        self.anchors: list[dict[str, Tensor]] = []

    def after_task(self, task_id, model, data, forward_kwargs=None) -> None:
        fisher = diagonal_fisher(model, data, self.fisher_samples, **(forward_kwargs or {}))
        self.fishers.append(fisher)
        self.anchors.append({k: p.detach().clone() for k, p in _params(model).items()})

    def penalty(self, model: nn.Module) -> Tensor:
        r""":math:`\frac{\lambda}{2} \sum_t \sum_k F_{t,k} (\theta_k - \theta^*_{t,k})^2`."""
        params = _params(model)
        total = torch.zeros((), device=next(iter(params.values())).device)
        for fisher, anchor in zip(self.fishers, self.anchors, strict=True):
            for k, p in params.items():
                total = total + (fisher[k] * (p - anchor[k]) ** 2).sum()
        return 0.5 * self.lam * total

    def loss(self, loss: Tensor, model: nn.Module) -> Tensor:
        if not self.fishers or self.lam == 0:
            return loss
        return loss + self.penalty(model)

    def config(self) -> dict[str, Any]:
        return {"name": self.name, "lam": self.lam, "fisher_samples": self.fisher_samples}

    def state_dict(self) -> dict[str, Any]:
        return {"config": self.config(), "fishers": self.fishers, "anchors": self.anchors}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        super().load_state_dict(state)
        if len(state["fishers"]) != len(state["anchors"]):
            raise ValueError("EWC state holds a different number of Fisher matrices and anchors")
        self.fishers = [dict(f) for f in state["fishers"]]
        self.anchors = [dict(a) for a in state["anchors"]]
