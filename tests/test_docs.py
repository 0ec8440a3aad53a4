"""The documentation tooling in docs/_ext: API coverage and the generated results tables.

The Sphinx build itself runs in CI (``.ci/run``); these checks are the fast part of it.
"""

import importlib
import importlib.util
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def _load(name: str):
    spec = importlib.util.spec_from_file_location(name, ROOT / "docs" / "_ext" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


def test_api_reference_covers_every_public_name():
    pytest.importorskip("sphinx")  # the ``docs`` extra: its source analyser reads doc comments
    api = _load("api_pages")
    index = api.build_index()
    assert "spikegraph.synapse" in index.modules and "spikegraph.nn.conv" in index.modules
    for modname in index.modules:
        module = importlib.import_module(modname)
        for name in api.public_names(module):
            if name == "__version__":
                continue
            if isinstance(getattr(module, name), type(importlib)):
                continue
            assert f"{modname}.{name}" in index.aliases, f"{modname}.{name} is not documented"
    # every top-level name resolves to the one place it is documented
    assert index.aliases["spikegraph.SpikingASConv"] == "spikegraph.nn.SpikingASConv"
    assert index.aliases["spikegraph.nn.conv.SpikingASConv"] == "spikegraph.nn.SpikingASConv"


def test_api_pages_are_written_per_subpackage(tmp_path):
    pytest.importorskip("sphinx")
    api = _load("api_pages")
    pages = api.write_pages(tmp_path)
    assert pages[:4] == ["synapse", "neurons", "encoders", "nn"]
    nn_page = (tmp_path / "nn.rst").read_text()
    assert ".. autoclass:: spikegraph.nn.SpikingASConv" in nn_page
    assert "generated/continual" in (tmp_path / "contents.inc").read_text()


def test_every_results_table_builds():
    tables = _load("results_tables")
    for name, make in tables.TABLES.items():
        table = make()
        assert table.rows, name
        assert all(len(row) == len(table.header) for row in table.rows), name


def test_missing_results_file_is_a_clear_error(monkeypatch, tmp_path):
    tables = _load("results_tables")
    monkeypatch.setattr(tables, "REPO", tmp_path)
    with pytest.raises(
        tables.ResultsError, match=r"citeseer_gcn\.json is missing.*examples/cora\.py"
    ):
        tables.node_classification()
