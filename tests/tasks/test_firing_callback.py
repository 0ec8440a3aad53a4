import json

import pytest
import torch
from torch_geometric.data import Data

from spikegraph.models import SpikingGNN
from spikegraph.nn import SpikingASConv
from spikegraph.synapse import Homeostatic
from spikegraph.tasks.firing_callback import (
    TraceRecorder,
    fixed_point_check,
    graph_twin,
    main,
    measure,
    predicted_fixed_points,
    rebase_experience,
)
from spikegraph.utils.perturb import add_edges

SHAPE = Homeostatic(target=0.2, alpha=3.0)
EDGES = torch.tensor([[0, 1, 1, 2], [1, 0, 2, 1]])


def closed_form(a: float) -> float:
    """Homeostatic fixed point away from the clip limits: a (1 + alpha x_t) / (1 + a alpha)."""
    return a * (1 + SHAPE.alpha * SHAPE.target) / (1 + a * SHAPE.alpha)


def features(drive: float, T: int, nodes: int = 3, channels: int = 8) -> torch.Tensor:
    """Constant input [T, N, C] whose edge drive, the coincidence a_j a_i of its endpoints'
    activity (mean |x| over channels), is ``drive`` on every synapse."""
    return torch.full((T, nodes, channels), drive**0.5)


def run_conv(conv: SpikingASConv, x: torch.Tensor) -> dict[str, torch.Tensor]:
    with torch.no_grad(), TraceRecorder(conv) as recorder:
        conv(x, EDGES)
    return recorder.records["scaling"]


def test_predicted_fixed_points_match_the_homeostatic_closed_form():
    drive = torch.tensor([0.05, 0.125, 0.25, 0.4])
    expected = torch.tensor([closed_form(a) for a in drive.tolist()])
    assert torch.allclose(predicted_fixed_points(SHAPE, drive, decimals=6), expected, atol=1e-6)


def test_disturbed_drive_is_called_back_toward_the_closed_form_fixed_point():
    conv = SpikingASConv(8, 4, scaling=SHAPE).eval()
    synapses = conv.adjacency(EDGES, None, 3).edge_index
    clean, disturbed = 0.125, 0.25  # the input intensity doubles at test time
    conv.reset_experience(synapses)
    conv.scaling.experience.fill_(closed_form(clean))  # trained at the clean drive
    record = run_conv(conv, features(disturbed, T=8))
    check = fixed_point_check(record, SHAPE)
    gap = torch.tensor(check["transmitted_gap_per_step"])
    assert bool((gap[1:] <= gap[:-1] + 1e-7).all())  # monotone approach to x* of the new drive
    assert gap[-1] < gap[0] / 5
    final = record["transmitted"][-1]
    assert torch.allclose(final, torch.full_like(final, closed_form(disturbed)), atol=2e-3)
    # the callback: the transmitted intensity grows by less than the input did
    assert final.mean() / closed_form(clean) < 0.8 * disturbed / clean


def test_at_the_clean_drive_the_trace_stays_on_its_fixed_point():
    conv = SpikingASConv(8, 4, scaling=SHAPE).eval()
    conv.reset_experience(conv.adjacency(EDGES, None, 3).edge_index)
    conv.scaling.experience.fill_(closed_form(0.125))
    record = run_conv(conv, features(0.125, T=6))
    assert torch.allclose(record["transmitted"], torch.tensor(closed_form(0.125)), atol=1e-6)


def tiny_graph(nodes: int = 6) -> Data:
    x = (torch.rand(nodes, 5) < 0.5).float()
    ei = torch.tensor([[0, 1, 1, 2, 3, 4], [1, 0, 2, 1, 4, 3]])
    mask = torch.ones(nodes, dtype=torch.bool)
    y = torch.arange(nodes) % 3
    return Data(x=x, edge_index=ei, y=y, train_mask=mask, val_mask=mask, test_mask=mask)


def test_measure_records_firing_per_step_and_first_layer_traces_approach_x_star():
    data = tiny_graph()
    model = SpikingGNN(5, 8, 3, T=20, scaling=SHAPE, threshold=0.3, dropout=0.0).eval()
    m = measure(model, data, data)
    assert len(m["rate_per_step"]["convs.0.neuron"]) == 20
    assert m["node_rates"]["convs.0.neuron"].shape == (6,)
    check = fixed_point_check(m["traces"]["convs.0.scaling"], SHAPE)
    assert check["drive_constant"]
    gap = check["transmitted_gap_per_step"]
    assert gap[-1] < gap[0] / 5


def test_graph_twin_is_exact_and_rebased_experience_follows_the_synapse():
    data = tiny_graph()
    model = SpikingGNN(5, 8, 3, T=4, scaling=SHAPE, threshold=0.3, cached=True)
    model.train()
    model(data.x, data.edge_index)  # names the synapses and fills the experience
    model.eval()
    twin = graph_twin(model)
    with torch.no_grad():
        assert torch.equal(twin(data.x, data.edge_index), model(data.x, data.edge_index))
    new_edges = add_edges(data.edge_index, 6, 1.0, 0)
    rebase_experience(twin, new_edges, 6)
    conv, old_conv = twin.convs[0], model.convs[0]
    old = dict(
        zip(
            map(tuple, old_conv.synapses.T.tolist()),
            old_conv.scaling.experience.tolist(),
            strict=True,
        )
    )
    new = dict(
        zip(map(tuple, conv.synapses.T.tolist()), conv.scaling.experience.tolist(), strict=True)
    )
    assert set(new) > set(old)  # every old synapse is still there, and new ones came
    assert all(new[k] == v for k, v in old.items())  # each kept its own experience
    fresh = [v for k, v in new.items() if k not in old]
    assert fresh and all(v == conv.scaling.experience_init for v in fresh)


@pytest.mark.slow
def test_quick_run_on_cora_writes_sane_results(tmp_path, monkeypatch):
    monkeypatch.setenv("SPIKEGRAPH_CACHE", str(tmp_path / "cache"))
    out = tmp_path / "out"
    main(["--quick", "--out", str(out), "--no-progress", "--threads", "1"])
    for name in ("callback", "fixed_point", "sparse_coding", "robustness"):
        assert (out / f"{name}.png").stat().st_size > 10_000
    summary = json.loads((out / "summary.json").read_text())
    for v in ("scaling", "none"):
        assert 0.3 < summary["clean_test_acc_mean"][v] <= 1.0  # chance is about 0.14
    assert -1 <= summary["robustness_gain_mean_disturbed"] <= 1
    rob = json.loads((out / "robustness.json").read_text())
    assert set(rob["perturbations"]) == {"flip", "drop_edges", "add_edges", "intensity"}
    table = json.loads((out / "callback.json").read_text())["table"]
    assert len(table) == 7
    assert all(0 <= r["scaling_distance_final"] <= 1 for r in table)
    sparse = json.loads((out / "sparse_coding.json").read_text())
    assert all(0 <= r["firing_rate_mean"] <= 1 for r in sparse["rows"])
    fp = json.loads((out / "fixed_point.json").read_text())["rows"]["scaling"]
    assert fp[0]["perturbation"] == "clean" and fp[0]["convs.0.scaling"]["drive_constant"]


def test_trace_recorder_removes_its_hooks_on_exit():
    conv = SpikingASConv(8, 4, scaling=SHAPE).eval()
    with TraceRecorder(conv) as recorder:
        conv(features(0.25, T=3), EDGES)
        assert conv.scaling._forward_hooks
    assert recorder.records["scaling"]["scale"].shape == (3, 7)  # 4 edges + 3 self-loops
    assert not conv.scaling._forward_hooks
