r"""Data-parallel training across processes with ``torchrun``, with the experience kept in sync.

Every process (*rank*) holds the whole model and trains on its own share of each batch;
PyTorch's :class:`~torch.nn.parallel.DistributedDataParallel` (DDP) averages the gradients.
The long-term experience of a :class:`~spikegraph.synapse.SynapticScaling` is no parameter but a
buffer that every rank updates at the synapses its own batch touched. DDP would broadcast
rank 0's buffers at every forward call (``broadcast_buffers=True``, its default) and thereby
throw away the other ranks' updates, so :func:`wrap_model` turns that off and puts an
:class:`ExperienceSync` into every scaling module instead.

**Semantics of one step.** Rank :math:`r` measures, for each synapse :math:`k` of its batch,
the mean intensity :math:`\bar x_k^{(r)}` over :math:`n_r` values (the :math:`T` steps of a graph
layer; :math:`T \times B_r` for a dense layer with batch :math:`B_r`) and computes the entry's new
value :math:`e_k^{(r)} = (1 - m)\, e_k + m\, \bar x_k^{(r)}` (for a relative shape, an entry never
seen before first takes the rank's mean drive :math:`\bar a_k^{(r)}` in place of :math:`e_k`).
Every rank then writes the count-weighted mean over the ranks whose batch held :math:`k`,

.. math::
    e_k \leftarrow \frac{\sum_{r \ni k} n_r\, e_k^{(r)}}{\sum_{r \ni k} n_r}
    = (1 - m)\, e_k + m\, \frac{\sum_{r \ni k} n_r\, \bar x_k^{(r)}}{\sum_{r \ni k} n_r}
    \quad \text{for every } k \text{ some rank saw}

(the update is linear in the measurement, and in the fill-in value of a new entry, so this is
one update with the ranks' combined measurement). Each synapse thus gets at most one update per
step, all ranks apply the same one, and the buffers are identical on all ranks after every step
(bit for bit: every rank combines the same gathered numbers in the same order). For a dense
layer this is exactly the update of one process on the ranks' batches put together (the
weighted mean of the ranks' means is the mean of all values). A graph layer measures a synapse
that two ranks share on two different subgraphs; it is exactly one process's update when those
measurements agree, i.e. when each rank's subgraph holds the presynaptic activity of the
synapses it updates completely.

Typical use, one process per rank (``torchrun --nproc-per-node=2 script.py``)::

    ctx = init_distributed()               # reads torchrun's environment, gloo on CPU
    ddp = wrap_model(model)                # DDP without buffer broadcasts + ExperienceSync
    ...                                    # train ddp on this rank's share of each batch
    assert not out_of_sync(model)          # every parameter and buffer equal on all ranks
"""

from __future__ import annotations

import hashlib
import inspect
import os
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import torch
import torch.distributed as dist
from torch import Tensor, nn
from torch.nn.parallel import DistributedDataParallel

from spikegraph.synapse import SynapticScaling, TargetRate

__all__ = [
    "DistContext",
    "ExperienceSync",
    "init_distributed",
    "wrap_model",
    "sync_experience",
    "unsync_experience",
    "broadcast_object",
    "out_of_sync",
    "main_process_first",
]

#: DDP's switch for its buffer broadcast at every forward call (newer torch, e.g. 2.13, deprecates
#: ``broadcast_buffers`` for ``forward_sync_buffers``).
_FORWARD_BUFFER_SYNC_ARG = (
    "forward_sync_buffers"
    if "forward_sync_buffers" in inspect.signature(DistributedDataParallel.__init__).parameters
    else "broadcast_buffers"
)

#: The variables torchrun (and any launcher of ``init_method="env://"``) sets for every rank.
TORCHRUN_ENV = ("RANK", "WORLD_SIZE", "MASTER_ADDR", "MASTER_PORT")


@dataclass(frozen=True)
class DistContext:
    """Where this process stands: ``rank`` of ``world_size``; one process is rank 0 of 1."""

    rank: int = 0
    world_size: int = 1
    local_rank: int = 0

    @property
    def is_main(self) -> bool:
        """Whether this is rank 0, the process that evaluates and writes reports and checkpoints."""
        return self.rank == 0

    @property
    def distributed(self) -> bool:
        """Whether there is more than one rank (then the model needs DDP and the experience
        :class:`ExperienceSync`)."""
        return self.world_size > 1

    def barrier(self) -> None:
        """Wait for all ranks (nothing to wait for in one process)."""
        if self.distributed:
            dist.barrier()


def init_distributed(backend: str = "gloo", timeout: float | None = None) -> DistContext:
    """Join the process group that ``torchrun`` set up through the environment.

    Args:
        backend: ``"gloo"`` (CPU) or ``"nccl"`` (GPUs).
        timeout: seconds a collective waits for the other ranks (``None``: torch's default,
            30 min).

    Raises:
        RuntimeError: when the environment lacks torchrun's variables (the script was started
            with plain ``python``) or torch was built without ``torch.distributed``.
    """
    missing = [name for name in TORCHRUN_ENV if name not in os.environ]
    if missing:
        raise RuntimeError(
            f"distributed mode needs the environment that torchrun sets for every process "
            f"({', '.join(missing)} not set); launch it with torchrun, e.g. "
            "`torchrun --standalone --nproc-per-node=2 examples/ogbn_arxiv.py --minibatch "
            "--distributed ...`, or drop --distributed to train in one process"
        )
    if not dist.is_available():
        raise RuntimeError("this build of torch has no torch.distributed")
    restarts = int(os.environ.get("TORCHELASTIC_MAX_RESTARTS", "0") or 0)
    shared_store = os.environ.get("TORCHELASTIC_USE_AGENT_STORE") == "True"
    if restarts > 0 and shared_store and os.environ.get("RANK") == "0":
        warnings.warn(
            "torchrun --max-restarts with the rendezvous store shared with the workers (torch's "
            "default) can hand a restarted group the addresses of the dead one, and its process "
            "group then fails to connect (pytorch/pytorch#135712); start torchrun with "
            "TORCH_DISABLE_SHARE_RDZV_TCP_STORE=1 in its environment",
            RuntimeWarning,
            stacklevel=2,
        )
    if not dist.is_initialized():
        kwargs = {} if timeout is None else {"timeout": timedelta(seconds=timeout)}
        dist.init_process_group(backend=backend, **kwargs)
    return DistContext(
        rank=dist.get_rank(),
        world_size=dist.get_world_size(),
        local_rank=int(os.environ.get("LOCAL_RANK", 0)),
    )


class ExperienceSync:
    """Combines the experience updates of all ranks (the module docstring gives the semantics).

    Set as :attr:`SynapticScaling.update_reducer <spikegraph.synapse.SynapticScaling>` (see
    :func:`sync_experience`); called once per training forward call of each scaling module, on
    every rank in the same order, like any collective. With global synapse ids (mini-batches)
    it gathers the ranks' ``(id, mean)`` pairs (two ``all_gather`` calls, no tensor of the full
    buffer's size); without ids (every rank holds all synapses) it is one ``all_reduce``. The
    combination runs in float64, so one rank's value passes through unchanged.

    Args:
        group: the process group (default: the global one).
    """

    def __init__(self, group: torch.distributed.ProcessGroup | None = None) -> None:
        self.group = group

    def __call__(
        self, mean: Tensor, index: Tensor | None, count: int
    ) -> tuple[Tensor, Tensor | None]:
        world = dist.get_world_size(self.group)
        if world == 1:
            return mean, index
        if index is None:
            packed = torch.cat(
                [mean.double() * count, mean.new_tensor([count], dtype=torch.double)]
            )
            dist.all_reduce(packed, group=self.group)
            return (packed[:-1] / packed[-1]).to(mean.dtype), None
        device = mean.device  # nccl gathers device tensors
        header = torch.tensor([index.numel(), count], dtype=torch.int64, device=device)
        headers = [torch.empty_like(header) for _ in range(world)]
        dist.all_gather(headers, header, group=self.group)
        sizes = [int(h[0]) for h in headers]
        local = torch.zeros(2, max(sizes), dtype=torch.int64, device=device)
        local[0, : index.numel()] = index
        local[1, : index.numel()] = mean.double().view(torch.int64)  # a bit-exact carrier
        gathered = [torch.empty_like(local) for _ in range(world)]
        dist.all_gather(gathered, local, group=self.group)
        ids, values, weights = [], [], []
        for rank_data, size, rank_header in zip(gathered, sizes, headers, strict=True):
            ids.append(rank_data[0, :size])
            values.append(rank_data[1, :size].view(torch.double))
            weights.append(rank_data.new_full((size,), float(rank_header[1]), dtype=torch.double))
        weight = torch.cat(weights)
        union, inverse = torch.unique(torch.cat(ids), return_inverse=True)
        total = weight.new_zeros(union.numel()).index_add_(0, inverse, torch.cat(values) * weight)
        norm = weight.new_zeros(union.numel()).index_add_(0, inverse, weight)
        return (total / norm).to(mean.dtype), union

    def __repr__(self) -> str:
        return f"{type(self).__name__}(group={'default' if self.group is None else self.group})"


def _scalings(model: nn.Module) -> list[SynapticScaling | TargetRate]:
    return [m for m in model.modules() if isinstance(m, SynapticScaling | TargetRate)]


def sync_experience(
    model: nn.Module, group: torch.distributed.ProcessGroup | None = None
) -> list[SynapticScaling | TargetRate]:
    """Put one :class:`ExperienceSync` into every scaling module and every expected-rate
    controller (:class:`~spikegraph.synapse.TargetRate`) of ``model``; returns them. A
    controller then steps its gain from the rate of all ranks' spikes together."""
    scalings = _scalings(model)
    reducer = ExperienceSync(group)
    for scaling in scalings:
        scaling.update_reducer = reducer
    return scalings


def unsync_experience(model: nn.Module) -> None:
    """Take the reducers out again (back to local, single-process updates)."""
    for scaling in _scalings(model):
        scaling.update_reducer = None


def wrap_model(
    model: nn.Module, group: torch.distributed.ProcessGroup | None = None, **ddp_kwargs: Any
) -> DistributedDataParallel:
    """``model`` in DDP with its experience in sync across ranks.

    Parameters *and* buffers start from rank 0's (DDP broadcasts only the parameters when buffer
    broadcasts are off), per-forward buffer broadcasts are off (they would discard the other
    ranks' experience updates) and every scaling module and expected-rate controller gets an
    :class:`ExperienceSync`.
    ``ddp_kwargs`` go to :class:`~torch.nn.parallel.DistributedDataParallel`.
    """
    if ddp_kwargs.get("broadcast_buffers") or ddp_kwargs.get("forward_sync_buffers"):
        raise ValueError(
            "buffer broadcasts at every forward call would overwrite every rank's experience "
            "with rank 0's; the experience is kept in sync by ExperienceSync instead"
        )
    ddp_kwargs[_FORWARD_BUFFER_SYNC_ARG] = False
    with torch.no_grad():
        for buffer in model.buffers():
            dist.broadcast(buffer, src=0, group=group)
    sync_experience(model, group)
    return DistributedDataParallel(model, process_group=group, **ddp_kwargs)


def broadcast_object(
    obj: Any, src: int = 0, group: torch.distributed.ProcessGroup | None = None
) -> Any:
    """``obj`` of rank ``src`` on every rank (pickled; tensors travel on CPU)."""
    if not (dist.is_available() and dist.is_initialized()):
        return obj
    box = [obj if dist.get_rank() == src else None]
    dist.broadcast_object_list(box, src=src, group=group)
    return box[0]


def _digest(tensor: Tensor) -> str:
    data = tensor.detach().cpu().contiguous().reshape(-1)
    return hashlib.sha256(data.view(torch.uint8).numpy().tobytes()).hexdigest()


def out_of_sync(model: nn.Module, group: torch.distributed.ProcessGroup | None = None) -> list[str]:
    """Names of the parameters and buffers that are not bit-identical on all ranks.

    Compares SHA-256 digests of every entry of ``model.state_dict()``, so it costs one pass
    over the model's memory and one small ``all_gather_object``; an empty list on every rank
    means that any rank's state can stand for all (e.g. in a checkpoint written by rank 0).
    """
    if not (dist.is_available() and dist.is_initialized()):
        return []
    mine = {name: _digest(value) for name, value in model.state_dict().items()}
    every: list[Any] = [None] * dist.get_world_size(group)
    dist.all_gather_object(every, mine, group=group)
    names = set().union(*every)
    return sorted(n for n in names if len({d.get(n) for d in every}) > 1)


@contextmanager
def main_process_first(ctx: DistContext) -> Iterator[None]:
    """The first process of every machine (``local_rank`` 0) runs the block first, the others
    after it: e.g. loading a dataset that fills a per-machine cache on first use."""
    first = ctx.local_rank == 0
    if not first:
        ctx.barrier()
    try:
        yield
    finally:
        if first:
            ctx.barrier()
