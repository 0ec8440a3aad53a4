"""Seeded test-time perturbations of event frames (and of raw events where natural).

Frame perturbations act on float tensors ``[..., C, H, W]`` of event counts (typically
``[T, 2, 34, 34]`` or a batch ``[B, T, 2, 34, 34]``), return a new tensor and never
produce negative values. What ``level`` means for each:

- ``gaussian``: standard deviation of additive Gaussian noise, in event counts (the result
  is clamped at 0). Levels 0, 0.1, ..., 1.4.
- ``salt``: fraction of entries set to ``value`` (default 1 event count). Levels 0, 0.02,
  ..., 0.28.
- ``pepper``: fraction of entries set to 0. Levels 0, 0.07, ..., 0.98.
- ``salt_pepper``: fraction of entries hit, each salt or pepper with probability 1/2.
  Levels 0, 0.02, ..., 0.28.
- ``drop``: probability of dropping each event (binomial thinning of the counts). Levels 0,
  0.07, ..., 0.98.
- ``jitter``: largest shift ``k`` in pixels; each frame (each index of the leading dims)
  moves by its own random integer ``(dx, dy)`` in ``[-k, k]``, with zero fill. Levels 0, 1,
  ..., 14.
- ``occlusion``: side ``s`` in pixels of the centred square set to 0, top-left corner at
  ``((H - s) // 2, (W - s) // 2)``. Levels 0, 2, ..., 28 (deterministic).

:data:`LEVELS` lists the 15 levels of each, level 0 (the clean input, returned as an exact
copy) included. Random draws come from a ``torch.Generator`` (or an int seed for one) on the
CPU, so a seed reproduces the same perturbation; the result is moved to the input's device.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import torch
from torch import Tensor

from spikegraph.events.io import NMNIST_SENSOR_SIZE

__all__ = [
    "LEVELS",
    "PERTURBATIONS",
    "perturb",
    "gaussian_noise",
    "salt",
    "pepper",
    "salt_and_pepper",
    "drop",
    "jitter",
    "occlusion",
    "drop_events",
    "jitter_events",
    "occlude_events",
]

GeneratorLike = torch.Generator | int | None


def _generator(generator: GeneratorLike) -> torch.Generator | None:
    if isinstance(generator, int) and not isinstance(generator, bool):
        return torch.Generator().manual_seed(generator)
    return generator


def _rand(frames: Tensor, generator: GeneratorLike) -> Tensor:
    """Uniform [0, 1) noise shaped like ``frames``, drawn on the CPU for reproducibility."""
    return torch.rand(frames.shape, generator=_generator(generator)).to(frames.device)


def _check_fraction(name: str, level: float) -> None:
    if not 0.0 <= level <= 1.0:
        raise ValueError(f"{name} level is a fraction in [0, 1], got {level!r}")


def gaussian_noise(frames: Tensor, level: float, generator: GeneratorLike = None) -> Tensor:
    """Add Gaussian noise of standard deviation ``level`` (event counts), clamped at 0."""
    if level < 0:
        raise ValueError(f"gaussian level is a standard deviation >= 0, got {level!r}")
    if level == 0:
        return frames.clone()
    noise = torch.randn(frames.shape, generator=_generator(generator)).to(frames.device)
    return (frames + level * noise.to(frames.dtype)).clamp_(min=0)


def salt(
    frames: Tensor, level: float, generator: GeneratorLike = None, *, value: float = 1.0
) -> Tensor:
    """Set a fraction ``level`` of the entries to ``value`` (event counts, >= 0)."""
    _check_fraction("salt", level)
    if value < 0:
        raise ValueError(f"the salt value must be >= 0 to keep frames non-negative, got {value}")
    return frames.masked_fill(_rand(frames, generator) < level, value)


def pepper(frames: Tensor, level: float, generator: GeneratorLike = None) -> Tensor:
    """Set a fraction ``level`` of the entries to 0."""
    _check_fraction("pepper", level)
    return frames.masked_fill(_rand(frames, generator) < level, 0.0)


def salt_and_pepper(
    frames: Tensor, level: float, generator: GeneratorLike = None, *, value: float = 1.0
) -> Tensor:
    """Hit a fraction ``level`` of the entries: half set to ``value``, half to 0."""
    _check_fraction("salt_pepper", level)
    u = _rand(frames, generator)
    # One uniform draw decides both whether an entry is hit and which way.
    out = frames.masked_fill(u < level / 2, value)
    return out.masked_fill((u >= level / 2) & (u < level), 0.0)


def drop(frames: Tensor, level: float, generator: GeneratorLike = None) -> Tensor:
    """Drop each event with probability ``level``: binomial thinning of the counts.

    Raises:
        ValueError: ``frames`` holds negative or non-integer values (not event counts).
    """
    _check_fraction("drop", level)
    if level == 0:
        return frames.clone()
    if bool((frames < 0).any()) or not bool((frames == frames.round()).all()):
        raise ValueError("drop thins event counts: frames must hold non-negative integers")
    keep = torch.full(frames.shape, 1.0 - level)
    kept = torch.binomial(frames.detach().cpu().float(), keep, generator=_generator(generator))
    return kept.to(device=frames.device, dtype=frames.dtype)


def jitter(frames: Tensor, level: float, generator: GeneratorLike = None) -> Tensor:
    """Shift each frame ``[C, H, W]`` by its own random integer offset in ``[-k, k]``.

    ``k = int(level)`` pixels; content shifted out of view is lost, the vacated border is 0.
    """
    k = int(level)
    if k < 0 or k != level:
        raise ValueError(f"jitter level is a whole number of pixels >= 0, got {level!r}")
    if k == 0:
        return frames.clone()
    *lead, c, h, w = frames.shape
    flat = frames.reshape(-1, c, h * w)
    shift = torch.randint(-k, k + 1, (flat.shape[0], 2), generator=_generator(generator))
    src_y = torch.arange(h)[None, :] - shift[:, 1:]  # [N, H]: the row each output row reads
    src_x = torch.arange(w)[None, :] - shift[:, :1]
    valid = ((src_y >= 0) & (src_y < h))[:, :, None] & ((src_x >= 0) & (src_x < w))[:, None, :]
    index = src_y.clamp(0, h - 1)[:, :, None] * w + src_x.clamp(0, w - 1)[:, None, :]
    index, valid = index.reshape(-1, 1, h * w).to(frames.device), valid.reshape(-1, 1, h * w)
    out = flat.gather(2, index.expand(-1, c, -1)) * valid.to(frames.device, frames.dtype)
    return out.reshape(*lead, c, h, w)


def occlusion(frames: Tensor, level: float, generator: GeneratorLike = None) -> Tensor:
    """Zero the centred ``s x s`` square, ``s = int(level)`` pixels (deterministic)."""
    s = int(level)
    h, w = frames.shape[-2:]
    if s < 0 or s != level or s > min(h, w):
        raise ValueError(f"occlusion level is a side in pixels in [0, {min(h, w)}], got {level!r}")
    out = frames.clone()
    top, left = (h - s) // 2, (w - s) // 2
    out[..., top : top + s, left : left + s] = 0
    return out


PERTURBATIONS: dict[str, Callable[..., Tensor]] = {
    "gaussian": gaussian_noise,
    "salt": salt,
    "pepper": pepper,
    "salt_pepper": salt_and_pepper,
    "drop": drop,
    "jitter": jitter,
    "occlusion": occlusion,
}

LEVELS: dict[str, list[float]] = {
    "gaussian": [round(0.1 * i, 2) for i in range(15)],
    "salt": [round(0.02 * i, 2) for i in range(15)],
    "pepper": [round(0.07 * i, 2) for i in range(15)],
    "salt_pepper": [round(0.02 * i, 2) for i in range(15)],
    "drop": [round(0.07 * i, 2) for i in range(15)],
    "jitter": [float(i) for i in range(15)],
    "occlusion": [float(2 * i) for i in range(15)],
}
"""15 levels per perturbation, from level 0 (clean) upwards; see the module docstring."""


def perturb(name: str, frames: Tensor, level: float, generator: GeneratorLike = None) -> Tensor:
    """Apply the perturbation ``name`` (a key of :data:`PERTURBATIONS`) at ``level``.

    Args:
        name: ``"gaussian"``, ``"salt"``, ``"pepper"``, ``"salt_pepper"``, ``"drop"``,
            ``"jitter"`` or ``"occlusion"``.
        frames: Event-count frames ``[..., C, H, W]``.
        level: Strength; its meaning depends on ``name`` (module docstring).
        generator: A ``torch.Generator`` or an int seed (``None``: torch's global RNG).

    Returns:
        A new, non-negative tensor of the same shape.

    Raises:
        ValueError: An unknown name or an invalid level.
    """
    try:
        fn = PERTURBATIONS[name]
    except KeyError:
        raise ValueError(
            f"unknown perturbation {name!r}; choose one of {', '.join(map(repr, PERTURBATIONS))}"
        ) from None
    return fn(frames, level, generator)


def drop_events(events: np.ndarray, level: float, rng: np.random.Generator | int) -> np.ndarray:
    """Drop each event independently with probability ``level`` (order kept)."""
    _check_fraction("drop", level)
    keep = np.random.default_rng(rng).random(len(events)) >= level
    return events[keep]


def jitter_events(
    events: np.ndarray,
    level: float,
    rng: np.random.Generator | int,
    sensor_size: tuple[int, int, int] = NMNIST_SENSOR_SIZE,
) -> np.ndarray:
    """Move each event by its own random integer ``(dx, dy)`` in ``[-k, k]``, ``k = int(level)``.

    Events pushed off the sensor are dropped.
    """
    k = int(level)
    if k < 0 or k != level:
        raise ValueError(f"jitter level is a whole number of pixels >= 0, got {level!r}")
    shift = np.random.default_rng(rng).integers(-k, k + 1, size=(len(events), 2))
    out = events.copy()
    out["x"] = events["x"] + shift[:, 0]
    out["y"] = events["y"] + shift[:, 1]
    width, height, _ = sensor_size
    inside = (out["x"] >= 0) & (out["x"] < width) & (out["y"] >= 0) & (out["y"] < height)
    return out[inside]


def occlude_events(
    events: np.ndarray, level: float, sensor_size: tuple[int, int, int] = NMNIST_SENSOR_SIZE
) -> np.ndarray:
    """Remove the events inside the centred ``s x s`` square, as :func:`occlusion` does."""
    width, height, _ = sensor_size
    s = int(level)
    if s < 0 or s != level or s > min(width, height):
        raise ValueError(
            f"occlusion level is a side in pixels in [0, {min(width, height)}], got {level!r}"
        )
    top, left = (height - s) // 2, (width - s) // 2
    inside = (events["y"] >= top) & (events["y"] < top + s)
    inside &= (events["x"] >= left) & (events["x"] < left + s)
    return events[~inside]
