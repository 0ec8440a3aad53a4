"""OGB node property prediction datasets through OGB's own ``PygNodePropPredDataset``.

The loader keeps OGB's reader and adds what running it unattended needs (ogb 1.3.6):

* **No prompt, no exit.** ogb asks on stdin whether to re-download when a dataset folder lacks
  its ``RELEASE_v<version>.txt``, and asks again (then calls ``exit``) before a download over
  1 GB. Here every file ogb will read is checked *before* ogb runs, a missing one raises
  :class:`OGBDatasetError` naming it, and downloads go through ogb's ``download_url`` and
  ``extract_zip`` directly, so ogb's prompting code is never reached.
* **torch >= 2.6.** ogb calls ``torch.load`` without ``weights_only=False``; PyG's ``Data``
  classes are then refused. :func:`trusted_pyg_load` allows exactly those classes for the
  duration of the call (``torch.serialization.safe_globals``), nothing global is changed.
* **Read-only data.** ogb writes ``processed/`` next to ``raw/``, so a local dataset folder is
  first copied into a writable cache (only the files that changed), as the Planetoid loader
  does; ``root`` is only read. ``processed/`` is created up front (ogb's non-PyG loader needs
  it) and rebuilt whenever the raw files differ from those it was built from.
* **Checked files.** Files are verified against a ``SHA256SUMS`` in the dataset folder when
  there is one (the synthetic generator writes it) and against built-in sums for the offline
  ``ogbn_cora_derived`` copy; a file that ogb cannot parse is reported with its folder.

Official datasets (``ogbn-arxiv``, ...) are downloaded by ogb's URL into the cache when no local
copy is given, which needs internet. Any other dataset in OGB's raw layout is read from a local
folder with a ``meta_dict`` (a dict or the path of a ``meta_dict.json``).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import shutil
import warnings
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any

import torch
from torch import Tensor
from torch_geometric.data import Data
from torch_geometric.utils import to_undirected

__all__ = [
    "OGB_SHA256",
    "OGBDatasetError",
    "default_ogb_cache_dir",
    "load_ogb_node",
    "ogb_evaluator",
    "ogb_meta",
    "symmetrize",
    "trusted_pyg_load",
]

#: Known sha256 sums of local copies, by folder name (``download_name``), relative paths.
OGB_SHA256: dict[str, dict[str, str]] = {
    "ogbn_cora_derived": {
        "RELEASE_v1.txt": "763751932891a7724f966323966f1ffe635114b78cdef0a8d7821ce1ece6458a",
        "raw/edge.csv.gz": "a5c48fdb3b27a05d300cc4d4068aa7550b42e11d498aaeee50a700b1f6bbd317",
        "raw/node-feat.csv.gz": "70678907cc2b011599cdd52411a531cde4dbd3c8c4189c5cf2559b2ef0334f21",
        "raw/node-label.csv.gz": "6b263ed687d7434348a7ade433fd31e359c9354f642fc4957e8a8bb15ec48928",
        "raw/num-edge-list.csv.gz": "46cf0125da61362a9767147f431fa0310fe11d878f7e9b9d7d472f166a375a05",
        "raw/num-node-list.csv.gz": "1b10f42b5f593a95c25482b4fd47e38f0e0fa422162cc802edbb586ef638c509",
        "split/public/train.csv.gz": "009074275b78dafffdce9e39c3dbac1f0acfc745fe17f1d21b54ad9668687e31",
        "split/public/valid.csv.gz": "4e2a033de398d328066f5a2f5258fdca10d7aa861d6df580216431bce1db71f1",
        "split/public/test.csv.gz": "7c0bb56c95da43e94d31939c88b70a05cefa2810880cbb295d282768f793a4ed",
    },
}

_SOURCES_RECORD = "spikegraph_sources.json"


class OGBDatasetError(RuntimeError):
    """An OGB dataset folder is missing, incomplete or corrupt.

    Attributes:
        path: The folder or file at fault.
    """

    def __init__(self, path: str | Path, message: str) -> None:
        self.path = Path(path)
        super().__init__(f"{self.path}: {message}")


def default_ogb_cache_dir() -> Path:
    """``$SPIKEGRAPH_CACHE/ogb`` when that variable is set, else ``~/.cache/spikegraph/ogb``."""
    base = os.environ.get("SPIKEGRAPH_CACHE") or Path.home() / ".cache" / "spikegraph"
    return Path(base) / "ogb"


def symmetrize(edge_index: Tensor, num_nodes: int | None = None) -> Tensor:
    """Both directions of every edge, coalesced (sorted, no duplicates).

    OGB stores citation graphs such as ogbn-arxiv directed (citing -> cited); the usual
    full-batch protocol trains on the symmetric graph. Idempotent.

    Shapes:
        ``edge_index``: ``[2, E]`` -> ``[2, E']`` with ``E' <= 2 E``.
    """
    return to_undirected(edge_index, num_nodes=num_nodes)


@contextlib.contextmanager
def trusted_pyg_load() -> Iterator[None]:
    """Let ``torch.load`` (with torch's default ``weights_only=True``) read PyG ``Data`` files.

    ogb 1.3.6 saves its processed graph as a pickled PyG ``Data`` and reloads it with a bare
    ``torch.load``; since torch 2.6 that refuses PyG's classes. Inside this context exactly
    those classes are allowed; the allow-list is restored on exit. Use it only for files this
    process wrote or otherwise trusts. On torch < 2.5 (``weights_only`` off by default) it does
    nothing.
    """
    safe_globals = getattr(torch.serialization, "safe_globals", None)
    if safe_globals is None:  # pragma: no cover - old torch
        yield
        return
    from torch_geometric.data.data import DataEdgeAttr, DataTensorAttr
    from torch_geometric.data.storage import EdgeStorage, GlobalStorage, NodeStorage

    with safe_globals(
        [Data, DataEdgeAttr, DataTensorAttr, GlobalStorage, NodeStorage, EdgeStorage]
    ):
        yield


def ogb_meta(name: str, meta: Mapping[str, Any] | str | Path | None = None) -> dict[str, str]:
    """The ``meta_dict`` of a dataset: ogb's ``master.csv`` entry, or the given dict / JSON file.

    Args:
        name: An official name such as ``"ogbn-arxiv"`` (used when ``meta`` is None).
        meta: A ``meta_dict`` or the path of a ``meta_dict.json``.

    Raises:
        ValueError: ``name`` is not an official OGB node dataset and no ``meta`` was given.
        OGBDatasetError: The JSON file is missing or not a valid ``meta_dict``.
    """
    if meta is None:
        master = _master()
        if name not in master:
            raise ValueError(
                f"{name!r} is not an official OGB node dataset ({', '.join(master)}); for a local "
                "dataset in OGB's raw layout pass meta= (its meta_dict or meta_dict.json)"
            )
        return dict(master[name])
    if isinstance(meta, (str, Path)):
        path = Path(meta)
        if not path.is_file():
            raise OGBDatasetError(path, "meta_dict file not found")
        try:
            meta = json.loads(path.read_text())
        except (json.JSONDecodeError, UnicodeDecodeError) as err:
            raise OGBDatasetError(path, f"not a valid meta_dict JSON file ({err})") from err
    out = {str(k): str(v) for k, v in dict(meta).items()}
    needed = ("download_name", "version", "num tasks", "num classes", "eval metric", "task type")
    missing = [k for k in needed if k not in out]
    if missing:
        raise OGBDatasetError(Path(str(out.get("dir_path", "."))), f"meta_dict lacks {missing}")
    return out


def load_ogb_node(
    name: str,
    root: str | Path | None = None,
    *,
    meta: Mapping[str, Any] | str | Path | None = None,
    cache_dir: str | Path | None = None,
    download: bool = True,
    transform: Callable[[Data], Data] | None = None,
) -> tuple[Any, dict[str, Tensor]]:
    """Load an OGB node property prediction dataset and its official split.

    Args:
        name: The dataset name, e.g. ``"ogbn-arxiv"`` (any name when ``meta`` is given).
        root: The dataset folder (holding ``raw/`` and ``split/``) or, as in ogb, a folder that
            holds it under ogb's folder name (``ogbn_arxiv``). Default: the cache for official
            datasets, the folder of ``meta`` when it is a file.
        meta: ogb's ``meta_dict`` for a dataset outside ogb's ``master.csv``: a dict or the path
            of a ``meta_dict.json`` (its ``dir_path`` entry is ignored; ``root`` decides).
        cache_dir: The writable cache: the dataset is copied to ``<cache_dir>/<folder>`` (only
            changed files) and ogb writes ``processed/`` there, never into ``root``; official
            datasets are downloaded there. Default: :func:`default_ogb_cache_dir`.
        download: For an official dataset with no local copy, download it (needs internet).
        transform: Passed on to ``PygNodePropPredDataset``.

    Returns:
        ``(dataset, split)``: ogb's ``PygNodePropPredDataset`` and ``{"train", "valid",
        "test"}`` node indices.

    Raises:
        ImportError: ogb is not installed.
        ValueError: Unknown official name and no ``meta``.
        OGBDatasetError: The folder or a file in it is missing or corrupt, or ogb cannot read
            it; the message names the path.
        RuntimeError: The download failed (e.g. offline).
    """
    dataset_cls = _import_ogb()
    info = ogb_meta(name, meta)
    official = meta is None
    folder_name = "_".join(name.split("-")) if official else info["download_name"]
    src = _source_dir(root, meta, folder_name, official, cache_dir)

    if not src.is_dir() or not any(src.iterdir()):
        if not (official and download and root is None):
            raise OGBDatasetError(src, _missing_hint(official, name))
        _download(info, src)
    _check_files(src, info)
    _verify_sums(src, info)

    files = _ogb_files(src, info)
    work = Path(cache_dir or default_ogb_cache_dir()) / folder_name
    if work.resolve() != src.resolve():
        _sync(src, work, files)
    digests = _prepare_processed(work, files)

    run_meta = dict(info)
    run_meta["dir_path"] = str(work)
    try:
        with trusted_pyg_load(), warnings.catch_warnings():
            # ogb turns read-only pandas arrays into tensors; harmless, it copies them next
            warnings.filterwarnings("ignore", message="The given NumPy array is not writable")
            dataset = dataset_cls(name=name, meta_dict=run_meta, transform=transform)
            split = dataset.get_idx_split()
    except (SystemExit, Exception) as err:  # pandas, gzip, zlib, pickle errors, ogb's exit()
        raise OGBDatasetError(work, f"ogb could not read this dataset folder ({err!r})") from err
    _check_split(work, split, dataset[0].num_nodes)
    (work / "processed" / _SOURCES_RECORD).write_text(json.dumps(digests, indent=1))
    return dataset, split


def ogb_evaluator(name: str, meta: Mapping[str, Any] | None = None) -> Any:
    """ogb's ``Evaluator`` for ``name``; for a dataset outside ogb's ``master.csv``, the same
    class set up from its ``meta_dict`` (``num tasks``, ``eval metric``).

    ``Evaluator(name)`` only reads those two entries from ``master.csv``; they are what its
    ``eval`` uses, so the metric code that runs is ogb's own either way.
    """
    from ogb.nodeproppred import Evaluator

    if name in _master():
        return Evaluator(name)
    if meta is None:
        raise ValueError(f"{name!r} is not an official OGB dataset; pass its meta_dict")
    evaluator = Evaluator.__new__(Evaluator)
    evaluator.name = name
    evaluator.num_tasks = int(meta["num tasks"])
    evaluator.eval_metric = str(meta["eval metric"])
    if evaluator.eval_metric not in ("acc", "rocauc"):
        raise ValueError(f"ogb's node Evaluator has no metric {evaluator.eval_metric!r}")
    return evaluator


# ---- helpers ----
def _import_ogb() -> type:
    try:
        from ogb.nodeproppred import PygNodePropPredDataset
    except ImportError as err:
        raise ImportError(
            "OGB datasets need the ogb package: pip install 'spikegraph[ogb]' (or pip install ogb)"
        ) from err
    return PygNodePropPredDataset


def _master() -> dict[str, dict[str, str]]:
    import ogb.nodeproppred
    import pandas as pd

    path = Path(ogb.nodeproppred.__file__).parent / "master.csv"
    table = pd.read_csv(path, index_col=0, keep_default_na=False)
    return {col: {k: str(v) for k, v in table[col].items()} for col in table.columns}


def _source_dir(
    root: str | Path | None,
    meta: Mapping[str, Any] | str | Path | None,
    folder_name: str,
    official: bool,
    cache_dir: str | Path | None,
) -> Path:
    if root is None:
        if isinstance(meta, (str, Path)):
            return Path(meta).parent
        if official:
            return Path(cache_dir or default_ogb_cache_dir()) / folder_name
        raise ValueError("a meta_dict given as a dict needs root= (the dataset folder)")
    root = Path(root)
    if (root / "raw").is_dir() or not (root / folder_name).is_dir():
        return root
    return root / folder_name


def _missing_hint(official: bool, name: str) -> str:
    if official:
        return (
            f"no local copy of {name} here; leave root unset to download it with internet "
            f"(download=True), or point root at a folder holding raw/ and split/"
        )
    return "dataset folder not found (expected raw/, split/ and RELEASE_v<version>.txt in it)"


def _ogb_files(folder: Path, info: Mapping[str, str]) -> list[str]:
    """Every file ogb reads for a plain (non-binary, homogeneous) node dataset, relative."""
    if info.get("is hetero") == "True" or info.get("binary") == "True":
        raise OGBDatasetError(folder, "heterogeneous / binary OGB datasets are not supported")
    files = [f"RELEASE_v{info['version']}.txt"]
    raw = ["edge", "num-node-list", "num-edge-list", "node-label"]
    if info.get("has_node_attr") == "True":
        raw.append("node-feat")
    if info.get("has_edge_attr") == "True":
        raw.append("edge-feat")
    for key in ("additional node files", "additional edge files"):
        if info.get(key, "None") != "None":
            raw.extend(info[key].split(","))
    files += [f"raw/{f}.csv.gz" for f in raw]
    files += [f"split/{info['split']}/{part}.csv.gz" for part in ("train", "valid", "test")]
    return files


def _check_files(folder: Path, info: Mapping[str, str]) -> None:
    missing = [f for f in _ogb_files(folder, info) if not (folder / f).is_file()]
    if not missing:
        return
    release = f"RELEASE_v{info['version']}.txt"
    if missing == [release]:
        raise OGBDatasetError(
            folder / release,
            "missing release marker. ogb would stop and ask on stdin whether to re-download; "
            "if the data in this folder is complete, create the file (it may be empty), "
            "otherwise delete the folder and download again",
        )
    raise OGBDatasetError(folder, f"incomplete OGB dataset folder, missing {missing}")


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _expected_sums(folder: Path, info: Mapping[str, str]) -> dict[str, str]:
    sums = dict(OGB_SHA256.get(info["download_name"], {}))
    listing = folder / "SHA256SUMS"
    if listing.is_file():
        for line in listing.read_text().splitlines():
            if line.strip():
                digest, rel = line.split(maxsplit=1)
                sums[rel.strip().lstrip("*")] = digest
    return sums


def _verify_sums(folder: Path, info: Mapping[str, str]) -> None:
    for rel, expected in _expected_sums(folder, info).items():
        path = folder / rel
        if not path.is_file():
            raise OGBDatasetError(path, "missing data file listed in the checksums")
        actual = _sha256(path)
        if actual != expected:
            raise OGBDatasetError(path, f"corrupt data file: sha256 {actual}, expected {expected}")


def _sync(src: Path, dst: Path, files: list[str]) -> None:
    """Make ``dst`` hold the same files as ``src`` (copied through a temporary name)."""
    for rel in [*files, "SHA256SUMS", "meta_dict.json"]:
        source, target = src / rel, dst / rel
        if not source.is_file():
            continue
        same_size = target.is_file() and target.stat().st_size == source.stat().st_size
        if same_size and _sha256(target) == _sha256(source):
            continue
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = target.with_name(f".{target.name}.{os.getpid()}.tmp")
        shutil.copyfile(source, tmp)
        os.replace(tmp, target)


def _prepare_processed(folder: Path, files: list[str]) -> dict[str, str]:
    """Create ``processed/`` (ogb's non-PyG loader needs it); empty it when it was built from
    other raw files. Returns the sha256 of the raw files, to record once processing succeeded."""
    processed = folder / "processed"
    digests = {rel: _sha256(folder / rel) for rel in files}
    if processed.is_dir():
        try:
            recorded = json.loads((processed / _SOURCES_RECORD).read_text())
        except (OSError, json.JSONDecodeError):
            recorded = None
        if recorded != digests:
            shutil.rmtree(processed)
    processed.mkdir(parents=True, exist_ok=True)
    return digests


def _check_split(folder: Path, split: Mapping[str, Tensor], num_nodes: int) -> None:
    for part in ("train", "valid", "test"):
        idx = split.get(part)
        if idx is None or idx.numel() == 0:
            raise OGBDatasetError(folder / "split", f"the {part!r} split is missing or empty")
        if int(idx.min()) < 0 or int(idx.max()) >= num_nodes:
            raise OGBDatasetError(
                folder / "split", f"the {part!r} split has node ids outside [0, {num_nodes})"
            )


def _download(info: Mapping[str, str], dst: Path) -> None:
    """ogb's download (its ``download_url`` and ``extract_zip``) without its size prompt."""
    from ogb.utils.url import download_url, extract_zip

    url = info.get("url", "")
    tmp = dst.parent / f".{dst.name}.download"
    try:
        path = download_url(url, str(tmp))
        extract_zip(path, str(tmp))
    except Exception as err:  # URLError, HTTPError, OSError, BadZipFile
        shutil.rmtree(tmp, ignore_errors=True)
        raise RuntimeError(
            f"downloading {url} into {tmp} failed ({err!r}). The download needs internet; "
            "offline, pass root= (and meta= for a non-official dataset) pointing at a copy in "
            "OGB's raw layout"
        ) from err
    extracted = tmp / info["download_name"]
    if not extracted.is_dir():
        raise OGBDatasetError(tmp, f"the archive from {url} has no {info['download_name']}/")
    if dst.exists():
        shutil.rmtree(dst)
    dst.parent.mkdir(parents=True, exist_ok=True)
    shutil.move(str(extracted), str(dst))
    shutil.rmtree(tmp, ignore_errors=True)
