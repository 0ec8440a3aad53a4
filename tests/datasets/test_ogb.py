import io
import shutil
import sys

import pytest
import torch
from torch_geometric.data import Data

from spikegraph.datasets.ogb import (
    OGBDatasetError,
    load_ogb_node,
    ogb_evaluator,
    symmetrize,
    trusted_pyg_load,
)
from spikegraph.datasets.synthetic import write_arxiv_like

pytest.importorskip("ogb")


@pytest.fixture
def cora_src(shared_datasets):
    return shared_datasets / "ogbn_cora_derived"


@pytest.fixture
def cora_copy(cora_src, tmp_path):
    dst = tmp_path / "src" / "ogbn_cora_derived"
    shutil.copytree(cora_src, dst)
    return dst


class StdinSpy(io.TextIOBase):
    """Stands for a closed terminal: records any read, then fails like a closed stream."""

    def __init__(self) -> None:
        self.reads = 0

    def readline(self, *args) -> str:
        self.reads += 1
        raise ValueError("I/O operation on closed file")

    read = readline


def load_cora(src, cache):
    return load_ogb_node("ogbn-cora", src, meta=src / "meta_dict.json", cache_dir=cache)


def test_derived_cora_loads_from_a_read_only_source(cora_src, tmp_path):
    before = sorted(p.name for p in cora_src.rglob("*"))
    dataset, split = load_cora(cora_src, tmp_path / "cache")
    graph = dataset[0]
    assert (graph.num_nodes, graph.edge_index.shape[1], graph.x.shape[1]) == (2708, 10556, 1433)
    assert dataset.num_classes == 7
    assert {k: v.numel() for k, v in split.items()} == {"train": 140, "valid": 500, "test": 1000}
    assert sorted(p.name for p in cora_src.rglob("*")) == before  # nothing written to the source
    assert (tmp_path / "cache" / "ogbn_cora_derived" / "processed").is_dir()


def test_second_load_reuses_the_processed_file(cora_src, tmp_path):
    load_cora(cora_src, tmp_path / "cache")
    processed = (
        tmp_path / "cache" / "ogbn_cora_derived" / "processed" / "geometric_data_processed.pt"
    )
    stamp = processed.stat().st_mtime_ns
    dataset, _ = load_cora(cora_src, tmp_path / "cache")
    assert processed.stat().st_mtime_ns == stamp and dataset[0].num_nodes == 2708


def test_missing_folder_raises_our_error_naming_it(tmp_path):
    missing = tmp_path / "nowhere"
    meta = {"download_name": "x", "version": "1", "num tasks": "1", "num classes": "2"}
    meta |= {"eval metric": "acc", "task type": "multiclass classification"}
    with pytest.raises(OGBDatasetError, match="nowhere") as info:
        load_ogb_node("ogbn-x", missing, meta=meta, cache_dir=tmp_path / "cache")
    assert info.value.path == missing


def test_missing_release_file_is_reported_without_reading_stdin(cora_copy, tmp_path, monkeypatch):
    (cora_copy / "RELEASE_v1.txt").unlink()
    spy = StdinSpy()
    monkeypatch.setattr(sys, "stdin", spy)
    with pytest.raises(OGBDatasetError, match="RELEASE_v1.txt") as info:
        load_cora(cora_copy, tmp_path / "cache")
    assert spy.reads == 0
    assert "release marker" in str(info.value)


def test_missing_raw_file_is_named(cora_copy, tmp_path):
    (cora_copy / "raw" / "node-label.csv.gz").unlink()
    with pytest.raises(OGBDatasetError, match="node-label.csv.gz"):
        load_cora(cora_copy, tmp_path / "cache")


def test_corrupt_file_fails_its_checksum(cora_copy, tmp_path):
    path = cora_copy / "raw" / "edge.csv.gz"
    path.write_bytes(path.read_bytes()[:-100])
    with pytest.raises(OGBDatasetError, match="corrupt") as info:
        load_cora(cora_copy, tmp_path / "cache")
    assert info.value.path == path


def test_unreadable_file_without_checksums_is_reported(tmp_path):
    src = tmp_path / "g"
    write_arxiv_like(src, num_nodes=200, num_edges=600, num_features=4, num_classes=4)
    (src / "SHA256SUMS").unlink()
    (src / "raw" / "node-label.csv.gz").write_bytes(b"not gzip")
    with pytest.raises(OGBDatasetError, match="ogb could not read"):
        load_ogb_node("g", src, meta=src / "meta_dict.json", cache_dir=tmp_path / "cache")


def test_changed_source_rebuilds_the_processed_graph(tmp_path):
    src, cache = tmp_path / "g", tmp_path / "cache"
    sizes = dict(num_nodes=300, num_edges=900, num_features=4, num_classes=4)
    write_arxiv_like(src, seed=0, **sizes)
    first = load_ogb_node("g", src, meta=src / "meta_dict.json", cache_dir=cache)[0][0]
    write_arxiv_like(src, seed=1, **sizes)
    second = load_ogb_node("g", src, meta=src / "meta_dict.json", cache_dir=cache)[0][0]
    assert not torch.equal(first.edge_index, second.edge_index)


def test_offline_official_dataset_without_download_is_a_clear_error(tmp_path):
    with pytest.raises(OGBDatasetError, match="no local copy of ogbn-arxiv"):
        load_ogb_node("ogbn-arxiv", tmp_path / "empty", cache_dir=tmp_path / "cache")


def test_unknown_name_without_meta_asks_for_meta(tmp_path):
    with pytest.raises(ValueError, match="meta="):
        load_ogb_node("ogbn-nothing", tmp_path)


def test_trusted_load_is_scoped():
    with trusted_pyg_load():  # once first: PyG registers globals of its own on first import
        pass
    before = set(torch.serialization.get_safe_globals())
    with trusted_pyg_load():
        inside = set(torch.serialization.get_safe_globals())
    assert Data in inside and Data not in before
    assert set(torch.serialization.get_safe_globals()) == before  # an unordered registry


def test_symmetrize_adds_reverse_edges_once():
    edge_index = torch.tensor([[0, 1, 2, 0], [1, 2, 0, 1]])
    sym = symmetrize(edge_index, 3)
    pairs = set(map(tuple, sym.t().tolist()))
    assert pairs == {(0, 1), (1, 0), (1, 2), (2, 1), (2, 0), (0, 2)} and sym.shape[1] == 6
    assert torch.equal(symmetrize(sym, 3), sym)


def test_evaluator_from_meta_scores_like_ogb(cora_src):
    import json

    meta = json.loads((cora_src / "meta_dict.json").read_text())
    evaluator = ogb_evaluator("ogbn-cora", meta)
    y = torch.tensor([[0], [1], [2], [3]])
    pred = torch.tensor([[0], [1], [0], [3]])
    assert evaluator.eval({"y_true": y, "y_pred": pred}) == {"acc": 0.75}
    assert ogb_evaluator("ogbn-arxiv").eval({"y_true": y, "y_pred": pred}) == {"acc": 0.75}
