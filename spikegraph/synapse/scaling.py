r"""Adaptive synaptic scaling as a module: the scaled trace plus the long-term experience buffer.

Layers (graph or dense) own one :class:`SynapticScaling`, hand it the presynaptic drive of their
synapses and multiply their weights by the scale it returns. It keeps two time scales apart
(DESIGN §3.4): the short-term trace lives within one forward call; the long-term **experience**
:math:`e_k` is a persistent buffer (saved in ``state_dict``) updated once per training forward call,

.. math::
    e_k \leftarrow (1 - m)\, e_k + m\, \overline{x_k},

where :math:`\overline{x_k}` is synapse :math:`k`'s intensity averaged over the time steps and the
batch of that call and :math:`m` is ``experience_momentum``. It is frozen in eval mode. The
experience enters the forward pass as the prior of the trace (:func:`~spikegraph.synapse.trace_init`):
the first step of every sequence is scaled by :math:`f(e_k)`, and later steps by a trace that
starts from :math:`e_k` with weight ``prior_weight``. Through the scale it also enters the weight
gradient, :math:`\partial L / \partial w_k \propto f(x_k)`.

For a relative shape (:class:`~spikegraph.synapse.Relative`) the experience is also the reference
the intensity is read against. A fresh entry is then unknown (``nan``) until the synapse is first
seen, and takes the mean drive of that call: a new synapse starts "as usual", at scale
:math:`f(1) = 1`, instead of at an arbitrary absolute value.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import torch
from torch import Tensor, nn

from spikegraph.synapse.shapes import ScalingShape, get_scaling
from spikegraph.synapse.trace import scaled_trace
from spikegraph.utils.checks import compiling

__all__ = ["SynapticScaling"]


class SynapticScaling(nn.Module):
    """Per-synapse adaptive scale factors with a long-term experience buffer.

    Args:
        shape: a scaling shape or its name (``None`` turns scaling off: :meth:`forward` returns
            ``None`` and the experience is never touched).
        num_synapses: size of the experience buffer; ``None`` sizes it on the first call.
        decay: trace decay :math:`\\lambda_c` in ``(0, 1]``; ``1.0`` is the running count.
        prior_weight: pseudo-count of the experience in the trace (``0`` ignores it after step 1).
        experience_momentum: :math:`m` in ``[0, 1]``; ``0`` freezes the experience.
        experience_init: value of a fresh experience entry (an intensity in ``[0, 1]``); a
            relative shape ignores it and starts every entry from its first drive.
        trace_grad: let gradients flow through the trace into the drive (off by default:
            the scale is then a constant for autograd, as in DESIGN §3.3).
        consolidation: strength :math:`\\lambda \\ge 0` of long-term consolidation
            (:mod:`spikegraph.synapse.consolidation`); ``0`` (default) turns it off and keeps no
            ``memory`` buffer.

    Shapes:
        - drive: ``[T, *batch, K]``, values in ``[0, 1]``
        - output: the scale, same shape as ``drive`` (or ``None`` without a shape)
    """

    experience: Tensor
    #: Optional ``(values, index, count) -> (values, index)`` through which every training call's
    #: write to the experience passes: ``values`` ``[K]`` are the entries' new values (after this
    #: call's fill-in of unseen entries and its update), ``index`` names them (``None``: all) and
    #: ``count`` is the number of intensities per synapse behind the update. A data-parallel run
    #: sets :class:`spikegraph.distributed.ExperienceSync` here to combine all ranks' writes.
    update_reducer: Callable[..., tuple[Tensor, Tensor | None]] | None = None

    def __init__(
        self,
        shape: str | ScalingShape | None = "tent",
        num_synapses: int | None = None,
        *,
        decay: float = 1.0,
        prior_weight: float = 1.0,
        experience_momentum: float = 0.1,
        experience_init: float = 0.0,
        trace_grad: bool = False,
        consolidation: float = 0.0,
    ) -> None:
        super().__init__()
        _check_range("decay", decay, 0.0, 1.0, low_open=True)
        _check_range("experience_momentum", experience_momentum, 0.0, 1.0)
        _check_range("experience_init", experience_init, 0.0, 1.0)
        if prior_weight < 0:
            raise ValueError(f"prior_weight must be >= 0, got {prior_weight}")
        if not consolidation >= 0:
            raise ValueError(f"consolidation must be >= 0, got {consolidation}")
        if consolidation > 0 and shape is None:
            raise ValueError("consolidation reads the experience: it needs a scaling shape")
        self.consolidation = float(consolidation)
        self.shape = get_scaling(shape)
        self.decay = decay
        self.prior_weight = prior_weight
        self.experience_momentum = experience_momentum
        self.experience_init = experience_init
        self.trace_grad = trace_grad
        self.register_buffer("experience", torch.empty(0))
        if self.consolidation > 0:
            self.register_buffer("memory", torch.empty(0))
        self.reset_experience(num_synapses)

    @property
    def enabled(self) -> bool:
        return self.shape is not None

    @property
    def num_synapses(self) -> int | None:
        """Size of the experience buffer, or ``None`` while it waits for its first input."""
        return self.experience.numel() or None

    def reset_experience(self, num_synapses: int | None = None) -> None:
        """Forget all experience (and the consolidated memory); optionally resize the buffers
        (``None``: size on next call)."""
        size = 0 if num_synapses is None else int(num_synapses)
        if size < 0:
            raise ValueError(f"num_synapses must be >= 0, got {num_synapses}")
        fresh = math.nan if self.relative else self.experience_init
        self.experience = torch.full((size,), fresh, device=self.experience.device)
        if self.consolidation > 0:
            self.memory = torch.zeros(size, device=self.experience.device)

    @property
    def relative(self) -> bool:
        """Whether the shape reads intensities relative to the experience."""
        return self.shape is not None and self.shape.relative

    def forward(
        self, drive: Tensor, index: Tensor | None = None, *, shared: bool = False
    ) -> Tensor | None:
        """The scale of every synapse and step (``None`` without a shape).

        ``index`` (``[K]``, optional, unique) names the entries of the experience buffer that
        the ``K`` synapses of ``drive`` own, for mini-batches that see a subset of a larger set of
        synapses (e.g. a sampled subgraph's global edge ids); only those entries are read
        and updated. The buffer must then already have its full size.

        ``shared=True`` gives all synapses one experience entry, a reference of the whole layer
        that does not belong to any particular set of synapses (the inductive experience of a
        graph layer, :class:`~spikegraph.nn.SpikingASConv`): every synapse's trace starts from
        it and a training call moves it towards the mean intensity over all synapses, steps and
        batch entries, :math:`\\bar e \\leftarrow (1-m)\\,\\bar e + m\\,\\overline{x}`.
        """
        if self.shape is None:
            return None
        if shared:
            prior = self._shared_prior(drive)
        else:
            prior = self._prior(drive) if index is None else self._indexed_prior(drive, index)
        if self.relative:
            prior = self._fill_unknown(prior, drive, None if shared else index, shared)
        with torch.set_grad_enabled(self.trace_grad and torch.is_grad_enabled()):
            drive_in = drive if self.trace_grad else drive.detach()
            scale, intensity = scaled_trace(
                drive_in, self.shape, prior, decay=self.decay, prior_weight=self.prior_weight
            )
        if self.training and self.experience_momentum > 0:
            self._update_experience(intensity, index, shared)
        if self.shape.pooled:  # the mean-field control: one scale per step for all synapses
            scale = scale.mean(-1, keepdim=True).expand_as(scale)
        return scale

    @torch.no_grad()
    def consolidate(self) -> None:
        """Add the experience, relative to its mean over the synapses seen so far, to the
        memory (see :mod:`spikegraph.synapse.consolidation`); unseen (``nan``) and silent
        synapses add nothing."""
        if self.consolidation == 0:
            raise RuntimeError("consolidate() needs consolidation > 0")
        seen = ~self.experience.isnan()
        mean = self.experience[seen].mean() if bool(seen.any()) else 0.0
        if mean > 0:
            self.memory += self.experience.nan_to_num(0.0) / mean

    def plasticity(self, index: Tensor | None = None) -> Tensor | None:
        """:math:`\\pi_k = 1 / (1 + \\lambda M_k)` of every synapse (of ``index``), or ``None``
        while consolidation is off or nothing has been consolidated yet."""
        if self.consolidation == 0 or not self.memory.numel():
            return None
        if not compiling() and not bool(self.memory.any()):  # nothing consolidated yet
            return None
        memory = self.memory if index is None else self.memory[index]
        return 1.0 / (1.0 + self.consolidation * memory)

    def _indexed_prior(self, drive: Tensor, index: Tensor) -> Tensor:
        if self.num_synapses is None:
            raise ValueError(
                "an index into the experience needs a sized buffer: call "
                "reset_experience(num_synapses) with the size of the full set of synapses first"
            )
        if index.dim() != 1 or index.numel() != drive.shape[-1] or index.is_floating_point():
            raise ValueError(
                f"index must be a 1-D integer tensor with one entry per synapse "
                f"({drive.shape[-1]}), got {index.dtype} of shape {tuple(index.shape)}"
            )
        if index.numel() and (int(index.min()) < 0 or int(index.max()) >= self.num_synapses):
            raise ValueError(
                f"index holds values in [{int(index.min())}, {int(index.max())}] but the "
                f"experience buffer has {self.num_synapses} synapses"
            )
        return self.experience[index].to(drive.dtype)

    def _shared_prior(self, drive: Tensor) -> Tensor:
        if self.num_synapses is None:
            if not self.training:  # eval never changes state: use a fresh prior
                fresh = math.nan if self.relative else self.experience_init
                return drive.new_full((drive.shape[-1],), fresh)
            self.reset_experience(1)
        if self.num_synapses != 1:
            raise ValueError(
                f"a shared (layer-level) experience has one entry, but this buffer holds "
                f"{self.num_synapses} (one per synapse of a graph): call reset_experience() to "
                "start a layer-level experience, or name the synapses (e_id / cached=True)"
            )
        return self.experience.to(drive.dtype).expand(drive.shape[-1])

    def _prior(self, drive: Tensor) -> Tensor:
        size = drive.shape[-1]
        if self.num_synapses is None:
            if not self.training:  # eval never changes state: use a fresh prior
                fresh = math.nan if self.relative else self.experience_init
                return drive.new_full((size,), fresh)
            self.reset_experience(size)
        if self.num_synapses != size:
            raise ValueError(
                f"the experience buffer holds {self.num_synapses} synapses but the input has {size}; "
                "call reset_experience() (or reset_experience(num_synapses)) to start afresh on "
                "a new graph or layer size, or load the state saved for this one; a mini-batch of "
                "a larger graph must name its synapses' global ids (SpikingASConv: e_id)"
            )
        return self.experience.to(drive.dtype)

    @torch.no_grad()
    def _fill_unknown(
        self, prior: Tensor, drive: Tensor, index: Tensor | None, shared: bool = False
    ) -> Tensor:
        """Entries never seen (``nan``) take this call's mean drive (over everything for a
        shared entry); kept in training. (While ``torch.compile`` traces, the fill-in runs
        whether or not an entry is unknown: a test of the values would break the graph.)"""
        unknown = prior.isnan()
        if not compiling() and not bool(unknown.any()):
            return prior
        flat = drive.detach().reshape(-1, drive.shape[-1])
        first = (flat.mean() if shared else flat.mean(0)).to(prior.dtype)
        prior = torch.where(unknown, first, prior)
        if self.training and self.experience.numel():
            if shared:
                self.experience.copy_(prior[:1])
            elif index is None:
                self.experience.copy_(prior)
            else:
                self.experience[index] = prior.to(self.experience.dtype)
        return prior

    @torch.no_grad()
    def _update_experience(
        self, intensity: Tensor, index: Tensor | None = None, shared: bool = False
    ) -> None:
        flat = intensity.detach().reshape(-1, intensity.shape[-1])
        mean = flat.mean().reshape(1) if shared else flat.mean(0)
        mean = mean.to(self.experience.dtype)
        old = self.experience if index is None else self.experience[index]
        new = old.lerp(mean, self.experience_momentum)
        if self.update_reducer is not None:
            count = intensity.numel() // (1 if shared else max(intensity.shape[-1], 1))
            new, index = self.update_reducer(new, index, count)
        if index is None:
            self.experience.copy_(new)
        else:
            self.experience[index] = new

    def _load_from_state_dict(self, state_dict: dict[str, Any], prefix: str, *args: Any) -> None:
        for name in ("experience", "memory") if self.consolidation > 0 else ("experience",):
            saved, own = state_dict.get(prefix + name), getattr(self, name)
            if saved is not None and saved.shape != own.shape:
                setattr(self, name, torch.empty_like(saved, device=own.device))
        super()._load_from_state_dict(state_dict, prefix, *args)

    def extra_repr(self) -> str:
        if self.shape is None:
            return "shape=None"
        return (
            f"shape={self.shape}, decay={self.decay:g}, prior_weight={self.prior_weight:g}, "
            f"experience_momentum={self.experience_momentum:g}, num_synapses={self.num_synapses}"
            + (f", consolidation={self.consolidation:g}" if self.consolidation > 0 else "")
        )


def _check_range(name: str, value: float, lo: float, hi: float, low_open: bool = False) -> None:
    if not (lo < value <= hi if low_open else lo <= value <= hi):
        bracket = "(" if low_open else "["
        raise ValueError(f"{name} must lie in {bracket}{lo:g}, {hi:g}], got {value}")
