"""The README and the guides under docs/guides/: their Python snippets run, and the README's
results summary and test command are what the tooling expects."""

import importlib.util
import re
import sys
from pathlib import Path

import pytest
import torch_geometric.typing

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"
GUIDES = sorted((ROOT / "docs" / "guides").glob("*.md"))
HAS_SAMPLER = torch_geometric.typing.WITH_PYG_LIB or torch_geometric.typing.WITH_TORCH_SPARSE


def _blocks(path: Path) -> list[str]:
    return re.findall(r"```python\n(.*?)```", path.read_text(), flags=re.S)


def _snippets() -> list:
    """Every Python block of the README after the first, and every one in the guides."""
    found = [(README, i, block) for i, block in enumerate(_blocks(README)) if i > 0]
    found += [(path, i, block) for path in GUIDES for i, block in enumerate(_blocks(path))]
    return [
        pytest.param(path, block, id=f"{path.relative_to(ROOT)}:{i}") for path, i, block in found
    ]


def _results_tables():
    spec = importlib.util.spec_from_file_location(
        "results_tables", ROOT / "docs" / "_ext" / "results_tables.py"
    )
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


def test_readme_first_snippet_shows_the_layer():
    namespace: dict = {}
    exec(compile(_blocks(README)[0], str(README), "exec"), namespace)
    assert namespace["spikes"].shape == (8, 100, 64)


def test_guides_have_snippets():
    assert GUIDES, "docs/guides/ is missing"
    assert sum(len(_blocks(path)) for path in GUIDES) >= 3


@pytest.mark.parametrize("path, block", _snippets())
def test_documented_snippets_run(path, block):
    if "NeighborLoader(" in block and not HAS_SAMPLER:
        pytest.skip("PyG's NeighborLoader needs pyg-lib or torch-sparse")
    if "torch_sparse" in block and importlib.util.find_spec("torch_sparse") is None:
        pytest.skip("the snippet shows torch-sparse's SparseTensor; torch-sparse is not installed")
    exec(compile(block, str(path), "exec"), {})


def test_readme_results_summary_is_generated():
    text = README.read_text()
    assert text == _results_tables().readme_with_summary(text), (
        "README.md's results summary differs from the JSON; run "
        "`python docs/_ext/results_tables.py --readme`"
    )


def test_readme_test_command_follows_its_marker():
    # .ci/run runs the line two below the marker (the fence is in between).
    lines = README.read_text().splitlines()
    marker = lines.index("<!-- test-command -->")
    assert lines[marker + 1].startswith("```")
    assert "pytest" in lines[marker + 2]
