"""Type aliases shared across the package."""

from __future__ import annotations

from typing import Union

from torch import Tensor

#: Graph connectivity: ``[2, E]`` edge indices, a torch sparse adjacency, or a PyG ``SparseTensor``
#: (sparse forms in PyG's transposed convention, ``adj_t[i, j]`` for an edge ``j -> i``).
Adj = Union[Tensor, "SparseTensor"]  # noqa: F821 - torch_sparse is optional
