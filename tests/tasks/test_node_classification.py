import json
import runpy
import statistics
import sys
from pathlib import Path

import pytest
import torch

from spikegraph.datasets import load_planetoid
from spikegraph.tasks.node_classification import (
    Config,
    build_model,
    measure_firing,
    run_experiment,
    train_run,
)
from spikegraph.testing import homophilous_graph

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


@pytest.fixture(scope="module")
def cora(tmp_path_factory):
    return load_planetoid("Cora", cache_dir=tmp_path_factory.mktemp("cache"))


@pytest.mark.slow
def test_short_training_on_cora_beats_a_graph_blind_floor(cora):
    # Floor 0.70: a model that learns nothing predicts the majority class (31.9 % of the test
    # nodes) and an MLP that ignores the edges reaches about 57-59 % on this split; so 70 % needs
    # both working training and working message passing. Measured: 76.7 % for this setting.
    cfg = Config(epochs=30, T=4, hidden=32, runs=1)
    report = run_experiment(cfg, cora[0], cora.num_classes, progress=False)
    assert report["test_acc_mean"] >= 0.70


def test_gcn_baseline_runs_through_the_same_pipeline(cora):
    report = run_experiment(
        Config(model="gcn", epochs=3), cora[0], cora.num_classes, progress=False
    )
    assert len(report["test_acc"]) == 1 and "firing_rate_mean" not in report


@pytest.mark.parametrize("script,dataset", [("cora.py", "Cora"), ("citeseer.py", "CiteSeer")])
def test_example_scripts_run_end_to_end(script, dataset, tmp_path, monkeypatch):
    out = tmp_path / "report.json"
    monkeypatch.setenv("SPIKEGRAPH_CACHE", str(tmp_path / "cache"))
    argv = ["--epochs", "2", "--T", "2", "--runs", "2", "--json", str(out), "--no-progress"]
    monkeypatch.setattr(sys, "argv", [script, *argv])
    runpy.run_path(str(EXAMPLES / script), run_name="__main__")
    report = json.loads(out.read_text())
    for key in (
        "config",
        "test_acc",
        "test_acc_mean",
        "test_acc_std",
        "firing_rate_mean",
        "sops",
        "energy_uj",
        "ann_energy_uj",
        "wall_time_s",
        "firing_by_layer",
        "scale_by_layer",
    ):
        assert key in report, key
    assert report["config"]["dataset"] == dataset
    assert report["config"]["T"] == report["config"]["runs"] == 2
    # accuracies over the 1000 test nodes of the public split, averaged over the two runs
    assert [round(1000 * a) for a in report["test_acc"]] == pytest.approx(
        [1000 * a for a in report["test_acc"]], abs=1e-3
    )
    assert report["test_acc_mean"] == pytest.approx(statistics.fmean(report["test_acc"]))
    per_run = [r["firing"]["firing_rate_mean"] for r in report["runs"]]
    assert report["firing_rate_mean"] == pytest.approx(statistics.fmean(per_run))
    for layer in report["firing_by_layer"].values():  # --T 2 reached the model
        assert len(layer["firing_rate_per_step"]) == 2


def test_scaling_none_flag_turns_scaling_off(tmp_path, monkeypatch):
    from spikegraph.tasks.node_classification import parse_args

    cfg, _ = parse_args(["--scaling", "none"], "Cora")
    assert cfg.scaling is None


def test_scale_statistics_show_a_constant_factor_as_one_without_spread(cora):
    """A shape that is flat over its whole range scales every synapse and step by the same
    factor: the report must show that factor with zero spread (and the default must not)."""
    from spikegraph.synapse import Tent

    flat = Tent(f_min=0.7, f_max=0.7)
    reports = {
        name: run_experiment(
            Config(epochs=2, T=3, hidden=16, scaling=shape), cora[0], 7, progress=False
        )["scale_by_layer"]
        for name, shape in (("flat", flat), ("relative", "relative"))
    }
    for st in reports["flat"].values():
        assert st["mean"] == pytest.approx(0.7) and st["std_over_synapses"] < 1e-6
        assert st["std_over_steps"] < 1e-6 and len(st["mean_per_step"]) == 3
    assert max(st["std_over_synapses"] for st in reports["relative"].values()) > 1e-3


def test_first_layer_lr_scale_gives_the_first_layer_its_own_step():
    from spikegraph.tasks.node_classification import build_model, param_groups

    cfg = Config(first_layer_lr_scale=0.5, lr=0.01)
    model = build_model(cfg, 10, 3)
    groups = param_groups(model, cfg)
    assert groups[0]["lr"] == pytest.approx(0.005) and "lr" not in groups[1]
    first = {id(p) for p in model.convs[0].parameters()}
    assert {id(p) for p in groups[0]["params"]} == first
    assert sum(len(g["params"]) for g in groups) == len(list(model.parameters()))


def easy_graph():
    """A homophilous graph with binary features, split into train, validation and test."""
    return homophilous_graph(binary=True, validation=True)


def test_spiking_pipeline_reads_the_graph_on_an_easy_graph():
    """The same pipeline with the edges and without them: chance is 0.2, and a model that
    ignores the graph is left with the weak feature signal. Measured: 0.99 against 0.40
    (seeds 1 and 2: 0.97 / 0.44, 1.00 / 0.37)."""
    data = easy_graph()
    blind = data.clone()
    blind.edge_index = data.edge_index[:, :0]
    cfg = Config(epochs=30, T=4, hidden=16)
    acc = run_experiment(cfg, data, 5, progress=False)["test_acc_mean"]
    blind_acc = run_experiment(cfg, blind, 5, progress=False)["test_acc_mean"]
    assert acc > 0.85 and acc > blind_acc + 0.3


def test_reported_firing_rate_is_the_fraction_of_hidden_spikes():
    data = easy_graph()
    cfg = Config(epochs=5, T=4, hidden=16)
    model = build_model(cfg, data.num_features, 5)
    train_run(model, data, cfg, seed=0, progress=False)
    model.eval()
    with torch.no_grad():  # count the hidden layer's spikes by hand
        spikes = model.convs[0](model.encoder(data.x), data.edge_index)
    firing = measure_firing(model, data)
    assert firing["firing_rate_mean"] == pytest.approx(float(spikes.mean()), abs=1e-6)
    (layer,) = firing["layers"].values()
    expected = spikes.mean((1, 2)).tolist()
    assert layer["firing_rate_per_step"] == pytest.approx(expected, abs=1e-6)


def test_kept_epoch_is_the_best_on_validation_and_training_stops_after_patience(monkeypatch):
    from spikegraph.tasks import node_classification as nc

    seen = []
    evaluate = nc.evaluate
    monkeypatch.setattr(nc, "evaluate", lambda m, d: seen.append(evaluate(m, d)) or seen[-1])
    data = easy_graph()
    cfg = Config(epochs=200, T=4, hidden=16, patience=4, lr=0.05)
    result = train_run(build_model(cfg, data.num_features, 5), data, cfg, 0, progress=False)
    assert result.epochs_run == len(seen) < 200
    best = max(range(len(seen)), key=lambda i: (seen[i].val_acc, -seen[i].val_loss, -i))
    assert result.best_epoch == best + 1 and result.epochs_run == best + 1 + 4
    assert result.test_acc == seen[best].test_acc
    by_loss = Config(**{**cfg.__dict__, "select": "loss"})
    seen.clear()
    result = train_run(build_model(cfg, data.num_features, 5), data, by_loss, 0, False)
    assert result.best_epoch == 1 + min(range(len(seen)), key=lambda i: (seen[i].val_loss, i))


def test_rate_penalty_pulls_the_firing_rate_to_its_target():
    data = easy_graph()
    rates = {}
    for weight in (0.0, 50.0):
        cfg = Config(epochs=20, T=4, hidden=16, patience=0, scaling=None, select="loss")
        cfg.rate_penalty, cfg.penalty_target = weight, 0.05
        model = build_model(cfg, data.num_features, 5)
        train_run(model, data, cfg, seed=0, progress=False)
        rates[weight] = measure_firing(model, data)["firing_rate_mean"]
    assert abs(rates[50.0] - 0.05) < 0.5 * abs(rates[0.0] - 0.05)


def test_rate_penalty_counts_training_calls_only():
    from spikegraph.tasks.node_classification import RatePenalty

    data = easy_graph()
    model = build_model(Config(T=4, hidden=16), data.num_features, 5)
    penalty = RatePenalty(model, 2.0, 0.1)
    model.eval()
    model(data.x, data.edge_index)
    assert penalty.take() == 0.0
    model.train()
    model(data.x, data.edge_index)
    value = penalty.take()
    assert value.requires_grad and float(value.detach()) > 0.0
    penalty.remove()
    model(data.x, data.edge_index)
    assert penalty.take() == 0.0
    with pytest.raises(ValueError, match="spiking"):
        RatePenalty(build_model(Config(model="gcn"), 10, 3), 1.0, None)
