"""The training loop: rows of R, checkpoints, resume after a kill, refused checkpoints."""

from __future__ import annotations

from dataclasses import replace

import pytest
import torch

from spikegraph.continual import EWC, TrainConfig, make_permutations, run_tasks
from spikegraph.continual.harness import load_checkpoint
from spikegraph.continual.plugins import Finetune
from spikegraph.continual.tasks import permuted_task
from spikegraph.models import SpikingMLP

from .conftest import tiny_frames, tiny_model

CFG = TrainConfig(epochs=2, batch_size=8, lr=1e-2, seed=5)


class Killed(RuntimeError):
    pass


class KillAfter(EWC):
    """EWC that dies while finishing task ``kill_at`` (before its checkpoint is written)."""

    def __init__(self, kill_at: int) -> None:
        super().__init__(lam=100.0, fisher_samples=8)
        self.kill_at = kill_at

    def after_task(self, task_id, model, data, forward_kwargs=None) -> None:
        if task_id == self.kill_at:
            raise Killed(f"killed after task {task_id}")
        super().after_task(task_id, model, data, forward_kwargs)


def _tasks(n: int = 3):
    perms = make_permutations(n, 18, seed=1)
    train, test = tiny_frames(48, seed=0), tiny_frames(24, seed=1)
    return (
        [permuted_task(train, p, t) for t, p in enumerate(perms)],
        {"test": [permuted_task(test, p, t) for t, p in enumerate(perms)]},
    )


def _run(plugin, path=None, resume=False, cfg=CFG):
    train, tests = _tasks()
    return run_tasks(tiny_model("tent"), plugin, train, tests, cfg, checkpoint=path,
                     resume=resume, meta={"run": "tiny"}, progress=False)  # fmt: skip


def test_one_row_of_r_per_task_on_every_task():
    out = _run(EWC(lam=100.0, fisher_samples=8))
    R = out["R"]["test"]
    assert len(R) == 3 and all(len(row) == 3 for row in R)
    assert all(0.0 <= a <= 1.0 for row in R for a in row)
    assert len(out["train_loss"]) == 3 and all(len(x) == 2 for x in out["train_loss"])
    assert out["metrics"]["test"]["acc"] == pytest.approx(sum(R[-1]) / 3)


def test_seen_only_leaves_the_upper_triangle_empty_and_the_metrics_unchanged():
    train, tests = _tasks()
    runs = [
        run_tasks(
            tiny_model("tent"), Finetune(), train, tests, CFG, progress=False, test_unseen=unseen
        )
        for unseen in (True, False)
    ]
    full, seen = runs[0]["R"]["test"], runs[1]["R"]["test"]
    assert all((v is None) == (j > i) for i, row in enumerate(seen) for j, v in enumerate(row))
    assert [[v for v in row if v is not None] for row in seen] == [
        row[: i + 1] for i, row in enumerate(full)
    ]
    assert runs[1]["metrics"] == runs[0]["metrics"]


@pytest.mark.parametrize("reset_optimizer", [False, True])
def test_resume_after_a_kill_ends_exactly_like_an_uninterrupted_run(tmp_path, reset_optimizer):
    cfg = replace(CFG, reset_optimizer=reset_optimizer)
    full = _run(EWC(lam=100.0, fisher_samples=8), tmp_path / "full.pt", cfg=cfg)
    path = tmp_path / "killed.pt"
    with pytest.raises(Killed):
        _run(KillAfter(kill_at=2), path, cfg=cfg)
    saved = torch.load(path, weights_only=True)
    assert saved["tasks_done"] == 2 and len(saved["R"]["test"]) == 2
    assert len(saved["plugin"]["fishers"]) == 2
    assert "layers.0.scaling.experience" in saved["model"]
    assert not (tmp_path / "killed.pt.tmp").exists()
    resumed = _run(EWC(lam=100.0, fisher_samples=8), path, resume=True, cfg=cfg)
    assert resumed["resumed_from"] == 2
    assert resumed["R"] == full["R"]
    assert resumed["train_loss"] == full["train_loss"]
    assert resumed["metrics"] == full["metrics"]
    final = torch.load(path, weights_only=True)["model"]
    for k, v in torch.load(tmp_path / "full.pt", weights_only=True)["model"].items():
        assert torch.equal(final[k], v), k


def test_resume_of_a_finished_run_trains_nothing(tmp_path):
    full = _run(EWC(lam=100.0, fisher_samples=8), tmp_path / "a.pt")
    again = _run(EWC(lam=100.0, fisher_samples=8), tmp_path / "a.pt", resume=True)
    assert again["resumed_from"] == 3 and again["R"] == full["R"]


def test_corrupt_or_foreign_checkpoints_are_refused(tmp_path):
    path = tmp_path / "c.pt"
    _run(EWC(lam=100.0, fisher_samples=8), path)
    with pytest.raises(ValueError, match="another run; differing settings: plugin"):
        _run(EWC(lam=1.0, fisher_samples=8), path, resume=True)
    with pytest.raises(ValueError, match="run: saved 'tiny', now 'big'"):
        load_checkpoint(path, {**torch.load(path, weights_only=True)["meta"], "run": "big"})
    path.write_bytes(path.read_bytes()[:100])
    with pytest.raises(ValueError, match="corrupt"):
        _run(EWC(lam=100.0, fisher_samples=8), path, resume=True)
    torch.save({"something": 1}, path)
    with pytest.raises(ValueError, match="not a continual-learning checkpoint"):
        _run(EWC(lam=100.0, fisher_samples=8), path, resume=True)


def test_mismatched_task_lists_are_refused():
    train, tests = _tasks()
    with pytest.raises(ValueError, match="2 tasks, training has 3"):
        run_tasks(tiny_model(), EWC(), train, {"test": tests["test"][:2]}, CFG, progress=False)


def test_every_task_is_consolidated_once_before_its_evaluation():
    torch.manual_seed(0)
    model = SpikingMLP(18, 20, 3, scaling="tent", consolidation=1.0)
    train, tests = _tasks()
    run_tasks(model, Finetune(), train, tests, replace(CFG, optimizer="sgd"), progress=False)
    memory = model.layers[0].scaling.memory  # each task adds its relative experience: mean 1
    assert float(memory.mean()) == pytest.approx(3.0, rel=1e-5)
    assert bool((model.layers[0].scaling.plasticity() < 1).any())
