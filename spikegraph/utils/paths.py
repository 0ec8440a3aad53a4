"""Paths as the JSON reports keep them: relative to the folder a command ran from (the
repository root for every command in the docs), so that a report says nothing about the machine
that wrote it and its ``command`` can be replayed from a fresh clone.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

__all__ = ["portable_path", "portable_command", "portable_fields"]


def portable_path(path: str | os.PathLike | None, base: str | os.PathLike | None = None) -> Any:
    """``path`` relative to ``base`` (default: the working directory) if it is absolute, else
    unchanged; ``None`` stays ``None``.

    Args:
        path: A file or folder name.
        base: The folder the result is relative to (default: ``Path.cwd()``).
    """
    if path is None:
        return None
    if not Path(path).is_absolute():
        return str(path)
    return os.path.relpath(Path(path), Path.cwd() if base is None else Path(base))


def portable_command(words: Iterable[str], base: str | os.PathLike | None = None) -> str:
    """A command line whose absolute paths (words, or the values of ``--flag=PATH``) are made
    relative by :func:`portable_path`, joined by spaces."""
    out = []
    for word in words:
        flag, eq, value = word.partition("=")
        if eq and flag.startswith("-") and Path(value).is_absolute():
            word = f"{flag}={portable_path(value, base)}"
        elif Path(word).is_absolute():
            word = portable_path(word, base)
        out.append(word)
    return " ".join(out)


def portable_fields(
    record: Mapping[str, Any], keys: Iterable[str], base: str | os.PathLike | None = None
) -> dict[str, Any]:
    """A copy of ``record`` whose path fields ``keys`` (those present) are made relative."""
    out = dict(record)
    for key in keys:
        if key in out:
            out[key] = portable_path(out[key], base)
    return out
