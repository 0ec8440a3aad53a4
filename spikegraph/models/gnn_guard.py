r"""A robust GNN baseline: GCN layers whose edges are re-weighted by feature similarity."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor, nn
from torch_geometric.nn import GCNConv
from torch_geometric.utils import remove_self_loops

from spikegraph.typing import Adj
from spikegraph.utils.graph import to_edge_index

__all__ = ["GNNGuard", "guard_weights"]


def guard_weights(
    h: Tensor, edge_index: Tensor, edge_weight: Tensor | None, num_nodes: int, threshold: float
) -> tuple[Tensor, Tensor]:
    r"""GNNGuard's edge weights for one layer (Zhang & Zitnik, NeurIPS 2020, eqs. 2-4).

    .. math::
        s_{uv} = \cos(h_u, h_v), \qquad
        \alpha_{uv} = \frac{s_{uv} w_{uv} [s_{uv} \ge P_0]}
                           {\sum_{k \in \mathcal{N}(v)} s_{kv} w_{kv} [s_{kv} \ge P_0]},
        \qquad \alpha_{vv} = \frac{1}{1 + d_v},

    where :math:`w_{uv}` is the given edge weight (1 for a plain graph) and :math:`d_v` the
    number of edges into :math:`v` that survive the pruning. The similarities are detached
    (the defence re-weights; it is not trained through).

    Args:
        h: node representations ``[N, C]``.
        edge_index: ``[2, E]`` edges (source, target); self-loops are dropped and re-added.
        edge_weight: ``[E]`` or ``None``.
        num_nodes: ``N``.
        threshold: :math:`P_0`, the similarity below which an edge is pruned.

    Returns:
        The edges with one self-loop per node ``[2, E' + N]`` and their weights ``[E' + N]``.
    """
    edge_index, edge_weight = remove_self_loops(edge_index, edge_weight)
    src, dst = edge_index
    with torch.no_grad():
        unit = F.normalize(h.detach(), dim=-1)
        sim = (unit[src] * unit[dst]).sum(-1)
        keep = (sim >= threshold).to(h.dtype)
    score = sim * keep if edge_weight is None else sim * keep * edge_weight
    total = torch.zeros(num_nodes, dtype=h.dtype, device=h.device).index_add(0, dst, score)
    alpha = score / total[dst].clamp_min(1e-12)
    kept = torch.zeros(num_nodes, dtype=h.dtype, device=h.device).index_add_(0, dst, keep)
    loops = torch.arange(num_nodes, device=h.device)
    edges = torch.cat([edge_index, loops.expand(2, -1)], dim=1)
    return edges, torch.cat([alpha, 1.0 / (1.0 + kept)])


class GNNGuard(nn.Module):
    r"""GCN defended by GNNGuard's neighbour importance estimation (Zhang & Zitnik, "GNNGuard:
    Defending Graph Neural Networks against Adversarial Attacks", NeurIPS 2020).

    Before every layer, each edge gets the cosine similarity of its two ends' current
    representations; edges below ``threshold`` are pruned, the rest normalised over each
    target's neighbours, and every node keeps a self-loop of weight :math:`1/(1+d_v)`
    (:func:`guard_weights`). The layer is then a GCN layer on these weights,

    .. math::
        H^{(l+1)} = \sigma\bigl(\hat D^{-1/2} (A_\alpha) \hat D^{-1/2} H^{(l)} W^{(l)}\bigr).

    The paper's layer-wise memory (a learnable blend with the previous layer's weights) is
    left out. An edge weight passed to ``forward`` (e.g. by a structure attack's relaxation)
    multiplies the similarity, so the weights stay differentiable in it.

    Args:
        in_channels: node feature size.
        hidden_channels: hidden width.
        out_channels: number of classes.
        num_layers: number of GCN layers (default 2).
        dropout: dropout before every layer (default 0.5).
        threshold: :math:`P_0`, the pruning similarity (default 0.1, the paper's).

    Shapes:
        - input: ``x`` ``[N, in_channels]``, ``edge_index`` ``[2, E]`` or a sparse adjacency,
          ``edge_weight`` ``[E]`` or ``None``
        - output: logits ``[N, out_channels]``
    """

    def __init__(
        self,
        in_channels: int,
        hidden_channels: int,
        out_channels: int,
        *,
        num_layers: int = 2,
        dropout: float = 0.5,
        threshold: float = 0.1,
    ) -> None:
        super().__init__()
        if num_layers < 1:
            raise ValueError(f"num_layers must be >= 1, got {num_layers}")
        if not -1.0 <= threshold <= 1.0:
            raise ValueError(f"threshold is a cosine similarity in [-1, 1], got {threshold}")
        sizes = [in_channels] + [hidden_channels] * (num_layers - 1) + [out_channels]
        pairs = zip(sizes[:-1], sizes[1:], strict=True)
        self.convs = nn.ModuleList(GCNConv(a, b, add_self_loops=False) for a, b in pairs)
        self.dropout = dropout
        self.threshold = threshold

    def reset_parameters(self) -> None:
        for conv in self.convs:
            conv.reset_parameters()

    def forward(self, x: Tensor, edge_index: Adj, edge_weight: Tensor | None = None) -> Tensor:
        num_nodes = x.shape[0]
        edge_index, edge_weight = to_edge_index(edge_index, edge_weight, num_nodes)
        for i, conv in enumerate(self.convs):
            edges, weights = guard_weights(x, edge_index, edge_weight, num_nodes, self.threshold)
            x = F.dropout(x, self.dropout, self.training)
            x = conv(x, edges, weights)
            if i < len(self.convs) - 1:
                x = F.relu(x)
        return x

    def __repr__(self) -> str:
        sizes = [self.convs[0].in_channels] + [c.out_channels for c in self.convs]
        return f"{type(self).__name__}({sizes}, threshold={self.threshold})"
