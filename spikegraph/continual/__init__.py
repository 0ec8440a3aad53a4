r"""Continual learning on permuted N-MNIST: tasks, metrics, plugins and the one training loop.

How adaptive scaling takes part. Every :class:`~spikegraph.nn.ASLinear` of the model owns a
:class:`~spikegraph.synapse.SynapticScaling` with one long-term experience entry :math:`e_j`
per input neuron :math:`j` (a persistent buffer). Nothing in this package touches it directly:

- **Forward.** The experience is the prior of each sequence's intensity trace: with
  pseudo-count :math:`\rho` (``prior_weight``, default 1) the intensity before step :math:`t` is
  :math:`x_j(t-1) = (\rho e_j + \sum_{\tau<t} u_j(\tau)) / (\rho + t - 1)` (running count,
  :math:`\lambda_c = 1`; :math:`u_j = \min(1, a_j f(x_j))` is the scaled drive, :math:`a_j`
  the clipped input :math:`s_j`), so the first step is scaled by :math:`f(e_j)` exactly and
  later steps by a trace that starts from :math:`e_j`. Every synapse leaving :math:`j` has
  effective weight :math:`W_{ij} f(x_j(t-1))`.
- **Gradient.** The trace, hence :math:`e_j`, is detached from autograd, so the scale is a
  constant factor of the weight gradient: :math:`\partial L / \partial W_{ij} =
  \sum_t \delta_i(t)\, f(x_j(t-1))\, s_j(t)`. A synapse whose presynaptic history drives
  :math:`f` down (the tent depresses saturated inputs) is both weaker and slower to change.
  The same factor enters EWC's per-sample gradients, hence its Fisher information.
- **Update.** After each training forward call, :math:`e_j \leftarrow (1 - m) e_j + m
  \overline{x_j}` (mean intensity of that call, :math:`m` = ``experience_momentum``, 0.1). It is
  frozen in eval mode: testing old tasks and measuring the Fisher do not change it. It is not a
  parameter: the optimizer and EWC never see it; the checkpoints carry it in the model's
  ``state_dict``.

In permuted N-MNIST each task moves the active pixels to other input neurons, so the experience
of an input neuron reflects the tasks that used it; that is the only route by which scaling can
regulate how much a later task overwrites a synapse.
"""

from spikegraph.continual.harness import TrainConfig, load_checkpoint, run_tasks, save_checkpoint
from spikegraph.continual.metrics import (
    average_accuracy,
    backward_transfer,
    forgetting,
    learning_accuracy,
    summarize,
)
from spikegraph.continual.plugins import EWC, METHODS, Compose, Finetune, Plugin, XdG, make_plugin
from spikegraph.continual.tasks import (
    PermutedFrames,
    make_permutations,
    permute_frames,
    permuted_task,
)

__all__ = [
    "TrainConfig",
    "run_tasks",
    "save_checkpoint",
    "load_checkpoint",
    "average_accuracy",
    "learning_accuracy",
    "backward_transfer",
    "forgetting",
    "summarize",
    "METHODS",
    "Plugin",
    "Compose",
    "Finetune",
    "EWC",
    "XdG",
    "make_plugin",
    "PermutedFrames",
    "make_permutations",
    "permute_frames",
    "permuted_task",
]
