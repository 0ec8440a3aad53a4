"""Permuted N-MNIST: a sequence of tasks, each a fixed seeded permutation of the input pixels.

Every task sees the same recordings and labels; task ``t`` permutes the ``2 * 34 * 34 = 2312``
values of each frame by ``perms[t]`` (the same permutation at every time step). The permuted
sets are lazy views: only the mini-batch being read is permuted, so twenty tasks cost no more
memory than one.
"""

from __future__ import annotations

import torch
from torch import Tensor

from spikegraph.events.training import FrameSet

__all__ = ["make_permutations", "permute_frames", "PermutedFrames", "permuted_task"]


def make_permutations(n_tasks: int, n_inputs: int = 2312, seed: int = 0) -> Tensor:
    """``[n_tasks, n_inputs]`` permutations of the flattened frame, drawn from ``seed``.

    Task ``t``'s permutation depends only on ``seed`` and ``t``'s position in the draw, so the
    first tasks of a 20-task sequence are those of a 10-task one.
    """
    if n_tasks < 1 or n_inputs < 1:
        raise ValueError(f"need n_tasks >= 1 and n_inputs >= 1, got {n_tasks} and {n_inputs}")
    gen = torch.Generator().manual_seed(seed)
    return torch.stack([torch.randperm(n_inputs, generator=gen) for _ in range(n_tasks)])


def permute_frames(frames: Tensor, perm: Tensor) -> Tensor:
    """Permute the values of every frame: ``[..., T, C, H, W]`` -> same shape."""
    flat = frames.flatten(-3)
    if perm.shape != (flat.shape[-1],):
        raise ValueError(
            f"a permutation of {flat.shape[-1]} inputs is needed, got shape {tuple(perm.shape)}"
        )
    return flat[..., perm].view(frames.shape)


class PermutedFrames:
    """Lazy permuted view of a frame tensor: indexing permutes only the selected samples.

    Stands in for :attr:`FrameSet.frames` wherever it is indexed (``frames[idx]``), as by
    :func:`~spikegraph.events.training.train_epoch` and ``evaluate``.
    """

    def __init__(self, frames: Tensor, perm: Tensor) -> None:
        if frames.dim() < 4:
            raise ValueError(f"frames must be [N, T, C, H, W], got shape {tuple(frames.shape)}")
        self.frames = frames
        self.perm = perm
        permute_frames(frames[:1], perm)  # fail early on a size mismatch

    def __getitem__(self, index) -> Tensor:
        return permute_frames(self.frames[index], self.perm)

    def __len__(self) -> int:
        return len(self.frames)

    @property
    def shape(self) -> torch.Size:
        return self.frames.shape

    @property
    def dtype(self) -> torch.dtype:
        return self.frames.dtype


def permuted_task(data: FrameSet, perm: Tensor, task_id: int | None = None) -> FrameSet:
    """The same samples and labels with every frame permuted by ``perm`` (a lazy view)."""
    name = data.name if task_id is None else f"{data.name}/task{task_id}"
    return FrameSet(PermutedFrames(data.frames, perm), data.labels, name)  # type: ignore[arg-type]
