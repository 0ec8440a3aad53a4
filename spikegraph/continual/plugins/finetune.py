"""Plain fine-tuning: train on each task in turn, nothing protects the earlier ones."""

from __future__ import annotations

from spikegraph.continual.plugins.base import Plugin

__all__ = ["Finetune"]


class Finetune(Plugin):
    """The lower baseline: every hook is a no-op, the loss is the task's cross-entropy as is."""

    name = "finetune"
