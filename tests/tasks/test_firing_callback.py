import json
import statistics

import pytest
import torch
from torch_geometric.data import Data

from spikegraph.models import SpikingGNN
from spikegraph.nn import SpikingASConv
from spikegraph.synapse import Homeostatic, Relative, fixed_point
from spikegraph.tasks.firing_callback import (
    Settings,
    TraceRecorder,
    callback_experiment,
    fixed_point_check,
    graph_twin,
    main,
    measure,
    predicted_fixed_points,
    rebase_experience,
)
from spikegraph.tasks.firing_callback.analysis import train
from spikegraph.testing import homophilous_graph
from spikegraph.utils.perturb import CLEAN_LEVEL, add_edges

SHAPE = Homeostatic(target=0.2, alpha=3.0)
EPOCHS = 30
#: Input factor -> bound on the scaled network's final-step distance from its undisturbed rate,
#: as a fraction of the unscaled one's. Measured (seed 0): 0.11 at x2 and 0.68 at x4 (seeds 1
#: and 2: 0.04 and 0.14 at x2, 0.72 and 0.69 at x4). The issue's target for Cora is 0.5.
CALLBACK_BOUND = {2.0: 0.3, 4.0: 0.85}
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
    assert torch.allclose(predicted_fixed_points(SHAPE, drive), expected, atol=1e-6)


def test_predicted_fixed_points_of_the_relative_shape_match_its_closed_form_and_bisection():
    shape = Relative()
    experience = torch.tensor([0.01, 0.01, 0.2, 0.2, 0.5, 0.01, 0.05])
    drive = torch.tensor([0.0125, 0.025, 0.1, 0.3, 0.5, 0.04, 0.6])  # sigma = drive/experience
    got = predicted_fixed_points(shape, drive, experience)
    pairs = zip(drive.tolist(), experience.tolist(), strict=True)
    scalar = torch.tensor([fixed_point(shape, a, reference=e) for a, e in pairs])
    torch.testing.assert_close(got, scalar, atol=1e-5, rtol=1e-4)
    sigma = drive[:5] / experience[:5]  # <= 3: away from the clip, x*/e = 2 s / (1 + s)
    torch.testing.assert_close(got[:5], experience[:5] * 2 * sigma / (1 + sigma), rtol=1e-4, atol=0)
    floor = drive[5:] * shape.f_min  # sigma 4 and 12: the scale sits at its floor
    torch.testing.assert_close(got[5:], floor, rtol=1e-4, atol=0)
    with pytest.raises(ValueError, match="relative"):
        predicted_fixed_points(shape, drive)


def test_recorded_trace_is_the_one_the_layer_learns_its_experience_from():
    """The recorder rebuilds each synapse's trace from the scale the layer applied; a training
    call then moves the experience toward that trace's time mean. If the two traces differed
    (wrong prior, order, decay or clip), the experience would not match."""
    conv = SpikingASConv(8, 4, experience="synapse").train()  # the default relative shape
    x = (torch.rand(6, 3, 8) < 0.4).float()
    conv(x, EDGES)  # names the synapses and fills their experience
    before = conv.scaling.experience.clone()
    with TraceRecorder(conv) as recorder:
        conv(x.flip(0), EDGES)
    record = recorder.records["scaling"]
    torch.testing.assert_close(record["experience"], before)
    m = conv.scaling.experience_momentum
    expected = before.lerp(record["intensity"].mean(0), m)
    torch.testing.assert_close(conv.scaling.experience, expected)
    assert not torch.allclose(record["scale"], torch.ones_like(record["scale"]))


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


def easy_graph() -> Data:
    """A homophilous graph with binary features, split into train, validation and test."""
    return homophilous_graph(binary=True, validation=True)


def hidden_rate_per_step(model: SpikingGNN, x: torch.Tensor, edge_index: torch.Tensor):
    """The first layer's firing rate at each step, counted from its spikes directly."""
    with torch.no_grad():
        spikes = model.convs[0](model.encoder(x), edge_index)
    return spikes.mean((1, 2))


def test_scaling_calls_the_hidden_rate_back_after_the_input_is_scaled():
    """Train the default network and its unscaled twin, scale the input at test time: the
    scaled network's final-step hidden rate stays closer to its undisturbed one.

    At x2 an edge's coincidence drive is 4x its usual one, the relative shape settles at its
    floor f_min = 0.5, and the current is back where it was. At x4 the drive is 16x and the
    floor still only halves the weights: the current stays twice the usual, so the rate moves
    back, but not all the way."""
    data = easy_graph()
    s = Settings(hidden=16, T=4, epochs=EPOCHS)
    models = {v: train(s.config(v), data, 5, 0, False)[0] for v in ("scaling", "none")}
    factors = tuple(CALLBACK_BOUND)
    disturbances = tuple(("intensity", f) for f in factors)
    report, _ = callback_experiment(models, data, 0, disturbances, progress=False)
    for i, factor in enumerate(factors):
        firing = {
            v: report["variants"][v]["disturbed"][i]["firing"]["convs.0.neuron"] for v in models
        }
        for v, model in models.items():  # the recorded rates are the spike counts
            clean = hidden_rate_per_step(model, data.x, data.edge_index)
            disturbed = hidden_rate_per_step(model, factor * data.x, data.edge_index)
            torch.testing.assert_close(torch.tensor(firing[v]["clean_per_step"]), clean)
            torch.testing.assert_close(torch.tensor(firing[v]["per_step"]), disturbed)
        scaled, unscaled = firing["scaling"]["distance_final"], firing["none"]["distance_final"]
        assert unscaled > 0.05, factor  # the disturbance moves the unscaled network's rate
        assert scaled < CALLBACK_BOUND[factor] * unscaled, factor


@pytest.mark.slow
def test_quick_run_on_cora_writes_consistent_results(tmp_path, monkeypatch):
    monkeypatch.setenv("SPIKEGRAPH_CACHE", str(tmp_path / "cache"))
    out = tmp_path / "out"
    main(["--quick", "--out", str(out), "--no-progress", "--threads", "1"])
    for name in ("callback", "fixed_point", "sparse_coding", "robustness"):
        assert (out / f"{name}.png").stat().st_size > 10_000
    summary = json.loads((out / "summary.json").read_text())
    assert summary["settings"]["scaling"] == "relative" and summary["shape"] == repr(Relative())
    for v in ("scaling", "none"):
        assert summary["clean_test_acc_mean"][v] > 0.3  # chance is about 0.14
    rob = json.loads((out / "robustness.json").read_text())
    assert set(rob["perturbations"]) == {"flip", "drop_edges", "add_edges", "intensity"}
    gains = [
        acc_s - acc_n
        for name, res in rob["perturbations"].items()
        for acc_s, acc_n, level in zip(
            res["scaling"]["mean"], res["none"]["mean"], rob["levels"][name], strict=True
        )
        if level != CLEAN_LEVEL[name]
    ]
    assert summary["robustness_gain_mean_disturbed"] == pytest.approx(statistics.fmean(gains))
    callback = json.loads((out / "callback.json").read_text())
    assert len(callback["table"]) == 7
    for row, *disturbed in zip(callback["table"], *_disturbed_rows(callback), strict=True):
        for v, dist in zip(("scaling", "none"), disturbed, strict=True):
            firing = dist["firing"][callback["layer"]]
            final = abs(firing["per_step"][-1] - firing["clean_per_step"][-1])
            assert row[f"{v}_distance_final"] == pytest.approx(final)
    sparse = json.loads((out / "sparse_coding.json").read_text())["rows"]
    swept = {(r["sweep"], r["variant"], r["threshold"], r["target_rate"]) for r in sparse}
    assert swept == {
        *(
            (sweep, v, thr, None)
            for sweep, thr in (("threshold", 0.5), ("threshold", 1.0))
            for v in ("scaling", "none")
        ),
        *(("target_rate", v, 0.5, 0.1) for v in ("scaling", "none")),
    }
    fp = json.loads((out / "fixed_point.json").read_text())["rows"]["scaling"]
    assert fp[0]["perturbation"] == "clean" and fp[0]["convs.0.scaling"]["drive_constant"]
    fourfold = next(r for r in fp if r["perturbation"] == "intensity" and r["level"] == 4.0)
    gap = fourfold["convs.0.scaling"]["transmitted_gap_per_step"]
    assert gap[-1] < gap[0] / 2  # the first layer's synapses approach x* of the new drive


def _disturbed_rows(callback: dict) -> list[list[dict]]:
    return [callback["variants"][v]["disturbed"] for v in ("scaling", "none")]


def test_trace_recorder_removes_its_hooks_on_exit():
    conv = SpikingASConv(8, 4, scaling=SHAPE).eval()
    with TraceRecorder(conv) as recorder:
        conv(features(0.25, T=3), EDGES)
        assert conv.scaling._forward_hooks and conv.scaling._forward_pre_hooks
    assert recorder.records["scaling"]["scale"].shape == (3, 7)  # 4 edges + 3 self-loops
    assert not conv.scaling._forward_hooks and not conv.scaling._forward_pre_hooks


def test_the_study_defaults_to_the_library_shape_and_takes_another_on_request():
    from spikegraph.tasks.firing_callback import parse_args
    from spikegraph.tasks.node_classification import Config

    s, _ = parse_args([])
    default = Config(dataset="Cora", scaling="relative")
    assert s.config("scaling") == default  # no per-dataset setting: the pipeline's defaults
    assert s.config("none").scaling is None and s.shape() == Relative()
    s, _ = parse_args(["--scaling", "homeostatic", "--target", "0.02", "--alpha", "50"])
    assert s.config("scaling").scaling == Homeostatic(target=0.02, alpha=50.0)
    with pytest.raises(ValueError, match="'relative' shape takes no target=0.02"):
        Settings(target=0.02)
    with pytest.raises(ValueError, match="needs a shape"):
        Settings(scaling="none")
