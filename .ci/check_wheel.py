"""Check an installed spikegraph wheel from outside the source tree (run by .ci/run).

    python .ci/check_wheel.py SOURCE_TREE

Run it with the fresh environment's interpreter and a working directory outside the checkout,
so that ``import spikegraph`` can only find the installed copy. It fails when the wheel misses a
module of the source tree, when a module does not import with the declared dependencies alone
(optional extras aside), when ``__version__`` disagrees with the distribution's metadata, or
when one SpikingASConv forward and backward pass on a tiny graph does not work.
"""

from __future__ import annotations

import importlib
import importlib.metadata
import pkgutil
import sys
from pathlib import Path

# Imported only inside the functions that need them; a module importing one at the top would
# need its extra just to be imported, which is what this check is for.
OPTIONAL = {"ogb", "matplotlib", "torch_scatter", "torch_sparse", "pyg_lib"}


def main(source: Path) -> None:
    import spikegraph

    installed = Path(spikegraph.__file__).resolve().parent
    assert source.resolve() not in installed.parents, f"imported from the checkout: {installed}"
    print(f"spikegraph {spikegraph.__version__} from {installed}")

    version = importlib.metadata.version("spikegraph")
    assert spikegraph.__version__ == version, f"__version__ {spikegraph.__version__} != {version}"

    expected = {p.relative_to(source).as_posix() for p in (source / "spikegraph").rglob("*.py")}
    shipped = {p.relative_to(installed.parent).as_posix() for p in installed.rglob("*.py")}
    missing = sorted(expected - shipped)
    assert not missing, f"missing from the wheel: {missing}"

    for info in pkgutil.walk_packages(spikegraph.__path__, "spikegraph."):
        try:
            importlib.import_module(info.name)
        except ModuleNotFoundError as exc:
            if exc.name and exc.name.split(".")[0] in OPTIONAL:
                raise AssertionError(f"{info.name} needs {exc.name} at import time") from exc
            raise
    print(f"{len(expected)} modules shipped and imported")

    import torch

    from spikegraph import SpikingASConv, repeat

    torch.manual_seed(0)
    x = (torch.rand(6, 4) < 0.5).float()
    edge_index = torch.tensor([[0, 1, 2, 3, 4, 5], [1, 2, 3, 4, 5, 0]])
    conv = SpikingASConv(4, 3, scaling="tent")
    spikes = conv(repeat(x, T=4), edge_index)
    assert spikes.shape == (4, 6, 3), spikes.shape
    assert bool(((spikes == 0) | (spikes == 1)).all()), "spikes are not 0./1."
    spikes.sum().backward()
    assert any(p.grad is not None for p in conv.parameters()), "no gradient reached the weights"
    print(f"{conv}: forward and backward on a 6-node ring, output {tuple(spikes.shape)}")


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    main(Path(sys.argv[1]))
