"""Frame-sequence classification: load an event dataset into memory, train, evaluate.

The training loop of the event-data experiments and of :mod:`spikegraph.continual` (which sits
beside :mod:`spikegraph.events`, below the experiment pipelines of :mod:`spikegraph.tasks`). A split is held as one ``uint8`` tensor of event counts
``[N, T, 2, H, W]`` (counts above 255 are clipped; N-MNIST frames stay far below), which
keeps 60,000 samples at ``T = 10`` in about 1.4 GB; batches are cast to float on the fly.
"""

from __future__ import annotations

import os
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import Tensor, nn
from tqdm.auto import tqdm

from spikegraph.events import NMNIST

__all__ = ["FrameSet", "load_frames", "train_epoch", "evaluate"]

Transform = Callable[[Tensor], Tensor]


@dataclass
class FrameSet:
    """A split in memory: ``frames`` ``[N, T, 2, H, W]`` uint8 counts, ``labels`` ``[N]``."""

    frames: Tensor
    labels: Tensor
    name: str = ""

    def __len__(self) -> int:
        return len(self.labels)


def load_frames(
    root: str | os.PathLike,
    train: bool,
    *,
    n_frames: int = 10,
    limit: int | None = None,
    name: str = "",
    progress: bool = True,
    cache_dir: str | os.PathLike | None = None,
) -> FrameSet:
    """Bin the recordings of ``root/Train|Test`` (:class:`~spikegraph.events.NMNIST`).

    ``limit`` keeps an evenly spread subset of that many recordings (files are sorted by
    label, so the first ``limit`` would hold only the low digits). With ``cache_dir`` the
    binned split is saved there (named by split, ``n_frames``, the number of recordings kept
    and found, and a checksum of the root's path) and read back by later calls: binning
    60,000 recordings takes minutes, reading the cache seconds.
    """
    ds = NMNIST(root, train=train, n_frames=n_frames)
    if limit is not None and limit < len(ds):
        if limit < 1:
            raise ValueError(f"limit must be >= 1, got {limit}")
        index = torch.linspace(0, len(ds) - 1, limit).round().long().tolist()
    else:
        index = list(range(len(ds)))
    cache = None
    if cache_dir is not None:
        tag = zlib.crc32(str(Path(root).resolve()).encode())
        split = "train" if train else "test"
        cache = Path(cache_dir) / f"{split}_T{n_frames}_{len(index)}of{len(ds)}_{tag:08x}.pt"
        if cache.exists():
            saved = torch.load(cache, weights_only=True)
            return FrameSet(saved["frames"], saved["labels"], name or str(ds.split_dir))
    frames = torch.empty(len(index), n_frames, *ds.sensor_size[::-1], dtype=torch.uint8)
    desc = f"loading {name or ds.split_dir}"
    for row, i in enumerate(tqdm(index, desc=desc, disable=not progress, leave=False)):
        frames[row] = ds[i][0].clamp(max=255)
    labels = torch.tensor([ds.labels[i] for i in index])
    if cache is not None:
        cache.parent.mkdir(parents=True, exist_ok=True)
        torch.save({"frames": frames, "labels": labels}, cache.with_suffix(".tmp"))
        os.replace(cache.with_suffix(".tmp"), cache)
    return FrameSet(frames, labels, name or str(ds.split_dir))


def _batches(n: int, batch_size: int, generator: torch.Generator | None) -> list[Tensor]:
    order = torch.randperm(n, generator=generator) if generator is not None else torch.arange(n)
    return list(order.split(batch_size))


def train_epoch(
    model: nn.Module,
    data: FrameSet,
    optimizer: torch.optim.Optimizer,
    *,
    batch_size: int = 100,
    generator: torch.Generator | None = None,
    loss_hook: Callable[[Tensor], Tensor] | None = None,
    progress: bool = True,
    **forward_kwargs,
) -> float:
    """One pass over ``data`` in shuffled mini-batches; returns the mean cross-entropy.

    ``loss_hook`` may add a penalty to each batch loss (e.g. EWC); ``forward_kwargs`` go to
    the model (e.g. context gates).
    """
    model.train()
    total, seen = 0.0, 0
    bar = tqdm(_batches(len(data), batch_size, generator), disable=not progress, leave=False)
    for idx in bar:
        logits = model(data.frames[idx].float(), **forward_kwargs)
        loss = F.cross_entropy(logits, data.labels[idx])
        if loss_hook is not None:
            loss = loss_hook(loss)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        total += loss.item() * len(idx)
        seen += len(idx)
        bar.set_postfix(loss=f"{total / seen:.3f}")
    return total / seen


@torch.no_grad()
def evaluate(
    model: nn.Module,
    data: FrameSet,
    *,
    transform: Transform | None = None,
    batch_size: int = 500,
    **forward_kwargs,
) -> float:
    """Accuracy in eval mode; ``transform`` perturbs each float batch first (test time only)."""
    model.eval()
    correct = 0
    for idx in _batches(len(data), batch_size, None):
        frames = data.frames[idx].float()
        if transform is not None:
            frames = transform(frames)
        pred = model(frames, **forward_kwargs).argmax(-1)
        correct += int((pred == data.labels[idx]).sum())
    return correct / len(data)
