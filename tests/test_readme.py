import re
from pathlib import Path

import pytest
import torch_geometric.typing

README = Path(__file__).resolve().parents[1] / "README.md"
HAS_SAMPLER = torch_geometric.typing.WITH_PYG_LIB or torch_geometric.typing.WITH_TORCH_SPARSE


def _blocks() -> list[str]:
    blocks = re.findall(r"```python\n(.*?)```", README.read_text(), flags=re.S)
    assert blocks, "the README should show how to use the library"
    return blocks


def test_readme_first_snippet_shows_the_layer():
    namespace: dict = {}
    exec(compile(_blocks()[0], str(README), "exec"), namespace)
    assert namespace["spikes"].shape == (8, 100, 64)


@pytest.mark.parametrize("index", range(1, len(_blocks())))
def test_readme_snippets_run(index):
    block = _blocks()[index]
    if "NeighborLoader" in block and not HAS_SAMPLER:
        pytest.skip("NeighborLoader needs pyg-lib or torch-sparse")
    exec(compile(block, str(README), "exec"), {})
