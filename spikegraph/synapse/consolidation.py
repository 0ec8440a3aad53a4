r"""Long-term consolidation: a synapse that carried much of past tasks' activity learns less.

The experience :math:`e_k` of a synapse (:class:`~spikegraph.synapse.SynapticScaling`) follows
its recent intensity: a few dozen training calls of a new task overwrite what an earlier task
looked like. Consolidation keeps a second, slower memory. At the end of a task,
:func:`consolidate` adds every synapse's experience, relative to its layer's mean, to a
persistent buffer :math:`M_k` (``memory``, saved in ``state_dict``):

.. math::
    M_k \leftarrow M_k + \frac{e_k}{\operatorname{mean}_{k'} e_{k'}},

so a synapse that carried an average share of one task's activity gains 1 and a silent one 0.
From then on the gradient signal through synapse :math:`k` is multiplied by its **plasticity**

.. math::
    \pi_k = \frac{1}{1 + \lambda M_k}, \qquad \lambda = \texttt{consolidation} \ge 0,

in the backward pass only; the forward pass is unchanged. In :class:`~spikegraph.nn.ASLinear`
(synapse :math:`k` = input neuron :math:`j`) every weight leaving input :math:`j` gets
:math:`\pi_j\,\partial L / \partial W_{ij}`, and the gradient handed back to input :math:`j` is
scaled alike. In :class:`~spikegraph.nn.SpikingASConv` (synapse = edge) the gradient through
edge :math:`k` into the shared weight and into its source node is scaled by :math:`\pi_k`; this
costs a second sparse product forward. It is the paper's "long-term consolidation through
gradient signals regulated by the scaling factor", with the long-term experience as the
regulator: the more of past tasks a synapse carried, the less it can still change.

**Optimizer: scale the update, not only the gradient.** Adam and RMSprop divide every
parameter's gradient by its own running magnitude, so a gradient factor that stays constant
over a task is normalised away: in ``ASLinear`` each weight has a single :math:`\pi_j`, and a
gradient-scaled consolidation does (almost) nothing under Adam. :class:`ConsolidatedUpdates`
(installed by :func:`consolidate_updates`, and by the continual harness's optimizer) scales the
*step* instead: after every ``optimizer.step()`` each weight leaving input :math:`j` is moved
back to

.. math::
    W_{ij} \leftarrow W_{ij}^{old} + \pi_j\,\bigl(W_{ij}^{new} - W_{ij}^{old}\bigr),

so a consolidated synapse moves :math:`\pi_j` times as far as a free one under any optimizer
(for plain SGD the same as scaling its gradient). Its weights' gradient is then left unscaled
(the gradient handed back to the input still carries :math:`\pi_j`). The graph layer's synapses
are edges that share one weight matrix, so no weight belongs to one synapse; there the
gradient path stays, and it is not undone by Adam because it changes how much each edge
contributes to a shared weight's gradient, not a constant per weight.
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

from spikegraph.synapse.scaling import SynapticScaling

__all__ = ["ConsolidatedUpdates", "consolidate", "consolidate_updates", "scale_gradient"]


class _ScaleGradient(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x: Tensor, factor: Tensor) -> Tensor:  # noqa: ANN001
        ctx.save_for_backward(factor)
        return x.view_as(x)

    @staticmethod
    def backward(ctx, grad: Tensor) -> tuple[Tensor, None]:  # noqa: ANN001
        (factor,) = ctx.saved_tensors
        return grad * factor, None


def scale_gradient(x: Tensor, factor: Tensor) -> Tensor:
    """``x`` unchanged in the forward pass; its gradient multiplied by ``factor`` (broadcast
    against ``x``, no gradient of its own) in the backward pass."""
    return _ScaleGradient.apply(x, factor.detach())


@torch.no_grad()
def consolidate(model: nn.Module) -> int:
    """Fold the experience of every synapse of ``model`` whose scaling has ``consolidation >
    0`` into its long-term memory (module docstring); call it at the end of each task.
    Returns the number of :class:`~spikegraph.synapse.SynapticScaling` modules updated."""
    done = 0
    for module in model.modules():
        if isinstance(module, SynapticScaling) and module.consolidation > 0:
            module.consolidate()
            done += 1
    return done


class ConsolidatedUpdates:
    """Optimizer hooks that scale every consolidated weight's step by its synapse's plasticity
    (module docstring). Layers take part by offering ``consolidated_weights()``, pairs of a
    parameter and its plasticity broadcast against it (``None`` while nothing is consolidated),
    and a ``consolidate_by`` attribute that this class sets to ``"update"``.

    Args:
        optimizer: any ``torch.optim.Optimizer``.
        model: the model whose layers it serves.
    """

    def __init__(self, optimizer: torch.optim.Optimizer, model: nn.Module) -> None:
        self.layers = [
            m
            for m in model.modules()
            if hasattr(m, "consolidated_weights") and m.scaling.consolidation > 0
        ]
        for layer in self.layers:
            layer.consolidate_by = "update"
        self._before: list[tuple[Tensor, Tensor, Tensor]] = []
        self._handles = [
            optimizer.register_step_pre_hook(self._snapshot),
            optimizer.register_step_post_hook(self._scale),
        ]

    @torch.no_grad()
    def _snapshot(self, *_: object) -> None:
        self._before = [
            (weight, weight.detach().clone(), plasticity)
            for layer in self.layers
            for weight, plasticity in layer.consolidated_weights()
            if plasticity is not None
        ]

    @torch.no_grad()
    def _scale(self, *_: object) -> None:
        for weight, old, plasticity in self._before:
            weight.copy_(torch.lerp(old, weight, plasticity.to(weight.dtype)))
        self._before = []

    def remove(self) -> None:
        """Take the hooks out; the layers scale gradients again."""
        for handle in self._handles:
            handle.remove()
        for layer in self.layers:
            layer.consolidate_by = "gradient"


def consolidate_updates(optimizer: torch.optim.Optimizer, model: nn.Module) -> ConsolidatedUpdates:
    """Make consolidation of ``model`` act on ``optimizer``'s steps (:class:`ConsolidatedUpdates`);
    returns the hooks (``.remove()`` undoes them)."""
    return ConsolidatedUpdates(optimizer, model)
