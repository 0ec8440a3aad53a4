import shutil
from pathlib import Path

import pytest

from spikegraph.datasets import PLANETOID_SHA256, DatasetIntegrityError, load_planetoid

VENDORED = Path(__file__).resolve().parents[2] / "datasets"


def copy_vendored(tmp_path: Path, name: str) -> Path:
    shutil.copytree(VENDORED / name, tmp_path / "src" / name)
    return tmp_path / "src"


@pytest.mark.parametrize(
    "name,nodes,edges,features,classes,train",
    [("Cora", 2708, 10556, 1433, 7, 140), ("citeseer", 3327, 9104, 3703, 6, 120)],
)
def test_vendored_datasets_load(tmp_path, name, nodes, edges, features, classes, train):
    ds = load_planetoid(name, cache_dir=tmp_path / "cache")
    data = ds[0]
    assert (data.num_nodes, data.num_edges, data.num_features) == (nodes, edges, features)
    assert ds.num_classes == classes
    assert (int(data.train_mask.sum()), int(data.val_mask.sum()), int(data.test_mask.sum())) == (
        train,
        500,
        1000,
    )


def test_loading_never_writes_into_the_source(tmp_path):
    load_planetoid("Cora", cache_dir=tmp_path / "cache")
    assert not (VENDORED / "Cora" / "processed").exists()
    assert sorted(p.name for p in (VENDORED / "Cora").iterdir()) == ["raw"]


def test_corrupt_source_file_is_named(tmp_path):
    root = copy_vendored(tmp_path, "Cora")
    path = root / "Cora" / "raw" / "ind.cora.graph"
    data = bytearray(path.read_bytes())
    data[100] ^= 0xFF
    path.write_bytes(bytes(data))
    with pytest.raises(DatasetIntegrityError, match=r"corrupt data file .*ind\.cora\.graph"):
        load_planetoid("Cora", root=root, cache_dir=tmp_path / "cache")


def test_missing_source_file_is_named(tmp_path):
    root = copy_vendored(tmp_path, "Cora")
    (root / "Cora" / "raw" / "ind.cora.tx").unlink()
    with pytest.raises(FileNotFoundError, match=r"ind\.cora\.tx"):
        load_planetoid("Cora", root=root, cache_dir=tmp_path / "cache")


def test_corrupt_cache_copy_is_repaired(tmp_path):
    cache = tmp_path / "cache"
    load_planetoid("Cora", cache_dir=cache)
    (cache / "Cora" / "raw" / "ind.cora.y").write_bytes(b"garbage")
    assert load_planetoid("Cora", cache_dir=cache)[0].num_nodes == 2708
    assert (cache / "Cora" / "raw" / "ind.cora.y").read_bytes() == (
        VENDORED / "Cora" / "raw" / "ind.cora.y"
    ).read_bytes()


def test_unknown_name():
    with pytest.raises(ValueError, match="unknown Planetoid dataset 'Reddit'"):
        load_planetoid("Reddit")


def test_pubmed_offline_fails_with_a_clear_message(tmp_path, monkeypatch):
    from torch_geometric.datasets import Planetoid

    def offline(self):
        raise OSError("network unreachable")

    monkeypatch.setattr(Planetoid, "download", offline)  # never touch the network in tests
    with pytest.raises(RuntimeError, match="PubMed is not vendored.*pass root="):
        load_planetoid("PubMed", root=tmp_path, cache_dir=tmp_path / "cache")


def test_checksum_table_matches_the_sums_file():
    listed = {}
    for line in (VENDORED / "SHA256SUMS").read_text().splitlines():
        digest, path = line.split()
        listed[path] = digest
    embedded = {
        f"{name}/raw/{file}": digest
        for name, files in PLANETOID_SHA256.items()
        for file, digest in files.items()
    }
    assert listed == embedded
