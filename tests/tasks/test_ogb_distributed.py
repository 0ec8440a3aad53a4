"""``examples/ogbn_arxiv.py --minibatch [--distributed]``: flags, checkpoints, restarts."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from spikegraph.datasets.synthetic import write_arxiv_like
from spikegraph.tasks import minibatch
from spikegraph.tasks.ogb_node import main

pytest.importorskip("ogb")

REPO = Path(__file__).resolve().parents[2]
EXAMPLE = REPO / "examples" / "ogbn_arxiv.py"
WORKER = REPO / "tests" / "dist_worker.py"
STEPS_PER_EPOCH = 3  # 322 training nodes in global batches of 2 x 64 (one process: 1 x 128)


@pytest.fixture(scope="module")
def graph(tmp_path_factory) -> Path:
    src = tmp_path_factory.mktemp("graph")
    # 4 classes with clear features, so that 4 epochs learn (best validation in the last epochs)
    write_arxiv_like(
        src,
        num_nodes=600,
        num_edges=3000,
        num_features=16,
        num_classes=4,
        signal=0.6,
        homophily=0.6,
        seed=0,
    )
    return src


@pytest.fixture(autouse=True)
def _restore_threads():
    threads = torch.get_num_threads()
    yield
    torch.set_num_threads(threads)


def same_state(a: dict, b: dict) -> bool:
    """Bit-for-bit equal state dicts (``nan``, an unseen synapse's experience, equals itself)."""
    if a.keys() != b.keys():
        return False
    return all(
        torch.equal(a[k].reshape(-1).view(torch.uint8), b[k].reshape(-1).view(torch.uint8))
        for k in a
    )


def example_args(graph: Path, work: Path, *extra: str) -> list[str]:
    return [
        *("--name", "g", "--root", str(graph), "--meta", str(graph / "meta_dict.json")),
        *("--cache-dir", str(work / "cache"), "--no-download", "--no-progress"),
        *("--minibatch", "--num-neighbors", "5", "5", "--epochs", "4", "--runs", "1"),
        *("--T", "2", "--hidden", "16", "--lr", "0.001", "--threads", "1"),
        *extra,
    ]


def test_distributed_needs_minibatch(graph, tmp_path):
    argv = [a for a in example_args(graph, tmp_path) if a != "--minibatch"]
    with pytest.raises(SystemExit):
        main([*argv, "--distributed"])


def test_distributed_without_torchrun_says_how_to_launch(graph, tmp_path, monkeypatch):
    for name in ("RANK", "WORLD_SIZE", "MASTER_ADDR", "MASTER_PORT"):
        monkeypatch.delenv(name, raising=False)
    with pytest.raises(RuntimeError, match="launch it with torchrun"):
        main([*example_args(graph, tmp_path), "--distributed"])


def test_resume_after_a_crash_ends_like_an_uninterrupted_run(graph, tmp_path, monkeypatch):
    # One process, batch 128: a crash in the 3rd epoch, then --resume from epoch 2's checkpoint.
    def run(name: str) -> dict:
        ckpt = tmp_path / f"{name}.pt"
        argv = example_args(graph, tmp_path, "--batch-size", "128")
        return main([*argv, "--checkpoint", str(ckpt), "--resume"])

    full = run("full")
    real_step, calls = minibatch.train_step, [0]

    def crashing_step(*args, **kwargs):
        calls[0] += 1
        if calls[0] == 2 * STEPS_PER_EPOCH + 2:
            raise RuntimeError("simulated crash")
        return real_step(*args, **kwargs)

    monkeypatch.setattr(minibatch, "train_step", crashing_step)
    with pytest.raises(RuntimeError, match="simulated crash"):
        run("crashed")
    monkeypatch.setattr(minibatch, "train_step", real_step)
    resumed = run("crashed")
    assert full["minibatch"]["resumed_from"] is None
    assert resumed["minibatch"]["resumed_from"] == {"run": 0, "epoch": 2}
    for key in ("test_acc", "val_acc_mean"):
        assert resumed[key] == full[key]
    assert resumed["runs"][0]["best_epoch"] == full["runs"][0]["best_epoch"] > 2  # after the crash
    assert full["test_acc"][0] > 0.5  # 4 classes: it learnt
    a = torch.load(tmp_path / "full.pt", weights_only=True)["model"]
    b = torch.load(tmp_path / "crashed.pt", weights_only=True)["model"]
    assert same_state(a, b)  # bit for bit, experience included


def test_resume_refuses_a_checkpoint_of_another_run(graph, tmp_path):
    ckpt = tmp_path / "c.pt"
    argv = example_args(graph, tmp_path, "--batch-size", "128", "--checkpoint", str(ckpt))
    main([*argv, "--epochs", "1"])
    with pytest.raises(ValueError, match="belongs to another run.*lr"):
        main([*argv, "--epochs", "1", "--resume", "--lr", "0.5"])  # the last --lr counts


def torchrun(script: Path, args: list[str], max_restarts: int, log: Path) -> str:
    cmd = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc-per-node=2"]
    cmd += [f"--max-restarts={max_restarts}", str(script), *args]
    # A restarted group must not read the dead group's addresses (pytorch/pytorch#135712).
    env = dict(os.environ, OMP_NUM_THREADS="1", TORCH_DISABLE_SHARE_RDZV_TCP_STORE="1")
    env["PYTHONPATH"] = os.pathsep.join([str(REPO), env.get("PYTHONPATH", "")])
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=400)
    log.write_text(proc.stdout + proc.stderr)
    assert proc.returncode == 0, f"torchrun failed:\n{(proc.stdout + proc.stderr)[-4000:]}"
    return proc.stdout + proc.stderr


@pytest.mark.slow
def test_torchrun_restart_after_a_killed_rank_resumes_and_ends_like_an_uninterrupted_run(
    graph, tmp_path
):
    def args(name: str) -> list[str]:
        work = tmp_path / name
        extra = ["--distributed", "--batch-size", "64", "--checkpoint", str(work / "ckpt.pt")]
        extra += ["--resume", "--json", str(work / "report.json")]
        return example_args(graph, work, *extra)

    torchrun(EXAMPLE, args("clean"), 0, tmp_path / "clean.log")
    kill = ["fault", "1", str(STEPS_PER_EPOCH + 2)]  # rank 1, 2nd step of epoch 2
    log = torchrun(WORKER, [*kill, *args("killed")], 1, tmp_path / "killed.log")
    assert "exitcode: -9" in log  # rank 1 died of SIGKILL, and torchrun restarted the group
    clean = json.loads((tmp_path / "clean" / "report.json").read_text())
    killed = json.loads((tmp_path / "killed" / "report.json").read_text())
    assert clean["minibatch"]["world_size"] == killed["minibatch"]["world_size"] == 2
    assert clean["minibatch"]["resumed_from"] is None
    assert killed["minibatch"]["resumed_from"] == {"run": 0, "epoch": 1}
    assert killed["test_acc"] == clean["test_acc"]
    assert killed["val_acc_mean"] == clean["val_acc_mean"]
    assert killed["runs"][0]["best_epoch"] == clean["runs"][0]["best_epoch"] > 1  # after the kill
    assert clean["test_acc"][0] > 0.5  # 4 classes: it learnt
    a = torch.load(tmp_path / "clean" / "ckpt.pt", weights_only=True)["model"]
    b = torch.load(tmp_path / "killed" / "ckpt.pt", weights_only=True)["model"]
    assert same_state(a, b)
