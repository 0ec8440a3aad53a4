"""Random node splits for transductive node classification."""

from __future__ import annotations

import torch
from torch import Tensor
from torch_geometric.data import Data

__all__ = ["class_random_split", "with_class_random_split"]


def class_random_split(
    y: Tensor,
    num_per_class: int = 20,
    num_val: int = 500,
    num_test: int = 1000,
    *,
    generator: torch.Generator | None = None,
) -> tuple[Tensor, Tensor, Tensor]:
    """Boolean masks ``(train, val, test)``: ``num_per_class`` random labelled nodes of every
    class, then ``num_val`` and ``num_test`` random nodes of the rest.

    The protocol of SGNNBench (arXiv 2509.21342, its ``class_rand_splits``) and of
    Shchur et al. (2018): a new split per seed.

    Raises:
        ValueError: a class has fewer than ``num_per_class`` nodes, or too few nodes remain
            for ``num_val + num_test``.
    """
    if y.dim() != 1:
        raise ValueError(f"y must be one label per node [N], got shape {tuple(y.shape)}")
    train = []
    for c in y.unique():
        members = (y == c).nonzero().view(-1)
        if members.numel() < num_per_class:
            raise ValueError(
                f"class {int(c)} has {members.numel()} nodes, fewer than num_per_class="
                f"{num_per_class}"
            )
        train.append(members[torch.randperm(members.numel(), generator=generator)[:num_per_class]])
    train_idx = torch.cat(train)
    rest = torch.ones(y.numel(), dtype=torch.bool)
    rest[train_idx] = False
    rest_idx = rest.nonzero().view(-1)
    if rest_idx.numel() < num_val + num_test:
        raise ValueError(
            f"{rest_idx.numel()} unlabelled nodes cannot hold num_val={num_val} and "
            f"num_test={num_test}"
        )
    rest_idx = rest_idx[torch.randperm(rest_idx.numel(), generator=generator)]
    masks = []
    for idx in (train_idx, rest_idx[:num_val], rest_idx[num_val : num_val + num_test]):
        mask = torch.zeros(y.numel(), dtype=torch.bool)
        mask[idx] = True
        masks.append(mask)
    return masks[0], masks[1], masks[2]


def with_class_random_split(data: Data, seed: int, **kwargs: int) -> Data:
    """A copy of ``data`` whose masks are :func:`class_random_split`'s for ``seed``."""
    out = data.clone()
    g = torch.Generator().manual_seed(seed)
    out.train_mask, out.val_mask, out.test_mask = class_random_split(data.y, generator=g, **kwargs)
    return out
