r"""SpikeGCL: self-supervised spiking graph contrastive learning with a linear probe.

Source: J. Li, H. Zhang, R. Wu, Z. Zhu, B. Wang, C. Meng, Z. Zheng, L. Chen, "A Graph is Worth
1-bit Spikes: When Graph Contrastive Learning Meets Spiking Neural Networks", ICLR 2024
(arXiv:2305.19306); settings as in SGNNBench (arXiv:2509.21342, ``configs/static/spikegcl.yaml``).
Written from the paper on spikegraph's synapse core; the public code was read for details only.
"""

from __future__ import annotations

import math
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import Tensor, nn
from torch_geometric.data import Data

from spikegraph.monitor import FiringMonitor
from spikegraph.neurons import LIF
from spikegraph.neurons.surrogate import get_surrogate
from spikegraph.nn import SpikingASConv
from spikegraph.synapse import ScalingShape, SynapticScaling, TargetRate
from spikegraph.typing import Adj
from spikegraph.utils.checks import check_finite

__all__ = ["SpikeGCL", "TrainResult", "linear_probe", "train_spikegcl"]


@dataclass
class TrainResult:
    """What a zoo training function returns; unpacks as ``val_acc, test_acc``.

    Attributes:
        val_acc: validation accuracy of the kept model (fraction).
        test_acc: test accuracy of the kept model (fraction).
        firing_rate: mean firing rate of the spiking layers in one eval pass.
        epoch_s: mean wall time of one training epoch in seconds (SpikeGCL: pretraining
            only, the probes excluded; SpikeGT: ``train_run``'s epoch, evaluation included).
        best_epoch: the kept epoch.
        epochs_run: epochs trained before the stop.
        energy_uj: estimated energy of that eval pass in µJ (45 nm operation costs).
    """

    val_acc: float
    test_acc: float
    firing_rate: float
    epoch_s: float
    best_epoch: int
    epochs_run: int
    energy_uj: float = float("nan")

    def __iter__(self) -> Iterator[float]:
        return iter((self.val_acc, self.test_acc))


def byte_dropout(x: Tensor, p: float, training: bool) -> Tensor:
    r"""Dropout with masks drawn as random bytes: an entry is dropped with probability
    :math:`k/256`, :math:`k = \operatorname{round}(256 p)`, and the rest are scaled by
    :math:`256/(256-k)` (unbiased). Drawing bytes costs a fraction of ``F.dropout``'s
    Bernoulli draws on CPU, which dominate a small spiking model's epoch."""
    if not training or p == 0.0:
        return x
    if not 0.0 <= p < 1.0:
        raise ValueError(f"dropout must lie in [0, 1), got {p}")
    k = round(256 * p)
    if k == 0:
        return x
    draw = torch.empty(x.shape, dtype=torch.uint8, device=x.device).random_(0, 256)
    return x.masked_fill(draw < k, 0.0).mul_(256.0 / (256 - k))


@contextmanager
def frozen_slow_state(model: nn.Module) -> Iterator[None]:
    """Within the block, the model's experience buffers and rate gains are read but not
    updated (their modules in eval mode); everything else keeps its mode."""
    slow = [m for m in model.modules() if isinstance(m, SynapticScaling | TargetRate)]
    modes = [m.training for m in slow]
    for m in slow:
        m.eval()
    try:
        yield
    finally:
        for m, mode in zip(slow, modes, strict=True):
            m.train(mode)


class SpikeGCL(nn.Module):
    r"""Spiking graph contrastive encoder (Li et al., ICLR 2024).

    The :math:`C` input features are split into :math:`T` groups of
    :math:`G = \lceil C / T \rceil` columns (zero-padded), and group :math:`t` is the input of
    time step :math:`t`: a graph feature of :math:`C` channels becomes a spike train of
    :math:`T` steps of ``hidden`` 1-bit channels. Step :math:`t` encodes

    .. math::
        H_t = \operatorname{ELU}\bigl(\hat A\, (\mathrm{BN}(X)_{[:, g_t]} P_t + c_t)\, W_1 + b_1\bigr),
        \qquad S_t = \Theta\bigl(\hat A\, \mathrm{BN}(H_t)\, W_2 + b_2 - V_{th}\bigr),

    with one projection :math:`P_t` per group (the paper's per-group first layer, here factored
    as :math:`P_t W_1` so that one :class:`~spikegraph.nn.SpikingASConv` aggregates every step
    at once), a second graph layer shared by all steps, and LIF neurons of leak ``decay``
    (``0``, the default, is SGNNBench's :math:`\tau = 1`: :math:`v_t = I_t`). Both graph layers
    are :class:`~spikegraph.nn.SpikingASConv` (``scaling=None`` by default, as in the paper).

    **Objective.** A negative view shuffles the feature columns and drops each edge with
    probability ``dropedge``; a linear decoder scores every node per step,
    :math:`z_t = \mathbf 1^\top W_d s_t`, and the margin ranking loss asks the true view to
    score above the corrupted one at every step,

    .. math::
        \mathcal L = \sum_{t=1}^{T} \frac{1}{N} \sum_{i=1}^{N}
            \max\bigl(0,\ m - (z_{t,i} - \tilde z_{t,i})\bigr).

    The negative view reads but does not update the experience and rate gains. After
    pretraining, the embedding of a node is its spike train ``[T * hidden]`` bits
    (:meth:`embed`), classified by a linear probe (:func:`linear_probe`).

    Args:
        in_channels: node feature size :math:`C` (>= ``T`` so that every step has a feature).
        hidden_channels: spiking channels per step (default 64, SGNNBench's).
        T: time steps = feature groups (default 20, SGNNBench's).
        dropout: dropout on the input features and on the hidden currents (default 0.4).
        dropedge: edge drop probability of the negative view (default 0.4).
        batch_norm: batch norm on the input features and before the spiking layer.
        threshold: firing threshold :math:`V_{th}` (default 0.01, SGNNBench's).
        decay: membrane leak of the LIF neurons (default 0: memoryless, SGNNBench's tau = 1).
        surrogate: surrogate gradient name (default ``"sigmoid"``, the paper's).
        surrogate_alpha: its sharpness :math:`\alpha` (default 2, SGNNBench's).
        margin: margin :math:`m` of the ranking loss (default 1.0).
        scaling: synaptic scaling shape of both graph layers, or ``None`` (default: off).
        target_rate: expected firing rate of the spiking layer, or ``None`` (default: free).

    Shapes:
        - input: ``x`` ``[N, C]``, ``edge_index`` ``[2, E]``
        - output of :meth:`forward`: scores of the two views, two ``[T, N]`` tensors
        - output of :meth:`encode`: spikes ``[T, N, hidden]``; of :meth:`embed`:
          ``[N, T * hidden]``
    """

    def __init__(
        self,
        in_channels: int,
        hidden_channels: int = 64,
        *,
        T: int = 20,
        dropout: float = 0.4,
        dropedge: float = 0.4,
        batch_norm: bool = True,
        threshold: float = 0.01,
        decay: float = 0.0,
        surrogate: str = "sigmoid",
        surrogate_alpha: float = 2.0,
        margin: float = 1.0,
        scaling: str | ScalingShape | None = None,
        target_rate: float | None = None,
    ) -> None:
        super().__init__()
        if T < 1:
            raise ValueError(f"T must be >= 1, got {T}")
        if in_channels < T:
            raise ValueError(f"in_channels ({in_channels}) must be >= T ({T}): one group per step")
        if not 0.0 <= dropedge < 1.0:
            raise ValueError(f"dropedge must lie in [0, 1), got {dropedge}")
        self.in_channels, self.hidden_channels, self.T = in_channels, hidden_channels, T
        self.group = math.ceil(in_channels / T)
        self.dropout, self.dropedge, self.margin = dropout, dropedge, margin
        self.input_norm = nn.BatchNorm1d(in_channels) if batch_norm else None
        self._nonzero_cache: tuple | None = None
        self.group_weight = nn.Parameter(torch.empty(T, self.group, hidden_channels))
        self.group_bias = nn.Parameter(torch.empty(T, 1, hidden_channels))
        self.conv1 = SpikingASConv(hidden_channels, hidden_channels, scaling=scaling, neuron=None)
        self.hidden_norm = nn.BatchNorm1d(hidden_channels) if batch_norm else None
        self.conv2 = SpikingASConv(
            hidden_channels,
            hidden_channels,
            scaling=scaling,
            neuron=LIF(decay, threshold, "soft", get_surrogate(surrogate, alpha=surrogate_alpha)),
            target_rate=target_rate,
        )
        self.decoder = nn.Linear(hidden_channels, hidden_channels, bias=False)
        self.reset_parameters()

    @property
    def convs(self) -> nn.ModuleList:
        """The two graph layers (for code that walks ``model.convs``)."""
        return nn.ModuleList([self.conv1, self.conv2])

    def reset_parameters(self) -> None:
        bound = math.sqrt(6.0 / (self.group + self.hidden_channels))  # Glorot per group
        nn.init.uniform_(self.group_weight, -bound, bound)
        nn.init.zeros_(self.group_bias)
        for module in (self.input_norm, self.hidden_norm, self.conv1, self.conv2, self.decoder):
            if module is not None and hasattr(module, "reset_parameters"):
                module.reset_parameters()

    def _hidden_norm(self, h: Tensor) -> Tensor:
        """Batch norm shared by all steps, with each step's own batch statistics in training
        (the layer is applied step by step in the paper); running statistics averaged over the
        steps, used by every step in eval mode."""
        bn = self.hidden_norm
        if bn is None:
            return h
        if self.training:
            mean = h.mean(1, keepdim=True)  # [T, 1, C]; two plain sums beat var_mean on CPU
            var = ((h * h).mean(1, keepdim=True) - mean * mean).clamp_min(0.0)
            with torch.no_grad():
                n, m = h.shape[1], bn.momentum
                bn.running_mean.mul_(1 - m).add_(m * mean.mean((0, 1)))
                bn.running_var.mul_(1 - m).add_(m * var.mean((0, 1)) * n / max(n - 1, 1))
                bn.num_batches_tracked.add_(1)
        else:
            mean, var = bn.running_mean, bn.running_var
        scale = bn.weight * torch.rsqrt(var + bn.eps)
        return h * scale + (bn.bias - mean * scale)

    def encode(
        self,
        x: Tensor,
        edge_index: Adj,
        edge_weight: Tensor | None = None,
        column_perm: Tensor | None = None,
    ) -> Tensor:
        """Spikes ``[T, N, hidden]`` of one view (module docstring); ``column_perm`` encodes
        ``x[:, column_perm]`` instead of ``x``."""
        check_finite(x, "x")
        if x.dim() != 2 or x.shape[1] != self.in_channels:
            raise ValueError(
                f"x must be node features [N, {self.in_channels}], got shape {tuple(x.shape)}"
            )
        h = self.project_groups(x, column_perm)
        h = F.elu(self.conv1(h, edge_index, edge_weight))
        h = byte_dropout(h, self.dropout, self.training)
        h = self._hidden_norm(h)
        return self.conv2(h, edge_index, edge_weight)

    def project_groups(self, x: Tensor, column_perm: Tensor | None = None) -> Tensor:
        r"""The per-group projections ``[T, N, hidden]``,
        :math:`\mathrm{BN}(\mathrm{dropout}(X))_{[:, g_t]} P_t + c_t`, computed from the
        nonzero features only: dropout and the batch statistics act on the nonzeros, and the
        normalisation is folded into the weights, so a bag-of-words graph (Cora: 1.3 % of
        ``x`` nonzero) costs :math:`O(\mathrm{nnz} \cdot \text{hidden})`, not
        :math:`O(NC \cdot \text{hidden})`. Same values and gradients as the dense form."""
        n, c = x.shape
        row, col, val = self._nonzeros(x)
        if column_perm is not None:  # x[:, perm]: the entry (i, perm[k]) moves to column k
            inverse = torch.empty_like(column_perm)
            inverse[column_perm] = torch.arange(c, device=x.device)
            col = inverse[col]
        val = byte_dropout(val, self.dropout, self.training)
        scale, shift = self._input_norm_affine(col, val, n)
        weight = self.group_weight.reshape(-1, self.hidden_channels)
        messages = (val * scale[col]).unsqueeze(-1) * weight[col]  # [nnz, hidden]
        rows = torch.div(col, self.group, rounding_mode="floor") * n + row
        out = messages.new_zeros(self.T * n, self.hidden_channels).index_add_(0, rows, messages)
        shift = F.pad(shift, (0, self.T * self.group - c)).view(self.T, self.group, 1)
        const = (shift * self.group_weight).sum(1, keepdim=True) + self.group_bias  # [T, 1, H]
        return out.view(self.T, n, self.hidden_channels) + const

    def _nonzeros(self, x: Tensor) -> tuple[Tensor, Tensor, Tensor]:
        """``(row, col, value)`` of the nonzero entries of ``x``, cached for the same tensor."""
        key = (x.data_ptr(), tuple(x.shape), x._version, x.device)
        if self._nonzero_cache is None or self._nonzero_cache[0] != key:
            row, col = x.nonzero(as_tuple=True)
            self._nonzero_cache = (key, (row, col, x[row, col]))
        return self._nonzero_cache[1]

    def _input_norm_affine(self, col: Tensor, val: Tensor, n: int) -> tuple[Tensor, Tensor]:
        """Batch norm of the input columns as ``x * scale + shift`` (per column), from the
        nonzeros' batch statistics in training (running statistics updated as
        ``nn.BatchNorm1d`` does) or the running statistics in eval mode."""
        bn = self.input_norm
        if bn is None:
            ones = val.new_ones(self.in_channels)
            return ones, torch.zeros_like(ones)
        if self.training:
            zeros = val.new_zeros(self.in_channels)
            mean = zeros.index_add(0, col, val) / n
            var = (zeros.index_add(0, col, val * val) / n - mean * mean).clamp_min(0.0)
            with torch.no_grad():
                m = bn.momentum
                bn.running_mean.mul_(1 - m).add_(m * mean.detach())
                bn.running_var.mul_(1 - m).add_(m * var.detach() * n / max(n - 1, 1))
                bn.num_batches_tracked.add_(1)
        else:
            mean, var = bn.running_mean, bn.running_var
        scale = bn.weight / torch.sqrt(var + bn.eps)
        return scale, bn.bias - mean * scale

    def decode(self, spikes: Tensor) -> Tensor:
        """Scores ``[T, N]``: :math:`z_t = \\mathbf 1^\\top W_d s_t` of every node and step."""
        return spikes @ self.decoder.weight.sum(0)  # = decoder(spikes).sum(-1), C times cheaper

    def corrupt(self, x: Tensor, edge_index: Adj) -> tuple[Tensor, Tensor]:
        """The negative view: a permutation of the feature columns ``[C]``, and per-edge
        weights ``[E]`` that are 0 for dropped edges (the layers' normalisation then leaves
        them out of the degrees)."""
        if not isinstance(edge_index, Tensor) or edge_index.layout != torch.strided:
            raise TypeError("SpikeGCL's negative view needs edge_index as a [2, E] tensor")
        perm = torch.randperm(x.shape[1], device=x.device)
        keep = torch.rand(edge_index.shape[1], device=x.device) >= self.dropedge
        return perm, keep.to(x.dtype)

    def forward(self, x: Tensor, edge_index: Adj) -> tuple[Tensor, Tensor]:
        """Scores ``([T, N], [T, N])`` of the true and the corrupted view."""
        positive = self.decode(self.encode(x, edge_index))
        perm, weight = self.corrupt(x, edge_index)
        with frozen_slow_state(self):
            negative = self.decode(self.encode(x, edge_index, weight, column_perm=perm))
        return positive, negative

    def loss(self, positive: Tensor, negative: Tensor) -> Tensor:
        """The margin ranking loss, mean over nodes, summed over steps."""
        per_step = F.relu(self.margin - (positive - negative)).mean(-1)
        return per_step.sum()

    @torch.no_grad()
    def embed(self, x: Tensor, edge_index: Adj) -> Tensor:
        """Eval-mode node embeddings: the spike trains as ``[N, T * hidden]`` bits."""
        was_training = self.training
        self.eval()
        try:
            spikes = self.encode(x, edge_index)
        finally:
            self.train(was_training)
        return spikes.transpose(0, 1).reshape(x.shape[0], -1)

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}({self.in_channels}, {self.hidden_channels}, T={self.T}, "
            f"group={self.group}, conv1={self.conv1!r}, conv2={self.conv2!r})"
        )


def linear_probe(
    embeddings: Tensor,
    data: Data,
    *,
    lr: float = 0.01,
    weight_decay: float = 5e-4,
    epochs: int = 100,
) -> tuple[float, float]:
    """Train a logistic-regression probe on frozen embeddings (AdamW, full batch) and return
    ``(val_acc, test_acc)`` at the epoch of best validation accuracy (SGNNBench's protocol).

    Args:
        embeddings: ``[N, D]`` node embeddings (no gradient flows into them).
        data: a graph with ``y``, ``train_mask``, ``val_mask`` and ``test_mask``.
        lr: the probe's learning rate (default 0.01).
        weight_decay: AdamW weight decay (default 5e-4).
        epochs: probe epochs (default 100).
    """
    z = embeddings.detach()
    classes = int(data.y.max()) + 1
    probe = nn.Linear(z.shape[1], classes).to(z.device)
    opt = torch.optim.AdamW(probe.parameters(), lr=lr, weight_decay=weight_decay)
    z_train, y_train = z[data.train_mask], data.y[data.train_mask]
    best_val, best_test = -1.0, 0.0
    for _ in range(epochs):
        opt.zero_grad()
        F.cross_entropy(probe(z_train), y_train).backward()
        opt.step()
        with torch.no_grad():
            pred = probe(z).argmax(-1)
            val = float((pred[data.val_mask] == data.y[data.val_mask]).float().mean())
            test = float((pred[data.test_mask] == data.y[data.test_mask]).float().mean())
        if val > best_val:
            best_val, best_test = val, test
    return best_val, best_test


def firing_stats(model: nn.Module, run: object) -> tuple[float, float]:
    """Mean firing rate of ``model``'s LIF layers and the estimated energy in µJ
    (:class:`~spikegraph.monitor.FiringMonitor`) of ``run()``, a no-grad eval call."""
    with FiringMonitor(model) as monitor:
        run()
    summary = monitor.summary()
    return float(summary["firing_rate_mean"]), float(summary["energy_pj"]) / 1e6


def train_spikegcl(
    data: Data,
    *,
    seed: int = 0,
    hidden: int = 64,
    T: int = 20,
    lr: float = 1e-4,
    weight_decay: float = 0.01,
    epochs: int = 200,
    eval_every: int = 20,
    patience: int = 5,
    probe_lr: float = 0.01,
    probe_weight_decay: float = 5e-4,
    probe_epochs: int = 100,
    **model_kwargs: object,
) -> TrainResult:
    """Pretrain a :class:`SpikeGCL` on ``data`` without labels, probe it linearly every
    ``eval_every`` epochs (and after the first), and keep the probe of best validation
    accuracy; stop after ``patience`` probes without a better one. Defaults: SGNNBench's.

    Args:
        data: a graph with ``x``, ``edge_index``, ``y`` and train/val/test masks.
        seed: seeds the parameters, dropout and corruption.
        hidden, T: the encoder's width and steps.
        lr, weight_decay: Adam settings of the pretraining.
        epochs, eval_every, patience: pretraining length, probe period, early stop.
        probe_lr, probe_weight_decay, probe_epochs: :func:`linear_probe` settings.
        **model_kwargs: passed to :class:`SpikeGCL` (``scaling``, ``target_rate``, ...).

    Returns:
        :class:`TrainResult`; ``val_acc, test_acc = train_spikegcl(data)`` works.
    """
    if eval_every < 1:
        raise ValueError(f"eval_every must be >= 1, got {eval_every}")
    torch.manual_seed(seed)
    model = SpikeGCL(data.num_features, hidden, T=T, **model_kwargs)
    opt = torch.optim.Adam(model.parameters(), lr=lr, weight_decay=weight_decay)
    best, best_state = (-1.0, 0.0, 0), None
    misses, train_time, epoch = 0, 0.0, 0
    for epoch in range(1, epochs + 1):
        start = time.perf_counter()
        model.train()
        opt.zero_grad()
        model.loss(*model(data.x, data.edge_index)).backward()
        opt.step()
        train_time += time.perf_counter() - start
        if epoch != 1 and epoch % eval_every:
            continue
        z = model.embed(data.x, data.edge_index)
        val, test = linear_probe(
            z, data, lr=probe_lr, weight_decay=probe_weight_decay, epochs=probe_epochs
        )
        if val > best[0]:
            best, misses = (val, test, epoch), 0
            best_state = {k: v.clone() for k, v in model.state_dict().items()}
        else:
            misses += 1
            if misses > patience:
                break
    model.load_state_dict(best_state)
    model.eval()
    with torch.no_grad():
        rate, energy = firing_stats(model, lambda: model.encode(data.x, data.edge_index))
    return TrainResult(best[0], best[1], rate, train_time / epoch, best[2], epoch, energy)
