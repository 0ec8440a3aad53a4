"""Mini-batch node classification with PyG's ``NeighborLoader`` and global edge ids.

The per-edge experience of :class:`~spikegraph.nn.SpikingASConv` is indexed by the sampled
edges' global ids (``batch.e_id``), so every synapse needs one: the self-loops and the GCN
normalisation are added to the full graph once (:func:`global_gcn_graph`) and the layers neither
add nor normalise (:func:`build_minibatch_model`). The same model then evaluates full batch.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch_geometric.data import Data
from torch_geometric.loader import NeighborLoader
from torch_geometric.nn.conv.gcn_conv import gcn_norm
from tqdm.auto import tqdm

from spikegraph.models import SpikingGNN
from spikegraph.tasks.node_classification import Config, build_model

__all__ = ["global_gcn_graph", "build_minibatch_model", "train_minibatch_epoch"]


def global_gcn_graph(data: Data) -> Data:
    """A copy of ``data`` whose graph has self-loops and symmetric GCN weights
    (``edge_weight``), computed once over the full graph."""
    edge_index, weight = gcn_norm(data.edge_index, None, data.num_nodes, add_self_loops=True)
    out = data.clone()
    out.edge_index, out.edge_weight = edge_index, weight
    return out


def build_minibatch_model(cfg: Config, data: Data, num_classes: int) -> SpikingGNN:
    """:class:`SpikingGNN` for a :func:`global_gcn_graph`, its experience named by its edges
    (global edge id ``k`` is column ``k`` of ``data.edge_index``)."""
    model = build_model(
        cfg, data.num_features, num_classes, normalize=False, add_self_loops=False, cached=False
    )
    model.reset_experience(data.edge_index, data.num_nodes)
    return model


def train_minibatch_epoch(
    model: SpikingGNN,
    data: Data,
    optimizer: torch.optim.Optimizer,
    *,
    batch_size: int = 1024,
    num_neighbors: tuple[int, ...] = (10, 10),
    generator: torch.Generator | None = None,
    progress: bool = False,
) -> float:
    """One pass over the training nodes in sampled subgraphs; returns the mean loss."""
    loader = NeighborLoader(
        data,
        num_neighbors=list(num_neighbors),
        batch_size=batch_size,
        input_nodes=data.train_mask,
        shuffle=True,
        generator=generator,
    )
    model.train()
    total, seen = 0.0, 0
    for batch in tqdm(loader, desc="batches", disable=not progress, leave=False):
        out = model(batch.x, batch.edge_index, batch.edge_weight, e_id=batch.e_id)
        n = batch.batch_size
        loss = F.cross_entropy(out[:n], batch.y[:n])
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        total, seen = total + loss.item() * n, seen + n
    return total / seen
