"""Data-parallel training: two gloo processes (``tests/dist_worker.py``) and single-process parts."""

from __future__ import annotations

import math
import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest
import torch
import torch_geometric.typing

from spikegraph.distributed import DistContext, ExperienceSync, init_distributed
from spikegraph.synapse import SynapticScaling

WORKER = Path(__file__).resolve().parent / "dist_worker.py"
REPO = Path(__file__).resolve().parents[1]
HAS_SAMPLER = torch_geometric.typing.WITH_PYG_LIB or torch_geometric.typing.WITH_TORCH_SPARSE


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def rank_env(rank: int, world_size: int, port: int) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        RANK=str(rank),
        LOCAL_RANK=str(rank),
        WORLD_SIZE=str(world_size),
        MASTER_ADDR="127.0.0.1",
        MASTER_PORT=str(port),
        OMP_NUM_THREADS="1",
        PYTHONPATH=os.pathsep.join([str(REPO), env.get("PYTHONPATH", "")]),
    )
    return env


@pytest.fixture(scope="module")
def ranks(tmp_path_factory) -> list[dict]:
    """Every scenario of the worker, run once by two processes; what each rank saved."""
    if not HAS_SAMPLER:
        pytest.skip("NeighborLoader needs pyg-lib or torch-sparse")
    out = tmp_path_factory.mktemp("ranks")
    port = free_port()
    procs = [
        subprocess.Popen(
            [sys.executable, str(WORKER), "scenarios", str(out)],
            env=rank_env(rank, 2, port),
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        for rank in range(2)
    ]
    logs = []
    for proc in procs:
        try:
            logs.append(proc.communicate(timeout=240)[0])
        except subprocess.TimeoutExpired:
            for p in procs:
                p.kill()
            pytest.fail("the two ranks did not finish within 240 s")
    for rank, (proc, log) in enumerate(zip(procs, logs, strict=True)):
        assert proc.returncode == 0, f"rank {rank} failed:\n{log[-3000:]}"
    return [torch.load(out / f"rank{r}.pt", weights_only=True) for r in range(2)]


def same_bits(x: torch.Tensor, y: torch.Tensor) -> bool:
    """Bit-for-bit equality; unlike ``torch.equal``, ``nan`` (an unseen synapse) equals itself."""
    if x.shape != y.shape or x.dtype != y.dtype:
        return False
    return torch.equal(x.reshape(-1).view(torch.uint8), y.reshape(-1).view(torch.uint8))


def changed(x: torch.Tensor, before: torch.Tensor) -> torch.Tensor:
    """Which entries differ from ``before`` (an unseen ``nan`` entry counts as a value)."""
    return x.nan_to_num(-1.0) != before.nan_to_num(-1.0)


def assert_states_equal(a: dict, b: dict) -> None:
    assert a.keys() == b.keys()
    for name in a:
        assert same_bits(a[name], b[name]), f"{name} differs"


def experience_keys(state: dict) -> list[str]:
    return [k for k in state if k.endswith("scaling.experience")]


def test_buffers_identical_on_all_ranks_after_training(ranks):
    assert ranks[0]["world_size"] == 2
    a, b = ranks[0]["training"], ranks[1]["training"]
    assert_states_equal(a["state"], b["state"])  # bit for bit: parameters and experience
    assert a["out_of_sync"] == b["out_of_sync"] == []
    keys = experience_keys(a["state"])
    assert len(keys) == 2
    assert changed(a["state"][keys[0]], a["initial"]).any()  # it did learn something


def test_without_experience_sync_the_ranks_drift_apart(ranks):
    # The control: DDP alone (buffer broadcasts off) keeps the parameters equal, not the experience.
    a, b = ranks[0]["unsynced"], ranks[1]["unsynced"]
    keys = experience_keys(a["state"])
    assert all(not same_bits(a["state"][k], b["state"][k]) for k in keys)
    params = [k for k in a["state"] if k not in keys]
    assert all(same_bits(a["state"][k], b["state"][k]) for k in params)
    assert sorted(a["out_of_sync"]) == sorted(keys)


def test_one_step_split_over_two_ranks_equals_one_process_on_the_whole_batch(ranks):
    r0, r1 = ranks[0]["one_step"], ranks[1]["one_step"]
    assert_states_equal(r0["state"], r1["state"])
    dist_state, single, initial = r0["state"], r0["single"], r0["initial"]
    for name in single:
        torch.testing.assert_close(dist_state[name], single[name], equal_nan=True, msg=name)
    for name in single:
        if "lin.weight" in name or "experience" in name:
            assert changed(single[name], initial[name]).any(), f"{name} did not change"
    # Rank 1 alone saw component B (nodes 12..19): its updates count in full, those of the
    # synapses both ranks saw (component A) once, not twice. Every synapse was in the batch.
    in_b = r0["edge_index"][1] >= 12
    for key in experience_keys(single):
        assert changed(single[key], initial[key])[in_b].all()
        assert changed(single[key], initial[key])[~in_b].all()


def test_dense_updates_weigh_each_rank_by_its_samples(ranks):
    # ASLinear has no synapse ids: ranks with 2 and 5 samples give the update of all 7.
    torch.testing.assert_close(ranks[0]["dense"]["experience"], ranks[0]["dense"]["single"])
    assert torch.equal(ranks[0]["dense"]["experience"], ranks[1]["dense"]["experience"])
    assert ranks[0]["dense"]["experience"].abs().sum() > 0


def test_out_of_sync_names_what_differs(ranks):
    assert ranks[0]["divergence"] == ranks[1]["divergence"] == ["bias"]


def test_init_without_torchrun_environment_says_how_to_launch(monkeypatch):
    for name in ("RANK", "WORLD_SIZE", "MASTER_ADDR", "MASTER_PORT"):
        monkeypatch.delenv(name, raising=False)
    with pytest.raises(RuntimeError, match="torchrun --standalone --nproc-per-node=2"):
        init_distributed()


def test_update_reducer_sees_every_write_and_decides_what_is_written():
    scaling = SynapticScaling("tent", 5, experience_momentum=0.5)
    calls = []

    def halve(values, index, count):
        calls.append((values.clone(), index, count))
        return values / 2, index

    scaling.update_reducer = halve
    scaling.train()
    drive = torch.rand(4, 3, 5)  # [T, B, K]
    scaling(drive)
    reference = SynapticScaling("tent", 5, experience_momentum=0.5).train()
    reference(drive)
    ((values, index, count),) = calls
    assert index is None and count == 12
    torch.testing.assert_close(values, reference.experience)  # the write it would have made
    torch.testing.assert_close(scaling.experience, reference.experience / 2)


def test_update_reducer_gets_the_indexed_entries_with_unseen_ones_filled_in():
    scaling = SynapticScaling("relative", 10, experience_momentum=0.5)  # fresh entries: nan
    seen = []
    scaling.update_reducer = lambda values, index, count: (seen.append(index) or values, index)
    scaling.train()
    index = torch.tensor([7, 2, 5])
    scaling(torch.rand(4, 3), index=index)
    assert torch.equal(seen[0], index)
    assert scaling.experience[index].isfinite().all()  # filled in, then updated
    assert scaling.experience[[0, 1, 3]].isnan().all()  # untouched


def test_experience_sync_is_identity_in_a_world_of_one(monkeypatch):
    monkeypatch.setattr(torch.distributed, "get_world_size", lambda group=None: 1)
    mean, index = torch.rand(4), torch.tensor([3, 0, 7, 2])
    out_mean, out_index = ExperienceSync()(mean, index, 8)
    assert out_mean is mean and out_index is index


def test_expected_rate_gains_are_bit_identical_on_both_ranks(ranks):
    synced = [r["rate"] for r in ranks]
    assert len(synced[0]) == 1  # the hidden layer's controller
    assert all(same_bits(a, b) for a, b in zip(*synced, strict=True))
    assert float(synced[0][0].abs()) > 0  # the controller did move
    # the control: each rank steps by its own firing, and the gains drift apart
    unsynced = [r["rate_unsynced"] for r in ranks]
    assert not same_bits(unsynced[0][0], unsynced[1][0])


def test_the_rate_controller_steps_from_the_combined_rate():
    from spikegraph.synapse import TargetRate

    seen = []

    def combine(rate, index, count):  # as ExperienceSync: another rank fired at 0.3, 8 values
        seen.append((float(rate), index, count))
        return (rate * count + 0.3 * 8) / (count + 8), index

    rate = TargetRate(0.1, adaptation=0.5)
    rate.update_reducer = combine
    rate.observe(torch.tensor([[1.0, 0.0], [0.0, 0.0]]))  # this rank: 1 of 4 fired
    assert seen == [(0.25, None, 4)]
    combined = (0.25 * 4 + 0.3 * 8) / 12
    expected = 0.5 * (math.log(0.1) - math.log(combined))
    assert float(rate.log_gain) == pytest.approx(expected, rel=1e-6)


def test_single_process_context():
    ctx = DistContext()
    assert ctx.is_main and not ctx.distributed
    ctx.barrier()  # no process group: nothing to wait for
