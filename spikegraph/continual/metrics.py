r"""Continual-learning metrics from the accuracy matrix :math:`R`.

:math:`R_{i,j}` is the test accuracy on task :math:`j` after training on tasks :math:`0..i`
(rows: training stages, columns: tasks). A run over :math:`T` tasks fills a :math:`T \times T`
matrix; a partial run (resumed, or stopped early) has fewer rows than columns, and the metrics
then describe the :math:`T` = number of rows tasks trained so far (only the first :math:`T`
columns count). Definitions after Lopez-Paz & Ranzato (GEM, 2017) and Chaudhry et al.
(RWalk, 2018); none of them reads an entry above the diagonal (a task not trained yet),
which may be ``None``:

.. math::
    \mathrm{ACC} = \frac{1}{T} \sum_{j=0}^{T-1} R_{T-1,j}, \qquad
    \mathrm{BWT} = \frac{1}{T-1} \sum_{j=0}^{T-2} \bigl(R_{T-1,j} - R_{j,j}\bigr), \qquad
    \mathrm{F} = \frac{1}{T-1} \sum_{j=0}^{T-2}
        \max_{j \le l \le T-2} \bigl(R_{l,j} - R_{T-1,j}\bigr).

The learning accuracy :math:`\mathrm{LA} = \frac{1}{T} \sum_j R_{j,j}` (each task just after
learning it) separates the two ways ACC can move: a method may forget less (BWT closer to 0) or
learn each new task better (higher LA), since :math:`\mathrm{ACC} = \mathrm{LA} + \frac{T-1}{T}
\mathrm{BWT}`.

BWT < 0 means later tasks overwrote earlier ones; forgetting is the mean drop from each task's
best accuracy before the last stage, so F >= -BWT; both F and -BWT are negative when later
training improved the earlier tasks. With a single task both BWT and F are 0.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import Tensor

__all__ = [
    "average_accuracy",
    "learning_accuracy",
    "backward_transfer",
    "forgetting",
    "summarize",
]

Matrix = Tensor | Sequence[Sequence[float]]


def _as_matrix(R: Matrix) -> Tensor:
    if not isinstance(R, Tensor):  # untested entries (None) above the diagonal become nan
        R = [[float("nan") if v is None else v for v in r] if isinstance(r, Sequence) else r
             for r in R]  # fmt: skip
    R = torch.as_tensor(R, dtype=torch.float64)
    if R.dim() != 2 or R.shape[0] < 1 or R.shape[0] > R.shape[1]:
        raise ValueError(
            f"R must be a [rows, tasks] matrix with 1 <= rows <= tasks, got shape {tuple(R.shape)}"
        )
    R = R[:, : R.shape[0]]
    if not torch.isfinite(R.tril()).all():
        raise ValueError("R holds non-finite accuracies on or below the diagonal")
    return R


def average_accuracy(R: Matrix) -> float:
    """ACC: mean accuracy over all tasks seen, after the last one (see module docstring)."""
    R = _as_matrix(R)
    return float(R[-1].mean())


def learning_accuracy(R: Matrix) -> float:
    """LA: mean accuracy on each task right after training on it (the diagonal of ``R``)."""
    R = _as_matrix(R)
    return float(R.diagonal().mean())


def backward_transfer(R: Matrix) -> float:
    """BWT: mean change on earlier tasks between learning them and the end (0 for one task)."""
    R = _as_matrix(R)
    if len(R) == 1:
        return 0.0
    return float((R[-1, :-1] - R.diagonal()[:-1]).mean())


def forgetting(R: Matrix) -> float:
    """Forgetting: mean drop from each earlier task's best accuracy to its final one."""
    R = _as_matrix(R)
    n = len(R)
    if n == 1:
        return 0.0
    drops = [float(R[j : n - 1, j].max() - R[-1, j]) for j in range(n - 1)]
    return sum(drops) / len(drops)


def summarize(R: Matrix) -> dict[str, float | list[float]]:
    """ACC, LA, BWT and forgetting, plus ACC after every training stage (``acc_curve``)."""
    R = _as_matrix(R)
    return {
        "acc": average_accuracy(R),
        "la": learning_accuracy(R),
        "bwt": backward_transfer(R),
        "forgetting": forgetting(R),
        "acc_curve": [average_accuracy(R[: i + 1]) for i in range(len(R))],
    }
