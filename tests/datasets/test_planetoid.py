import shutil
from pathlib import Path

import pytest
from torch_geometric.datasets import Planetoid

from spikegraph.datasets import (
    PLANETOID_SHA256,
    DatasetIntegrityError,
    default_cache_dir,
    load_planetoid,
)

VENDORED = Path(__file__).resolve().parents[2] / "datasets"


def copy_vendored(tmp_path: Path, name: str) -> Path:
    shutil.copytree(VENDORED / name, tmp_path / "src" / name)
    return tmp_path / "src"


def tree(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in root.rglob("*") if p.is_file()}


@pytest.fixture
def offline(monkeypatch):
    """Make PyG's download fail as it does without a network, so no test touches it."""

    def no_network(self):
        raise OSError("network unreachable")

    monkeypatch.setattr(Planetoid, "download", no_network)


@pytest.mark.parametrize(
    "name,nodes,edges,features,classes,train",
    [("Cora", 2708, 10556, 1433, 7, 140), ("CiteSeer", 3327, 9104, 3703, 6, 120)],
)
def test_vendored_datasets_load(tmp_path, name, nodes, edges, features, classes, train):
    ds = load_planetoid(name, cache_dir=tmp_path / "cache")
    data = ds[0]
    assert (data.num_nodes, data.num_edges, data.num_features) == (nodes, edges, features)
    assert ds.num_classes == classes
    masks = (data.train_mask, data.val_mask, data.test_mask)
    assert [int(m.sum()) for m in masks] == [train, 500, 1000]


def test_name_is_case_insensitive(tmp_path):
    ds = load_planetoid("cItEsEeR", cache_dir=tmp_path / "cache")
    assert ds.name == "CiteSeer"
    assert (tmp_path / "cache" / "CiteSeer" / "processed").is_dir()


def test_loading_never_writes_into_the_vendored_folder(tmp_path):
    before = tree(VENDORED)
    load_planetoid("Cora", cache_dir=tmp_path / "cache")
    assert not (VENDORED / "Cora" / "processed").exists()
    assert tree(VENDORED) == before


def test_loading_never_writes_into_a_given_root(tmp_path):
    root = copy_vendored(tmp_path, "Cora")
    before = tree(root)
    load_planetoid("Cora", root=root, cache_dir=tmp_path / "cache")
    assert tree(root) == before


def test_default_cache_follows_the_environment(tmp_path, monkeypatch):
    monkeypatch.setenv("SPIKEGRAPH_CACHE", str(tmp_path))
    assert default_cache_dir() == tmp_path / "planetoid"


def test_corrupt_source_file_is_named(tmp_path):
    root = copy_vendored(tmp_path, "Cora")
    path = root / "Cora" / "raw" / "ind.cora.graph"
    data = bytearray(path.read_bytes())
    data[100] ^= 0xFF
    path.write_bytes(bytes(data))
    expected = PLANETOID_SHA256["Cora"]["ind.cora.graph"]
    with pytest.raises(DatasetIntegrityError, match=r"ind\.cora\.graph") as info:
        load_planetoid("Cora", root=root, cache_dir=tmp_path / "cache")
    assert expected in str(info.value)
    assert not (tmp_path / "cache" / "Cora").exists()  # checked before anything is copied


def test_missing_source_file_is_named(tmp_path):
    root = copy_vendored(tmp_path, "Cora")
    (root / "Cora" / "raw" / "ind.cora.tx").unlink()
    with pytest.raises(FileNotFoundError, match=r"ind\.cora\.tx.*datasets/ folder"):
        load_planetoid("Cora", root=root, cache_dir=tmp_path / "cache")


def test_corrupt_cache_copy_is_repaired_and_reprocessed(tmp_path):
    cache = tmp_path / "cache"
    load_planetoid("Cora", cache_dir=cache)
    (cache / "Cora" / "raw" / "ind.cora.y").write_bytes(b"garbage")
    marker = cache / "Cora" / "processed" / "built-from-corrupt-copy"
    marker.write_text("")
    assert load_planetoid("Cora", cache_dir=cache)[0].num_nodes == 2708
    assert not marker.exists()
    repaired = (cache / "Cora" / "raw" / "ind.cora.y").read_bytes()
    assert repaired == (VENDORED / "Cora" / "raw" / "ind.cora.y").read_bytes()


def test_intact_cache_is_reused(tmp_path):
    cache = tmp_path / "cache"
    load_planetoid("Cora", cache_dir=cache)
    marker = cache / "Cora" / "processed" / "still-here"
    marker.write_text("")
    load_planetoid("Cora", cache_dir=cache)
    assert marker.exists()


def test_unknown_name_lists_the_supported_ones():
    with pytest.raises(ValueError, match="unknown Planetoid dataset 'Reddit'.*Cora, CiteSeer"):
        load_planetoid("Reddit")


def test_local_copy_without_checksums_is_used(tmp_path, offline):
    # Cora's files under PubMed's names stand in for a local PubMed: same reader, no table.
    raw = tmp_path / "src" / "PubMed" / "raw"
    raw.mkdir(parents=True)
    for file in PLANETOID_SHA256["Cora"]:
        shutil.copyfile(VENDORED / "Cora" / "raw" / file, raw / file.replace("cora", "pubmed"))
    ds = load_planetoid("pubmed", root=tmp_path / "src", cache_dir=tmp_path / "cache")
    assert ds[0].num_nodes == 2708


def test_pubmed_offline_fails_with_a_clear_message(tmp_path, offline):
    with pytest.raises(RuntimeError, match="PubMed is not vendored") as info:
        load_planetoid("PubMed", root=tmp_path, cache_dir=tmp_path / "cache")
    assert "needs internet" in str(info.value)
    assert "pass root=" in str(info.value)
    assert isinstance(info.value.__cause__, OSError)


def test_incomplete_local_pubmed_falls_back_to_the_download(tmp_path, offline):
    raw = tmp_path / "src" / "PubMed" / "raw"
    raw.mkdir(parents=True)
    (raw / "ind.pubmed.x").write_bytes(b"only one of eight")
    with pytest.raises(RuntimeError, match="no complete local copy"):
        load_planetoid("PubMed", root=tmp_path / "src", cache_dir=tmp_path / "cache")


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
