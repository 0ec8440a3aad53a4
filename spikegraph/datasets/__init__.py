"""Dataset loaders: checked local copies first, the real download path for everything else."""

from spikegraph.datasets.planetoid import (
    PLANETOID_SHA256,
    DatasetIntegrityError,
    default_cache_dir,
    load_planetoid,
)

__all__ = ["PLANETOID_SHA256", "DatasetIntegrityError", "default_cache_dir", "load_planetoid"]
