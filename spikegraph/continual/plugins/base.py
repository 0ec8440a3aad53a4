"""The plugin interface of the continual-learning harness, and composition of plugins.

A method (fine-tuning, EWC, context gating, ...) is a :class:`Plugin`: the harness
(:func:`~spikegraph.continual.harness.run_tasks`) owns the one training loop and calls the
hooks in this order for every task ``t``::

    kw = plugin.forward_kwargs(t)            # e.g. {"gates": [...]}, passed to every forward
    plugin.before_task(t, model, data, kw)
    for each mini-batch:  loss = plugin.loss(cross_entropy, model); backward; step
    plugin.after_task(t, model, data, kw)    # e.g. measure the Fisher information
    evaluate on every task j with plugin.forward_kwargs(j)

``state_dict()`` / ``load_state_dict()`` carry whatever the plugin learnt (Fisher matrices,
anchors) into the harness's checkpoints; they also hold the plugin's settings, so that a
checkpoint of another configuration is refused.
"""

from __future__ import annotations

from typing import Any

from torch import Tensor, nn

from spikegraph.events.training import FrameSet

__all__ = ["Plugin", "Compose"]


class Plugin:
    """A continual-learning method as hooks over the harness's training loop (no-ops here)."""

    name = "plugin"

    def before_task(
        self, task_id: int, model: nn.Module, data: FrameSet, forward_kwargs: dict | None = None
    ) -> None:
        """Called before training on ``task_id``; ``forward_kwargs`` as the harness passes them."""

    def loss(self, loss: Tensor, model: nn.Module) -> Tensor:
        """The training loss of one mini-batch; by default ``loss`` itself, unchanged."""
        return loss

    def forward_kwargs(self, task_id: int) -> dict[str, Any]:
        """Extra keyword arguments of the model's forward while training or testing ``task_id``."""
        return {}

    def after_task(
        self, task_id: int, model: nn.Module, data: FrameSet, forward_kwargs: dict | None = None
    ) -> None:
        """Called after training on ``task_id``, before the evaluation and the checkpoint."""

    def config(self) -> dict[str, Any]:
        """The settings that define this plugin (saved, and checked when a checkpoint loads)."""
        return {"name": self.name}

    def state_dict(self) -> dict[str, Any]:
        return {"config": self.config()}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        if state.get("config") != self.config():
            raise ValueError(
                f"plugin state was saved for {state.get('config')}, this plugin is {self.config()}"
            )

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.config().items() if k != "name")
        return f"{type(self).__name__}({args})"


class Compose(Plugin):
    """Several plugins as one: hooks run in order, losses chain, forward kwargs merge.

    ``Compose(XdG(...), EWC(...))`` is XdG + EWC: the EWC penalty on top of context gating,
    with the Fisher information measured through each task's gates.
    """

    def __init__(self, *plugins: Plugin) -> None:
        if not plugins:
            raise ValueError("Compose needs at least one plugin")
        self.plugins = list(plugins)
        self.name = "+".join(p.name for p in plugins)

    def before_task(self, task_id, model, data, forward_kwargs=None) -> None:
        for p in self.plugins:
            p.before_task(task_id, model, data, forward_kwargs)

    def loss(self, loss: Tensor, model: nn.Module) -> Tensor:
        for p in self.plugins:
            loss = p.loss(loss, model)
        return loss

    def forward_kwargs(self, task_id: int) -> dict[str, Any]:
        merged: dict[str, Any] = {}
        for p in self.plugins:
            kw = p.forward_kwargs(task_id)
            clash = merged.keys() & kw.keys()
            if clash:
                raise ValueError(f"plugins {self.name} both set forward arguments {sorted(clash)}")
            merged.update(kw)
        return merged

    def after_task(self, task_id, model, data, forward_kwargs=None) -> None:
        for p in self.plugins:
            p.after_task(task_id, model, data, forward_kwargs)

    def config(self) -> dict[str, Any]:
        return {"name": self.name, "plugins": [p.config() for p in self.plugins]}

    def state_dict(self) -> dict[str, Any]:
        return {"config": self.config(), "plugins": [p.state_dict() for p in self.plugins]}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        super().load_state_dict(state)
        for p, s in zip(self.plugins, state["plugins"], strict=True):
            p.load_state_dict(s)

    def __repr__(self) -> str:
        return f"Compose({', '.join(map(repr, self.plugins))})"
