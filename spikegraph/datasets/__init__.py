"""Dataset loaders: checked local copies first, the real download path for everything else.

- :mod:`.planetoid`: Cora, CiteSeer, PubMed (vendored raw files for the first two);
- :mod:`.ogb`: OGB node property prediction through ogb's own loader (the ``ogb`` extra);
- :mod:`.splits`: random per-class splits (SGNNBench's protocol);
- :mod:`.synthetic`: an arxiv-sized graph in OGB's raw layout, for offline scale tests.
"""

from spikegraph.datasets.ogb import OGBDatasetError, load_ogb_node, ogb_evaluator, symmetrize
from spikegraph.datasets.planetoid import (
    PLANETOID_SHA256,
    DatasetIntegrityError,
    default_cache_dir,
    load_planetoid,
)
from spikegraph.datasets.splits import class_random_split, with_class_random_split
from spikegraph.datasets.synthetic import write_arxiv_like

__all__ = [
    "PLANETOID_SHA256",
    "DatasetIntegrityError",
    "OGBDatasetError",
    "default_cache_dir",
    "load_ogb_node",
    "load_planetoid",
    "class_random_split",
    "with_class_random_split",
    "ogb_evaluator",
    "symmetrize",
    "write_arxiv_like",
]
