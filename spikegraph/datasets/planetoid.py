"""Planetoid citation graphs (Cora, CiteSeer, PubMed) through PyG's own ``Planetoid`` reader.

Cora and CiteSeer are vendored in the repository's ``datasets/`` folder. Their raw files are
checked against the sha256 sums below, then copied into a writable cache where PyG writes its
``processed/`` folder, so neither the repository nor a read-only source is ever written to.
PubMed is not vendored: it is read from ``root`` when its raw files are there, and otherwise
downloaded by PyG (which needs internet).
"""

from __future__ import annotations

import hashlib
import os
import shutil
from pathlib import Path

from torch_geometric.datasets import Planetoid

__all__ = ["DatasetIntegrityError", "PLANETOID_SHA256", "load_planetoid", "default_cache_dir"]

_SUFFIXES = ("x", "tx", "allx", "y", "ty", "ally", "graph", "test.index")
_CANONICAL = {"cora": "Cora", "citeseer": "CiteSeer", "pubmed": "PubMed"}

PLANETOID_SHA256: dict[str, dict[str, str]] = {
    "Cora": {
        "ind.cora.x": "23cfa55d91c6f624233f5eb7b6e3f141f1bd2b2ae39608a63cf5d084bb27baab",
        "ind.cora.tx": "b9afbaa4a400df991f6f02ef677e1e44da55ffc04801fd02f9e673987829226a",
        "ind.cora.allx": "9419ba2f26f5c35243db64aba110e0f35a04851609e0dc5433450676ca6b8543",
        "ind.cora.y": "94465c14eb53e04ca262198dcbb2521ee8af60fb3f3d546cd6ca24a511b0e7d1",
        "ind.cora.ty": "41f5ac76596a1699cc33f53084a2419e92961c42bb75f36fc38e616d348532ad",
        "ind.cora.ally": "2b998f5cc7fedc86e7f97ca2498f47a1ffc1462c29e2d578b23bf3f62b6e7d71",
        "ind.cora.graph": "58f13302f39dde8852dad6fe6d15b89b077b6d7f837626bce671ef80344b383d",
        "ind.cora.test.index": "297ce89af2b51a6a194181c7dbe1796c6a1cf9cd9349a88383b1b1e227867875",
    },
    "CiteSeer": {
        "ind.citeseer.x": "d20de19150741e555de0ed037195630fc194114ebc7fd72ced62810148aa22f6",
        "ind.citeseer.tx": "539a8906a2da97628d212f2fdd668c109a8b3f0d36574b59e5d3fd5b5303da21",
        "ind.citeseer.allx": "2ac30345d95c9ec933a817ee0bdd6a5f077f8c184a20e696910192d534414668",
        "ind.citeseer.y": "8ba87e515d8e3ee3cf52f6d2c5b86aa73f11ecad825a808455209ec26cd54924",
        "ind.citeseer.ty": "55e5bd1ba1e733a04598753ad1a8d57957f4b8f89e74519f41f4f4938767e4ce",
        "ind.citeseer.ally": "f704b2d986dde6c2669934de1f3ae5696a6cf9455c0f6b2646a2d135ea0a1c95",
        "ind.citeseer.graph": "d79a4ef9d3e7169aee8946145f6b7306e35bc79bffad26346cfb94e10e9912a7",
        "ind.citeseer.test.index": "2af990671580b6b2df5d158d1038f8292e30c9cd821b5453f399659b25b723d4",
    },
}


class DatasetIntegrityError(ValueError):
    """A data file does not have the content it should (checksum mismatch)."""


def _vendored_root() -> Path:
    return Path(__file__).resolve().parents[2] / "datasets"


def default_cache_dir() -> Path:
    """``$SPIKEGRAPH_CACHE/planetoid``, or ``~/.cache/spikegraph/planetoid``."""
    base = os.environ.get("SPIKEGRAPH_CACHE") or Path.home() / ".cache" / "spikegraph"
    return Path(base) / "planetoid"


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _canonical(name: str) -> str:
    try:
        return _CANONICAL[name.lower()]
    except KeyError:
        known = ", ".join(_CANONICAL.values())
        raise ValueError(f"unknown Planetoid dataset {name!r}; choose one of {known}") from None


def _verify(path: Path, expected: str) -> None:
    if not path.is_file():
        raise FileNotFoundError(
            f"missing data file {path}; restore it (git checkout -- datasets) or pass root= "
            "pointing at a folder holding <Name>/raw/"
        )
    actual = _sha256(path)
    if actual != expected:
        raise DatasetIntegrityError(
            f"corrupt data file {path}: sha256 {actual}, expected {expected}"
        )


def _sync_raw(src: Path, dst: Path, sums: dict[str, str] | None) -> None:
    """Copy raw files into the cache; re-copy any that differ and drop stale processed files."""
    dst.mkdir(parents=True, exist_ok=True)
    changed = False
    for file in sorted(p.name for p in src.iterdir()) if sums is None else sums:
        target = dst / file
        if target.is_file() and (sums is None or _sha256(target) == sums[file]):
            continue
        shutil.copyfile(src / file, target)
        changed = True
    if changed:
        shutil.rmtree(dst.parent / "processed", ignore_errors=True)


def load_planetoid(
    name: str,
    root: str | Path | None = None,
    *,
    cache_dir: str | Path | None = None,
    transform=None,
) -> Planetoid:
    """Load a Planetoid dataset (public split) as PyG's ``Planetoid`` object.

    Args:
        name: ``"Cora"``, ``"CiteSeer"`` or ``"PubMed"`` (any case).
        root: a folder holding ``<Name>/raw/`` (default: the vendored ``datasets/``). It is
            only read.
        cache_dir: writable folder for PyG's copy (default: :func:`default_cache_dir`).
        transform: passed to ``Planetoid``.

    Raises:
        FileNotFoundError: a vendored raw file is missing. DatasetIntegrityError: one is corrupt.
        RuntimeError: PubMed is not available locally and cannot be downloaded.
    """
    name = _canonical(name)
    root = Path(root) if root is not None else _vendored_root()
    cache = Path(cache_dir) if cache_dir is not None else default_cache_dir()
    src = root / name / "raw"
    sums = PLANETOID_SHA256.get(name)
    if sums is not None:
        for file, expected in sums.items():
            _verify(src / file, expected)
    elif not all((src / f"ind.{name.lower()}.{s}").is_file() for s in _SUFFIXES):
        return _download(name, cache, transform)
    _sync_raw(src, cache / name / "raw", sums)
    return Planetoid(str(cache), name, split="public", transform=transform)


def _download(name: str, cache: Path, transform) -> Planetoid:
    try:
        return Planetoid(str(cache), name, split="public", transform=transform)
    except Exception as err:  # PyG raises URLError, OSError, ... when offline
        raise RuntimeError(
            f"{name} is not vendored with spikegraph and downloading it failed ({err}). "
            f"With internet, PyG downloads it into {cache}; offline, pass root= pointing at a "
            f"folder holding {name}/raw/ with all 8 ind.{name.lower()}.* files."
        ) from err
