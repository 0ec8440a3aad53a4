import gzip
import hashlib

import numpy as np
import pytest

from spikegraph.datasets.synthetic import (
    ARXIV_SHAPE,
    edge_homophily,
    main,
    split_sizes,
    write_arxiv_like,
)

SMALL = dict(num_nodes=1200, num_edges=8000, num_features=16, num_classes=8)


def read_csv_gz(path) -> np.ndarray:
    with gzip.open(path, "rt") as f:
        return np.loadtxt(f, delimiter=",", ndmin=2)


def digests(folder) -> dict[str, str]:
    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file() and p.name != "meta_dict.json"  # it records the absolute path
    }


@pytest.fixture(scope="module")
def small(tmp_path_factory):
    out = tmp_path_factory.mktemp("synthetic") / "g"
    summary = write_arxiv_like(out, seed=3, **SMALL)
    return out, summary


def test_default_split_sizes_are_arxivs():
    assert split_sizes(ARXIV_SHAPE["num_nodes"]) == ARXIV_SHAPE["split"] == (90941, 29799, 48603)


def test_files_have_the_stated_counts(small):
    out, summary = small
    edges = read_csv_gz(out / "raw" / "edge.csv.gz").astype(np.int64)
    feats = read_csv_gz(out / "raw" / "node-feat.csv.gz")
    labels = read_csv_gz(out / "raw" / "node-label.csv.gz").ravel()
    assert edges.shape == (SMALL["num_edges"], 2)
    assert feats.shape == (SMALL["num_nodes"], SMALL["num_features"])
    assert set(np.unique(labels)) == set(range(SMALL["num_classes"]))
    assert (edges[:, 0] != edges[:, 1]).all()  # no self-loops
    assert np.unique(edges[:, 0] * SMALL["num_nodes"] + edges[:, 1]).size == len(edges)
    assert summary["num_edges"] == SMALL["num_edges"]


def test_split_is_a_time_split_of_all_nodes(small):
    out, _ = small
    year = read_csv_gz(out / "raw" / "node_year.csv.gz").ravel()
    parts = {
        p: read_csv_gz(out / "split" / "time" / f"{p}.csv.gz").ravel().astype(int)
        for p in ("train", "valid", "test")
    }
    assert tuple(len(v) for v in parts.values()) == split_sizes(SMALL["num_nodes"])
    assert np.array_equal(np.sort(np.concatenate(list(parts.values()))), np.arange(1200))
    assert year[parts["train"]].max() <= 2017 < year[parts["valid"]].min()
    assert year[parts["valid"]].max() == 2018 < year[parts["test"]].min()


def test_edges_are_homophilous_and_features_class_dependent(small):
    out, summary = small
    edges = read_csv_gz(out / "raw" / "edge.csv.gz").astype(np.int64).T
    labels = read_csv_gz(out / "raw" / "node-label.csv.gz").ravel().astype(int)
    chance = float(((np.bincount(labels) / labels.size) ** 2).sum())
    h = edge_homophily(edges, labels)
    assert h == pytest.approx(summary["edge_homophily"])
    # the excess over a label-blind graph is at least half the requested homophily (0.4)
    assert (h - chance) / (1 - chance) > 0.2
    # one-way ANOVA F over the classes: about 1 for class-blind features, here 1 + n_c * signal^2
    feats = read_csv_gz(out / "raw" / "node-feat.csv.gz")
    classes = SMALL["num_classes"]
    means = np.stack([feats[labels == c].mean(0) for c in range(classes)])
    counts = np.bincount(labels, minlength=classes)
    between = (counts[:, None] * (means - feats.mean(0)) ** 2).sum() / (classes - 1)
    within = ((feats - means[labels]) ** 2).sum() / (labels.size - classes)
    assert between / within > 2.0


def test_same_seed_same_bytes_other_seed_other_graph(small, tmp_path):
    out, _ = small
    again = tmp_path / "g"
    write_arxiv_like(again, seed=3, **SMALL)
    assert digests(again) == digests(out)
    other = tmp_path / "h"
    write_arxiv_like(other, seed=4, **SMALL)
    assert digests(other)["raw/edge.csv.gz"] != digests(out)["raw/edge.csv.gz"]


def test_ogb_loader_reads_it(small, tmp_path):
    pytest.importorskip("ogb")
    from spikegraph.datasets.ogb import load_ogb_node

    out, _ = small
    dataset, split = load_ogb_node("s", out, meta=out / "meta_dict.json", cache_dir=tmp_path)
    graph = dataset[0]
    assert graph.num_nodes == SMALL["num_nodes"]
    assert graph.edge_index.shape == (2, SMALL["num_edges"])  # directed, as written
    assert graph.x.shape == (SMALL["num_nodes"], SMALL["num_features"])
    assert dataset.num_classes == SMALL["num_classes"] and graph.node_year.shape[0] == 1200
    assert tuple(split[p].numel() for p in ("train", "valid", "test")) == split_sizes(1200)


def test_command_line(tmp_path, capsys):
    main(["--out", str(tmp_path / "c"), "--nodes", "300", "--edges", "900", "--seed", "1"])
    assert '"num_edges": 900' in capsys.readouterr().out
    assert (tmp_path / "c" / "RELEASE_v1.txt").is_file()


@pytest.mark.parametrize(
    "kwargs", [dict(num_nodes=10), dict(num_edges=0), dict(homophily=1.5), dict(num_features=0)]
)
def test_impossible_sizes_are_rejected(tmp_path, kwargs):
    with pytest.raises(ValueError):
        write_arxiv_like(tmp_path / "x", **{**SMALL, **kwargs})
