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
from collections.abc import Callable
from pathlib import Path

from torch_geometric.data import Data
from torch_geometric.datasets import Planetoid

from spikegraph.datasets.ogb import trusted_pyg_load

__all__ = ["PLANETOID_SHA256", "DatasetIntegrityError", "default_cache_dir", "load_planetoid"]

_SUFFIXES = ("x", "tx", "allx", "y", "ty", "ally", "graph", "test.index")
_CANONICAL = {"cora": "Cora", "citeseer": "CiteSeer", "pubmed": "PubMed"}

#: sha256 of every vendored raw file, by dataset and file name (the same as ``datasets/SHA256SUMS``).
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
    """A data file does not have the content it should (sha256 mismatch)."""


def default_cache_dir() -> Path:
    """Where PyG's working copy goes unless ``cache_dir`` is given.

    Returns:
        ``$SPIKEGRAPH_CACHE/planetoid`` when that variable is set, else
        ``~/.cache/spikegraph/planetoid``.
    """
    base = os.environ.get("SPIKEGRAPH_CACHE") or Path.home() / ".cache" / "spikegraph"
    return Path(base) / "planetoid"


def load_planetoid(
    name: str,
    root: str | Path | None = None,
    *,
    cache_dir: str | Path | None = None,
    transform: Callable[[Data], Data] | None = None,
) -> Planetoid:
    """Load a Planetoid citation graph with its public split.

    Cora and CiteSeer are read from ``root`` (by default the repository's vendored
    ``datasets/``), every raw file is checked against :data:`PLANETOID_SHA256`, and the files
    are copied into ``cache_dir``, where PyG builds its ``processed/`` folder. ``root`` is
    only read. PubMed has no checksum table: a complete local copy in ``root`` is used
    *without* verification; otherwise PyG downloads it into the cache, which needs internet.

    Args:
        name: ``"Cora"``, ``"CiteSeer"`` or ``"PubMed"``, in any case.
        root: A folder holding ``<Name>/raw/ind.<name>.*`` (the folder name as spelled above).
        cache_dir: A writable folder for PyG's copy (default: :func:`default_cache_dir`).
        transform: Passed on to ``Planetoid``; applied to the graph on every access.

    Returns:
        PyG's ``Planetoid`` dataset: ``ds[0]`` is the graph with ``train_mask``, ``val_mask``
        and ``test_mask``, and ``ds.num_classes`` the number of classes.

    Raises:
        ValueError: ``name`` is not a Planetoid dataset.
        FileNotFoundError: A raw file of Cora or CiteSeer is missing from ``root``.
        DatasetIntegrityError: A raw file of Cora or CiteSeer has the wrong sha256.
        RuntimeError: PubMed has no local copy and could not be downloaded.
    """
    canonical = _canonical(name)
    src = (Path(root) if root is not None else _vendored_root()) / canonical / "raw"
    cache = Path(cache_dir) if cache_dir is not None else default_cache_dir()
    sums = PLANETOID_SHA256.get(canonical)
    if sums is not None:
        _verify_source(src, sums, vendored=root is None)
    elif _missing_files(src, canonical):
        return _download(canonical, cache, transform, src)
    else:
        sums = {file: _sha256(src / file) for file in _raw_names(canonical)}
    _sync_raw(src, cache / canonical / "raw", sums)
    with trusted_pyg_load():  # PyG reloads its own processed file with torch.load
        return Planetoid(str(cache), canonical, split="public", transform=transform)


def _vendored_root() -> Path:
    return Path(__file__).resolve().parents[2] / "datasets"


def _canonical(name: str) -> str:
    try:
        return _CANONICAL[name.lower()]
    except KeyError:
        known = ", ".join(_CANONICAL.values())
        raise ValueError(f"unknown Planetoid dataset {name!r}; choose one of {known}") from None


def _raw_names(canonical: str) -> list[str]:
    return [f"ind.{canonical.lower()}.{suffix}" for suffix in _SUFFIXES]


def _missing_files(src: Path, canonical: str) -> list[str]:
    return [file for file in _raw_names(canonical) if not (src / file).is_file()]


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _verify_source(src: Path, sums: dict[str, str], *, vendored: bool) -> None:
    """Check that every raw file is there with the expected sha256."""
    for file, expected in sums.items():
        path = src / file
        if not path.is_file():
            raise FileNotFoundError(f"missing data file {path}; {_restore_hint(vendored)}")
        _check_digest(path, expected)


def _restore_hint(vendored: bool) -> str:
    if vendored:
        return "restore it from version control (git checkout -- datasets) or pass root="
    return "copy it from the spikegraph repository's datasets/ folder, or leave root unset"


def _check_digest(path: Path, expected: str) -> None:
    actual = _sha256(path)
    if actual != expected:
        raise DatasetIntegrityError(
            f"corrupt data file {path}: sha256 {actual}, expected {expected}"
        )


def _sync_raw(src: Path, dst: Path, sums: dict[str, str]) -> None:
    """Make ``dst`` hold exactly the checked files; drop PyG's output if any had to change."""
    dst.mkdir(parents=True, exist_ok=True)
    stale = [file for file, digest in sums.items() if not _has_digest(dst / file, digest)]
    for file in stale:
        _copy_atomic(src / file, dst / file)
        _check_digest(dst / file, sums[file])
    if stale:
        shutil.rmtree(dst.parent / "processed", ignore_errors=True)


def _has_digest(path: Path, digest: str) -> bool:
    return path.is_file() and _sha256(path) == digest


def _copy_atomic(src: Path, dst: Path) -> None:
    """Copy through a temporary name, so a concurrent reader never sees half a file."""
    tmp = dst.with_name(f".{dst.name}.{os.getpid()}.tmp")
    shutil.copyfile(src, tmp)
    os.replace(tmp, dst)


def _download(
    name: str, cache: Path, transform: Callable[[Data], Data] | None, src: Path
) -> Planetoid:
    """PyG's own download path, with an actionable error when it fails (e.g. offline)."""
    try:
        with trusted_pyg_load():
            return Planetoid(str(cache), name, split="public", transform=transform)
    except Exception as err:  # offline, PyG raises URLError, OSError, ...
        raise RuntimeError(
            f"{name} is not vendored with spikegraph and no complete local copy was found at "
            f"{src}, so PyG tried to download it into {cache / name}, which failed ({err!r}). "
            f"The download needs internet; offline, pass root= pointing at a folder holding "
            f"{name}/raw/ with all 8 ind.{name.lower()}.* files."
        ) from err
