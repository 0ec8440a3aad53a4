"""Shared pytest fixtures: fixed seeds and the location of the offline datasets."""

from __future__ import annotations

import os
import random
from pathlib import Path

import numpy as np
import pytest
import torch

REPO_ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(autouse=True)
def _fixed_seeds() -> None:
    random.seed(0)
    np.random.seed(0)  # noqa: NPY002 - legacy global state that other code may draw from
    torch.manual_seed(0)


@pytest.fixture(scope="session")
def shared_datasets() -> Path:
    """The read-only offline datasets (``../shared/datasets`` beside the repository).

    Override with the environment variable ``SPIKEGRAPH_SHARED_DATA``.
    """
    root = Path(os.environ.get("SPIKEGRAPH_SHARED_DATA", REPO_ROOT.parent / "shared" / "datasets"))
    if not root.is_dir():
        pytest.skip(f"offline datasets not found at {root}")
    return root
