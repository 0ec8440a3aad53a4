"""N-MNIST as a PyTorch dataset of event-count frames."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import numpy as np
from torch import Tensor
from torch.utils.data import Dataset

from spikegraph.events.frames import check_binning, to_frames
from spikegraph.events.io import NMNIST_SENSOR_SIZE, read_nmnist_bin

__all__ = ["NMNIST"]


class NMNIST(Dataset):
    """N-MNIST recordings laid out as ``root/Train|Test/<label>/<index>.bin``.

    This is the original archive's layout, also written by
    :func:`spikegraph.events.simulator.generate_nmnist`. Nothing is downloaded.

    Args:
        root: Folder holding ``Train/`` and ``Test/``.
        train: Use ``Train/`` (else ``Test/``).
        n_frames: Frames per sample ``T``.
        by: Binning, ``"time"`` or ``"count"`` (see :func:`~spikegraph.events.to_frames`).
        transform: Applied to the frames tensor ``[T, 2, 34, 34]`` after binning (and after
            the cache, so a random transform draws afresh each time).
        cache: Keep the binned frames in memory (about 92 KB per sample at ``T = 10``).

    Attributes:
        files: The recordings, sorted by label, then by numeric index.
        labels: The label of each file (its folder name), as ints.

    Raises:
        FileNotFoundError: The split folder is missing or holds no ``.bin`` file.
        ValueError: Invalid ``n_frames`` or ``by``.
    """

    sensor_size = NMNIST_SENSOR_SIZE

    def __init__(
        self,
        root: str | os.PathLike,
        train: bool = True,
        *,
        n_frames: int = 10,
        by: str = "time",
        transform: Callable[[Tensor], Tensor] | None = None,
        cache: bool = False,
    ) -> None:
        check_binning(n_frames, by)
        self.root = Path(root)
        self.split_dir = self.root / ("Train" if train else "Test")
        self.files, self.labels = _list_recordings(self.split_dir)
        self.n_frames, self.by, self.transform = n_frames, by, transform
        self._cache: dict[int, Tensor] | None = {} if cache else None

    def __len__(self) -> int:
        return len(self.files)

    def events(self, index: int) -> np.ndarray:
        """The raw events of sample ``index`` (fields ``x``, ``y``, ``t`` in µs, ``p``)."""
        return read_nmnist_bin(self.files[index], sensor_size=self.sensor_size)

    def __getitem__(self, index: int) -> tuple[Tensor, int]:
        """``(frames [T, 2, 34, 34] float32 event counts, label)``."""
        index = range(len(self))[index]  # negative indices, and a clear IndexError
        frames = self._cache.get(index) if self._cache is not None else None
        if frames is None:
            frames = to_frames(self.events(index), self.n_frames, by=self.by)
            if self._cache is not None:
                self._cache[index] = frames
        if self.transform is not None:
            frames = self.transform(frames.clone())  # never let a transform edit the cache
        return frames, self.labels[index]

    def __repr__(self) -> str:
        return (
            f"NMNIST(split_dir={str(self.split_dir)!r}, samples={len(self)}, "
            f"n_frames={self.n_frames}, by={self.by!r})"
        )


def _list_recordings(split_dir: Path) -> tuple[list[Path], list[int]]:
    if not split_dir.is_dir():
        raise FileNotFoundError(
            f"N-MNIST split folder {split_dir} does not exist; expected "
            "<root>/Train/<label>/<index>.bin and <root>/Test/<label>/<index>.bin"
        )
    entries = [
        (int(folder.name), int(path.stem) if path.stem.isdigit() else -1, path.name, path)
        for folder in split_dir.iterdir()
        if folder.is_dir() and folder.name.isdigit()
        for path in folder.glob("*.bin")
    ]
    if not entries:
        raise FileNotFoundError(f"no <label>/<index>.bin recordings found in {split_dir}")
    entries.sort()
    return [e[3] for e in entries], [e[0] for e in entries]
