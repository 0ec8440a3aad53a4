"""Readers and writers for N-MNIST ``.bin`` recordings and MNIST ``idx`` files.

The N-MNIST format (Orchard et al. 2015) stores 5 bytes (40 bits) per event::

    byte 0: x (pixel column)     byte 1: y (pixel row)
    bytes 2-4, big-endian 24 bits: bit 23 = polarity (1 = ON), bits 0-22 = timestamp in µs

Events are returned as a numpy structured array with the field names used by tonic
(``x``, ``y``, ``t``, ``p``), see :data:`EVENT_DTYPE`.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
from numpy.typing import ArrayLike

__all__ = [
    "EVENT_DTYPE",
    "NMNIST_SENSOR_SIZE",
    "EventFileError",
    "IdxFileError",
    "make_events",
    "read_nmnist_bin",
    "write_nmnist_bin",
    "read_idx",
]

EVENT_DTYPE = np.dtype([("x", np.int16), ("y", np.int16), ("t", np.int64), ("p", np.int16)])
"""Event record: ``x``, ``y`` (pixels, int16), ``t`` (µs, int64), ``p`` (0 = OFF, 1 = ON, int16)."""

NMNIST_SENSOR_SIZE: tuple[int, int, int] = (34, 34, 2)
"""``(width, height, polarities)`` of the N-MNIST recordings, in tonic's order."""

_BYTES_PER_EVENT = 5
_MAX_T = 2**23  # 23-bit timestamp field, in µs (about 8.4 s)


class EventFileError(ValueError):
    """An event file is malformed (truncated, empty, or events outside the sensor)."""


class IdxFileError(ValueError):
    """An idx file is malformed (bad magic number, or header and size disagree)."""


def make_events(x: ArrayLike, y: ArrayLike, t: ArrayLike, p: ArrayLike) -> np.ndarray:
    """Pack four equal-length integer sequences into an :data:`EVENT_DTYPE` array.

    Args:
        x: Pixel columns.
        y: Pixel rows.
        t: Timestamps in µs.
        p: Polarities, 0 (OFF) or 1 (ON).

    Returns:
        A structured array of length ``len(x)``.
    """
    columns = [np.asarray(c).ravel() for c in (x, y, t, p)]
    n = len(columns[0])
    if any(len(c) != n for c in columns):
        raise ValueError(f"x, y, t, p must have equal lengths, got {[len(c) for c in columns]}")
    events = np.empty(n, dtype=EVENT_DTYPE)
    for name, column in zip("xytp", columns, strict=True):
        events[name] = column
    return events


def read_nmnist_bin(
    path: str | os.PathLike,
    *,
    sensor_size: tuple[int, int, int] | None = None,
    allow_empty: bool = False,
) -> np.ndarray:
    """Decode an N-MNIST ``.bin`` file.

    Args:
        path: The file.
        sensor_size: If given, ``(width, height, polarities)``; events outside it raise
            :class:`EventFileError`. Pass :data:`NMNIST_SENSOR_SIZE` for N-MNIST.
        allow_empty: Accept a file with no events (real recordings never are empty).

    Returns:
        A structured array of :data:`EVENT_DTYPE` in file order (timestamps in µs).

    Raises:
        EventFileError: The size is not a multiple of 5 bytes, the file is empty and
            ``allow_empty`` is false, or an event lies outside ``sensor_size``. The
            message names the file.
    """
    raw = np.fromfile(path, dtype=np.uint8)
    if raw.size % _BYTES_PER_EVENT:
        raise EventFileError(
            f"{path}: {raw.size} bytes is not a multiple of {_BYTES_PER_EVENT} "
            "(truncated or not an N-MNIST file)"
        )
    if raw.size == 0 and not allow_empty:
        raise EventFileError(f"{path}: the file holds no events")
    b = raw.reshape(-1, _BYTES_PER_EVENT).astype(np.int64)
    t = ((b[:, 2] & 0x7F) << 16) | (b[:, 3] << 8) | b[:, 4]
    events = make_events(b[:, 0], b[:, 1], t, b[:, 2] >> 7)
    if sensor_size is not None:
        _check_inside(events, sensor_size, str(path))
    return events


def _check_inside(events: np.ndarray, sensor_size: tuple[int, int, int], where: str) -> None:
    width, height, _ = sensor_size
    if events.size == 0:
        return
    bad_x, bad_y = events["x"].max() >= width, events["y"].max() >= height
    if bad_x or bad_y or events["x"].min() < 0 or events["y"].min() < 0:
        raise EventFileError(
            f"{where}: events lie outside the {width}x{height} sensor "
            f"(x in [{events['x'].min()}, {events['x'].max()}], "
            f"y in [{events['y'].min()}, {events['y'].max()}])"
        )


def write_nmnist_bin(path: str | os.PathLike, events: np.ndarray) -> None:
    """Encode events into an N-MNIST ``.bin`` file (the inverse of :func:`read_nmnist_bin`).

    The file is written to a temporary name and renamed, so a file at ``path`` is always
    complete (an interrupted run leaves no truncated recording behind).

    Args:
        path: The destination; its parent folder must exist.
        events: A structured array with fields ``x``, ``y``, ``t`` (µs), ``p``.

    Raises:
        ValueError: A field is missing, or x, y outside 0..255, t outside [0, 2**23), or p
            not in {0, 1}.
    """
    x, y, t, p = (_field(events, name) for name in "xytp")
    _check_range("x", x, 0, 255)
    _check_range("y", y, 0, 255)
    _check_range("t", t, 0, _MAX_T - 1)
    _check_range("p", p, 0, 1)
    out = np.empty((len(t), _BYTES_PER_EVENT), dtype=np.uint8)
    out[:, 0], out[:, 1] = x, y
    out[:, 2] = (p << 7) | (t >> 16)
    out[:, 3] = (t >> 8) & 0xFF
    out[:, 4] = t & 0xFF
    path = Path(path)
    tmp = path.with_name(path.name + ".part")
    out.tofile(tmp)
    os.replace(tmp, path)


def _field(events: np.ndarray, name: str) -> np.ndarray:
    if events.dtype.names is None or name not in events.dtype.names:
        raise ValueError(f"events must be a structured array with fields x, y, t, p; no {name!r}")
    return events[name].astype(np.int64)


def _check_range(name: str, values: np.ndarray, low: int, high: int) -> None:
    if values.size and (values.min() < low or values.max() > high):
        raise ValueError(
            f"event field {name!r} must lie in [{low}, {high}] for the N-MNIST format, "
            f"got values in [{values.min()}, {values.max()}]"
        )


_IDX_DTYPES = {
    0x08: np.dtype(np.uint8),
    0x09: np.dtype(np.int8),
    0x0B: np.dtype(">i2"),
    0x0C: np.dtype(">i4"),
    0x0D: np.dtype(">f4"),
    0x0E: np.dtype(">f8"),
}


def read_idx(path: str | os.PathLike) -> np.ndarray:
    """Read an (uncompressed) idx file such as MNIST's, e.g. magic 2051 images, 2049 labels.

    Args:
        path: The file.

    Returns:
        The array with the shape given in its header, e.g. ``[60000, 28, 28]`` uint8 for
        ``train-images-idx3-ubyte`` and ``[60000]`` for ``train-labels-idx1-ubyte``.

    Raises:
        IdxFileError: Unknown magic number, or the header's shape does not match the file
            size. The message names the file.
    """
    with open(path, "rb") as f:
        magic = f.read(4)
        if len(magic) < 4 or magic[:2] != b"\0\0" or magic[2] not in _IDX_DTYPES:
            raise IdxFileError(f"{path}: not an idx file (magic bytes {magic.hex() or 'none'})")
        dtype, ndim = _IDX_DTYPES[magic[2]], magic[3]
        header = f.read(4 * ndim)
        if len(header) < 4 * ndim:
            raise IdxFileError(f"{path}: header truncated ({ndim} dimensions announced)")
        shape = tuple(int(d) for d in np.frombuffer(header, dtype=">u4"))
        data = np.fromfile(f, dtype=np.uint8)
    expected = int(np.prod(shape, dtype=np.int64)) * dtype.itemsize
    if data.size != expected:
        raise IdxFileError(
            f"{path}: header announces shape {shape} ({expected} data bytes) "
            f"but the file holds {data.size} data bytes"
        )
    return data.view(dtype).reshape(shape).astype(dtype.newbyteorder("="))
