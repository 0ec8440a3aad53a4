"""A seeded synthetic citation graph of ogbn-arxiv's size, written in OGB's raw layout.

No ogbn-* data is available offline, so large-graph work runs on this stand-in. It has arxiv's
shape (169,343 nodes, 1,166,243 directed citation edges, 128 float features, 40 classes, a
publication year per node and the time-based split: 90,941 / 29,799 / 48,603 nodes) and enough
structure that accuracy means something:

* **Class-dependent features**: ``x_i = signal * mu_{y_i} + noise``, with one random centroid
  ``mu_c ~ N(0, I)`` per class and unit Gaussian noise, so features alone separate the classes
  only partly.
* **Homophilous, heavy-tailed edges**: each edge starts at a node drawn by a log-normal activity
  weight; with probability ``homophily`` it ends at a node of the same class, otherwise at any
  node, both drawn by a log-normal popularity weight (a few highly cited papers). Edges point
  from the newer to the older paper, as citations do. Self-loops and duplicates are removed, so
  exactly ``num_edges`` distinct directed edges are written.
* **Imbalanced classes** (log-normal class sizes) and a **time split**: every node gets a year;
  train is the oldest part (years up to 2017), valid is 2018 and test is 2019-2020, in arxiv's
  proportions.

The files are those of OGB's reader (``ogb.io.read_graph_raw``) plus a ``meta_dict.json`` to pass
as ``meta_dict``, a ``SHA256SUMS`` that :func:`spikegraph.datasets.ogb.load_ogb_node` checks
and ``generator.json`` with the arguments that produced the folder::

    <out>/RELEASE_v1.txt  meta_dict.json  SHA256SUMS  generator.json
    <out>/raw/edge.csv.gz  node-feat.csv.gz  node-label.csv.gz  node_year.csv.gz
    <out>/raw/num-node-list.csv.gz  num-edge-list.csv.gz
    <out>/split/time/{train,valid,test}.csv.gz

The output is byte-identical for the same arguments (seeded generator, gzip without timestamps).

    python -m spikegraph.datasets.synthetic --out /data/arxiv_like        # full size, < 2 min
    python -m spikegraph.datasets.synthetic --out /tmp/small --nodes 2000 --edges 14000
"""

from __future__ import annotations

import argparse
import gzip
import hashlib
import io
import json
import shutil
import time
from pathlib import Path

import numpy as np

from spikegraph.utils.paths import portable_path

__all__ = ["ARXIV_SHAPE", "write_arxiv_like", "split_sizes", "edge_homophily", "main"]

#: ogbn-arxiv's counts, the generator's defaults.
ARXIV_SHAPE = {
    "num_nodes": 169_343,
    "num_edges": 1_166_243,
    "num_features": 128,
    "num_classes": 40,
    "split": (90_941, 29_799, 48_603),
}

_ROWS_PER_CHUNK = 8192


def split_sizes(num_nodes: int) -> tuple[int, int, int]:
    """Train / valid / test sizes in ogbn-arxiv's proportions (its exact sizes at full size)."""
    train_n, valid_n, _ = ARXIV_SHAPE["split"]
    n_train = round(num_nodes * train_n / ARXIV_SHAPE["num_nodes"])
    n_valid = round(num_nodes * valid_n / ARXIV_SHAPE["num_nodes"])
    return n_train, n_valid, num_nodes - n_train - n_valid


def edge_homophily(edge_index: np.ndarray, labels: np.ndarray) -> float:
    """Fraction of edges whose two ends have the same label."""
    labels = np.asarray(labels).reshape(-1)
    return float((labels[edge_index[0]] == labels[edge_index[1]]).mean())


def write_arxiv_like(
    out_dir: str | Path,
    *,
    num_nodes: int = ARXIV_SHAPE["num_nodes"],
    num_edges: int = ARXIV_SHAPE["num_edges"],
    num_features: int = ARXIV_SHAPE["num_features"],
    num_classes: int = ARXIV_SHAPE["num_classes"],
    seed: int = 0,
    homophily: float = 0.40,
    signal: float = 0.13,
    name: str = "ogbn-arxiv-synthetic",
) -> dict:
    """Generate the graph and write it in OGB's raw layout under ``out_dir``.

    Args:
        out_dir: The dataset folder to create (its ``processed/`` is removed if present, since
            it would be stale).
        num_nodes: Nodes (default: ogbn-arxiv's 169,343).
        num_edges: Distinct directed edges, without self-loops (default 1,166,243).
        num_features: Feature dimension (default 128).
        num_classes: Classes (default 40).
        seed: Seed of ``numpy.random.default_rng``; the output depends only on the arguments.
        homophily: Probability that an edge's target is drawn from the source's class (the
            realised edge homophily is a little higher, as random targets hit the same class
            by chance).
        signal: Scale of the class centroids against unit noise in the features.
        name: The dataset name recorded in ``meta_dict.json``.

    Returns:
        A summary: counts, split sizes, realised edge homophily, class sizes and the wall time.

    Raises:
        ValueError: Sizes that cannot hold the requested graph.
    """
    start = time.perf_counter()
    _check_sizes(num_nodes, num_edges, num_features, num_classes, homophily)
    out = Path(out_dir)
    rng = np.random.default_rng(seed)

    class_p = rng.lognormal(0.0, 0.8, num_classes)
    labels = rng.choice(num_classes, size=num_nodes, p=class_p / class_p.sum())
    labels[rng.permutation(num_nodes)[:num_classes]] = np.arange(num_classes)  # no empty class
    age = rng.permutation(num_nodes)  # 0 = oldest paper
    year = _years(age, num_nodes)
    edges = _edges(rng, labels, age, num_edges, homophily)
    centroids = rng.standard_normal((num_classes, num_features)).astype(np.float32)
    feats = rng.standard_normal((num_nodes, num_features), dtype=np.float32)
    feats += np.float32(signal) * centroids[labels]

    if (out / "processed").exists():
        shutil.rmtree(out / "processed")
    raw, split = out / "raw", out / "split" / "time"
    raw.mkdir(parents=True, exist_ok=True)
    split.mkdir(parents=True, exist_ok=True)
    _write_csv_gz(raw / "edge.csv.gz", edges.T, "%d,%d")
    _write_csv_gz(raw / "node-feat.csv.gz", feats, ",".join(["%.4f"] * num_features))
    _write_csv_gz(raw / "node-label.csv.gz", labels[:, None], "%d")
    _write_csv_gz(raw / "node_year.csv.gz", year[:, None], "%d")
    _write_csv_gz(raw / "num-node-list.csv.gz", np.array([[num_nodes]]), "%d")
    _write_csv_gz(raw / "num-edge-list.csv.gz", np.array([[num_edges]]), "%d")
    n_train, n_valid, n_test = split_sizes(num_nodes)
    order = np.argsort(age, kind="stable")
    parts = {
        "train": order[:n_train],
        "valid": order[n_train : n_train + n_valid],
        "test": order[n_train + n_valid :],
    }
    for part, idx in parts.items():
        _write_csv_gz(split / f"{part}.csv.gz", np.sort(idx)[:, None], "%d")
    (out / "RELEASE_v1.txt").write_text(
        f"# spikegraph synthetic arxiv-like graph (seed {seed}); OGB raw layout, not OGB data.\n"
    )
    meta = _meta_dict(out, name, num_classes)
    (out / "meta_dict.json").write_text(json.dumps(meta, indent=1) + "\n")
    params = {
        "num_nodes": num_nodes,
        "num_edges": num_edges,
        "num_features": num_features,
        "num_classes": num_classes,
        "seed": seed,
        "homophily": homophily,
        "signal": signal,
    }
    (out / "generator.json").write_text(json.dumps(params, indent=1) + "\n")
    _write_sums(out)
    return {
        "out_dir": portable_path(out),
        "num_nodes": num_nodes,
        "num_edges": int(edges.shape[1]),
        "num_features": num_features,
        "num_classes": num_classes,
        "split": {"train": n_train, "valid": n_valid, "test": n_test},
        "edge_homophily": edge_homophily(edges, labels),
        "class_sizes": np.bincount(labels, minlength=num_classes).tolist(),
        "seed": seed,
        "homophily": homophily,
        "signal": signal,
        "wall_time_s": time.perf_counter() - start,
    }


def _check_sizes(
    num_nodes: int, num_edges: int, num_features: int, num_classes: int, homophily: float
) -> None:
    if num_classes < 2 or num_nodes < max(num_classes, 3) * 2:
        raise ValueError(f"need at least 2 classes and 2 nodes per class, got {num_nodes} nodes")
    if num_features < 1:
        raise ValueError(f"num_features must be positive, got {num_features}")
    if not 0 < num_edges <= num_nodes * (num_nodes - 1) // 4:
        raise ValueError(
            f"num_edges={num_edges} must be in [1, num_nodes*(num_nodes-1)/4] for "
            f"{num_nodes} nodes (the graph is kept sparse enough to sample without repeats)"
        )
    if not 0.0 <= homophily <= 1.0:
        raise ValueError(f"homophily must lie in [0, 1], got {homophily}")


def _years(age: np.ndarray, num_nodes: int) -> np.ndarray:
    """Publication years by age rank: train 1991-2017 (more papers each year), valid 2018,
    test 2019-2020."""
    n_train, n_valid, _ = split_sizes(num_nodes)
    year = np.empty(num_nodes, dtype=np.int64)
    old = age < n_train
    year[old] = 1991 + np.floor(27 * np.sqrt(age[old] / max(n_train, 1))).astype(np.int64)
    year[(age >= n_train) & (age < n_train + n_valid)] = 2018
    recent = age >= n_train + n_valid
    year[recent] = np.where(age[recent] < (n_train + n_valid + num_nodes) // 2, 2019, 2020)
    return year


def _edges(
    rng: np.random.Generator, labels: np.ndarray, age: np.ndarray, num_edges: int, h: float
) -> np.ndarray:
    """``num_edges`` distinct directed edges newer -> older, homophilous and heavy-tailed."""
    n = labels.shape[0]
    activity = rng.lognormal(0.0, 0.7, n)
    popularity = rng.lognormal(0.0, 1.0, n)
    by_class = np.argsort(labels, kind="stable")
    cum = np.cumsum(popularity[by_class])
    ends = cum[np.searchsorted(labels[by_class], np.arange(labels.max() + 1), side="right") - 1]
    starts = np.concatenate([[0.0], ends[:-1]])
    act_cum = np.cumsum(activity)
    keys = np.empty(0, dtype=np.int64)
    while keys.size < num_edges:
        m = int((num_edges - keys.size) * 1.1) + 64
        src = np.searchsorted(act_cum, rng.random(m) * act_cum[-1], side="right")
        same = rng.random(m) < h
        c = labels[src]
        u = np.where(
            same, starts[c] + rng.random(m) * (ends[c] - starts[c]), rng.random(m) * cum[-1]
        )
        dst = by_class[np.minimum(np.searchsorted(cum, u, side="right"), n - 1)]
        newer_first = np.where(age[src] >= age[dst], src * n + dst, dst * n + src)
        new = newer_first[src != dst]
        # keep first occurrences in draw order, so the kept set does not depend on sorting
        keys = np.concatenate([keys, new])
        _, first = np.unique(keys, return_index=True)
        keys = keys[np.sort(first)]
    keys = keys[:num_edges]
    return np.stack([keys // n, keys % n])


def _write_csv_gz(path: Path, rows: np.ndarray, fmt: str) -> None:
    """CSV without header, gzip level 1 with no name or timestamp in the header (byte-stable)."""
    with open(path, "wb") as raw, gzip.GzipFile("", "wb", 1, raw, mtime=0) as gz:
        for i in range(0, rows.shape[0], _ROWS_PER_CHUNK):
            buf = io.BytesIO()
            np.savetxt(buf, rows[i : i + _ROWS_PER_CHUNK], fmt=fmt)
            gz.write(buf.getvalue())


def _meta_dict(out: Path, name: str, num_classes: int) -> dict:
    """OGB's ``meta_dict`` for this folder (as in ogb's master.csv for ogbn-arxiv)."""
    return {
        "name": name,
        "dir_path": str(out.resolve()),
        "download_name": out.name,
        "version": "1",
        "url": "",
        "add_inverse_edge": "False",
        "has_node_attr": "True",
        "has_edge_attr": "False",
        "split": "time",
        "additional node files": "node_year",
        "additional edge files": "None",
        "is hetero": "False",
        "binary": "False",
        "num tasks": "1",
        "num classes": str(num_classes),
        "eval metric": "acc",
        "task type": "multiclass classification",
    }


def _write_sums(out: Path) -> None:
    files = sorted(p for p in out.rglob("*.csv.gz")) + [out / "RELEASE_v1.txt"]
    lines = [f"{hashlib.sha256(p.read_bytes()).hexdigest()}  {p.relative_to(out)}" for p in files]
    (out / "SHA256SUMS").write_text("\n".join(lines) + "\n")


def main(argv: list[str] | None = None) -> dict:
    """``python -m spikegraph.datasets.synthetic --out DIR [--nodes N --edges E --seed S]``."""
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--out", type=Path, required=True, help="dataset folder to write")
    p.add_argument("--nodes", type=int, default=ARXIV_SHAPE["num_nodes"])
    p.add_argument("--edges", type=int, default=ARXIV_SHAPE["num_edges"])
    p.add_argument("--features", type=int, default=ARXIV_SHAPE["num_features"])
    p.add_argument("--classes", type=int, default=ARXIV_SHAPE["num_classes"])
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--homophily", type=float, default=0.40)
    p.add_argument("--signal", type=float, default=0.13)
    args = p.parse_args(argv)
    summary = write_arxiv_like(
        args.out,
        num_nodes=args.nodes,
        num_edges=args.edges,
        num_features=args.features,
        num_classes=args.classes,
        seed=args.seed,
        homophily=args.homophily,
        signal=args.signal,
    )
    brief = {k: v for k, v in summary.items() if k != "class_sizes"}
    print(json.dumps(brief, indent=1))
    return summary


if __name__ == "__main__":
    main()
