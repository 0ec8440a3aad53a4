import json
import math
import runpy
import sys
from pathlib import Path

import pytest
import torch

from spikegraph.models import GCN, GNNGuard, SpikingGNN
from spikegraph.models.gnn_guard import guard_weights
from spikegraph.tasks.graph_robustness import (
    GraphView,
    Settings,
    class_profiles,
    edge_budget,
    inject_features,
    inject_nodes,
    missing_work,
    on_graph,
    parse_args,
    structure_attack,
    summarize,
)
from spikegraph.testing import homophilous_graph

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


@pytest.fixture
def graph():
    return homophilous_graph(60, num_classes=3, channels=40, binary=True, validation=True)


def _undirected(edge_index):
    return {tuple(sorted(e)) for e in edge_index.t().tolist()}


def gen(seed=0):
    return torch.Generator().manual_seed(seed)


def test_feature_injection_perturbs_exactly_the_budgeted_test_nodes(graph):
    out = inject_features(graph, 0.1, words=3, generator=gen())
    changed = (out.x != graph.x).any(-1).nonzero().flatten()
    assert changed.numel() == round(0.1 * graph.num_nodes) == out.perturbed_nodes.numel()
    assert torch.equal(changed, out.perturbed_nodes)
    assert bool(graph.test_mask[changed].all())


def test_feature_injection_adds_exactly_k_active_words_per_node(graph):
    out = inject_features(graph, 0.2, words=4, generator=gen())
    gained = (out.x != 0).sum(-1) - (graph.x != 0).sum(-1)
    assert gained[out.perturbed_nodes].tolist() == [4] * out.perturbed_nodes.numel()
    assert bool((out.x >= graph.x).all())  # words only switched on


def test_feature_injection_leaves_the_clean_graph_untouched(graph):
    before = graph.x.clone()
    inject_features(graph, 0.2, words=5, generator=gen())
    assert torch.equal(graph.x, before)


def test_feature_injection_refuses_more_words_than_a_node_lacks(graph):
    with pytest.raises(ValueError, match="inactive words"):
        inject_features(graph, 0.1, words=graph.num_features, generator=gen())


def test_node_injection_wires_each_target_to_one_new_node(graph):
    out = inject_nodes(graph, 0.1, degree=2, features="random", generator=gen())
    n, targets = graph.num_nodes, out.targets
    assert targets.numel() == round(0.1 * n) and bool(graph.test_mask[targets].all())
    assert out.injected.tolist() == list(range(n, n + math.ceil(targets.numel() / 2)))
    new = out.edge_index[:, graph.edge_index.shape[1] :]
    into_targets = new[:, new[0] >= n]
    assert sorted(into_targets[1].tolist()) == sorted(targets.tolist())  # one edge each
    assert _undirected(new) == _undirected(into_targets)  # both directions present
    assert torch.bincount(into_targets[0] - n).tolist() == [2] * out.injected.numel()


def test_node_injection_keeps_old_graph_and_adds_nodes_to_no_split(graph):
    out = inject_nodes(graph, 0.1, degree=3, features="random", generator=gen())
    m = out.injected.numel()
    assert torch.equal(out.edge_index[:, : graph.edge_index.shape[1]], graph.edge_index)
    assert out.num_nodes == graph.num_nodes + m == out.x.shape[0] == out.y.numel()
    for name in ("train_mask", "val_mask", "test_mask"):
        assert not bool(out[name][graph.num_nodes :].any())


def test_node_injection_leaves_the_clean_graph_untouched(graph):
    x, edges, mask = graph.x.clone(), graph.edge_index.clone(), graph.test_mask.clone()
    inject_nodes(graph, 0.2, degree=2, features="adversarial", generator=gen())
    assert torch.equal(graph.x, x) and torch.equal(graph.edge_index, edges)
    assert torch.equal(graph.test_mask, mask) and graph.num_nodes == x.shape[0]


def test_adversarial_injected_words_favour_another_class(graph):
    out = inject_nodes(graph, 0.1, degree=1, features="adversarial", generator=gen())
    profiles = class_profiles(graph, 3)
    for node, target in zip(out.injected.tolist(), out.targets.tolist(), strict=True):
        words = out.x[node].nonzero().flatten()
        own = profiles[graph.y[target], words].sum()
        best_other = max(profiles[c, words].sum() for c in range(3) if c != graph.y[target])
        assert best_other > own


def test_edge_budget_counts_undirected_edges(graph):
    assert edge_budget(graph, 0.5) == round(graph.edge_index.shape[1] / 4)


def test_grbcd_flips_exactly_the_budget_of_undirected_edges(graph):
    settings = Settings(hidden=8, block_size=500, grbcd_epochs=2)
    model = GCN(graph.num_features, 8, 3).eval()
    out, flipped = structure_attack(
        model, graph, budget=6, method="grbcd", settings=settings, seed=0
    )
    changed = _undirected(out.edge_index) ^ _undirected(graph.edge_index)
    assert len(changed) == 6 == flipped.shape[1]


def test_prbcd_stays_within_budget_and_keeps_the_clean_graph(graph):
    settings = Settings(block_size=500, prbcd_epochs=4, prbcd_resampling=2)
    edges = graph.edge_index.clone()
    model = GCN(graph.num_features, 8, 3).eval()
    out, flipped = structure_attack(
        model, graph, budget=5, method="prbcd", settings=settings, seed=0
    )
    changed = _undirected(out.edge_index) ^ _undirected(graph.edge_index)
    assert len(changed) == flipped.shape[1] <= 5
    assert torch.equal(graph.edge_index, edges)


def _snn(graph):
    model = SpikingGNN(graph.num_features, 8, 3, T=3, cached=True)
    model.train()
    model(graph.x, graph.edge_index)  # names the synapses of the clean graph
    return model.eval()


def test_on_graph_gives_a_spiking_model_a_copy_for_a_new_graph(graph):
    model = _snn(graph)
    clean = model(graph.x, graph.edge_index)
    out = inject_nodes(graph, 0.1, degree=2, features="random", generator=gen())
    net = on_graph(model, graph, out)
    assert net is not model and net(out.x, out.edge_index).shape == (out.num_nodes, 3)
    assert torch.equal(model(graph.x, graph.edge_index), clean)  # the trained model unchanged


def test_on_graph_reads_new_edges_of_a_cached_gcn(graph):
    model = GCN(graph.num_features, 8, 3, cached=True).eval()
    model(graph.x, graph.edge_index)
    fewer = graph.clone()
    fewer.edge_index = graph.edge_index[:, : graph.edge_index.shape[1] // 2]
    stale = model(fewer.x, fewer.edge_index)  # the cache answers with the old graph
    fresh = on_graph(model, graph, fewer)(fewer.x, fewer.edge_index)
    assert not torch.allclose(stale, fresh)
    assert torch.allclose(fresh, _plain_gcn(model)(fewer.x, fewer.edge_index))


def _plain_gcn(model):
    twin = GCN(model.convs[0].in_channels, 8, 3).eval()
    twin.load_state_dict(model.state_dict())
    return twin


def test_graph_view_passes_gradients_to_the_edge_weights(graph):
    view = GraphView(_snn(graph))
    weight = torch.ones(graph.edge_index.shape[1], requires_grad=True)
    view(graph.x, graph.edge_index, weight).sum().backward()
    assert weight.grad is not None and float(weight.grad.abs().sum()) > 0


def test_guard_prunes_dissimilar_edges_and_weights_self_loops():
    h = torch.tensor([[1.0, 0.0], [1.0, 0.1], [0.0, 1.0]])
    edge_index = torch.tensor([[1, 2], [0, 0]])  # 1 -> 0 similar, 2 -> 0 orthogonal
    edges, weights = guard_weights(h, edge_index, None, 3, threshold=0.1)
    into_0 = {tuple(e): float(w) for e, w in zip(edges.t().tolist(), weights, strict=True)}
    assert into_0[(1, 0)] == pytest.approx(1.0) and into_0[(2, 0)] == 0.0
    assert into_0[(0, 0)] == pytest.approx(0.5)  # 1 / (1 + one kept neighbour)
    assert into_0[(2, 2)] == pytest.approx(1.0)  # no kept neighbour


def test_gnnguard_repr_names_its_threshold():
    assert repr(GNNGuard(4, 8, 2, threshold=0.2)) == "GNNGuard([4, 8, 2], threshold=0.2)"


def _write(path, dataset, seed, rows):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"dataset": dataset, "seed": seed, "rows": rows}))


def test_summary_keeps_the_worse_of_white_box_and_transfer_per_seed(tmp_path):
    runs = tmp_path / "runs"
    for seed, (white, transfer) in enumerate([(0.6, 0.7), (0.8, 0.5)]):
        rows = [
            {
                "attack": "prbcd_evasion(white_box)",
                "budget": 0.05,
                "model": "relative",
                "acc": white,
            },
            {
                "attack": "prbcd_evasion(transfer)",
                "budget": 0.05,
                "model": "relative",
                "acc": transfer,
            },
        ]
        _write(runs / f"Cora_main_seed{seed}.json", "Cora", seed, rows)
    rows = {r["attack"]: r for r in summarize(tmp_path)["rows"]}
    worst = rows["prbcd_evasion"]
    assert worst["acc_mean"] == pytest.approx(0.55) and worst["seeds"] == [0, 1]
    assert rows["prbcd_evasion(white_box)"]["acc_mean"] == pytest.approx(0.70)


def test_summary_of_an_empty_folder_says_so(tmp_path):
    with pytest.raises(FileNotFoundError, match="run the study first"):
        summarize(tmp_path)


def test_summary_goal_compares_per_edge_with_the_controls(tmp_path):
    rows = [
        {"attack": "clean", "budget": 0.0, "model": m, "acc": a}
        for m, a in (("relative", 0.80), ("mean_field", 0.77), ("gcn", 0.81))
    ]
    _write(tmp_path / "runs" / "Cora_main_seed0.json", "Cora", 0, rows)
    (goal,) = summarize(tmp_path)["goals"]
    assert goal["vs_mean_field"] == pytest.approx(3.0) and goal["vs_gcn"] == pytest.approx(-1.0)
    assert goal["vs_mean_field_se"] is None and goal["vs_mean_field_ahead"] == 1


def test_summary_goal_is_paired_by_seed(tmp_path):
    # per-edge minus mean field: +4 on seed 0, -2 on seed 1, and seed 2 has no mean field
    accs = {0: (0.80, 0.76), 1: (0.70, 0.72), 2: (0.50, None)}
    for seed, (ours, control) in accs.items():
        rows = [{"attack": "clean", "budget": 0.0, "model": "relative", "acc": ours}]
        if control is not None:
            rows.append({"attack": "clean", "budget": 0.0, "model": "mean_field", "acc": control})
        _write(tmp_path / "runs" / f"Cora_main_seed{seed}.json", "Cora", seed, rows)
    (goal,) = summarize(tmp_path)["goals"]
    assert goal["vs_mean_field"] == pytest.approx(1.0)
    assert goal["vs_mean_field_se"] == pytest.approx(3.0)  # stdev(4, -2) / sqrt(2)
    assert goal["vs_mean_field_ahead"] == 1 and goal["seeds"] == [0, 1, 2]
    assert "vs_gcn" not in goal


def test_summary_goal_compares_each_per_edge_synapse_with_the_controls(tmp_path):
    rows = [
        {"attack": "clean", "budget": 0.0, "model": m, "acc": a}
        for m, a in (("relative", 0.80), ("share", 0.75), ("mean_field", 0.77))
    ]
    _write(tmp_path / "runs" / "Cora_main_seed0.json", "Cora", 0, rows)
    goals = {g["model"]: g for g in summarize(tmp_path)["goals"]}
    assert goals["relative"]["vs_mean_field"] == pytest.approx(3.0)
    assert goals["share"]["vs_mean_field"] == pytest.approx(-2.0)


def _record(models, attacks, **settings):
    fields = {**vars(Settings()), "models": models, "attacks": attacks, **settings}
    return json.loads(json.dumps({"settings": fields}, default=list))


def test_missing_work_is_what_a_seed_file_lacks():
    settings = Settings(models=("relative", "share", "gcn"), attacks=("features", "prbcd"))
    assert missing_work(None, settings) == {("features", "prbcd"): ["relative", "share", "gcn"]}
    record = _record(["relative", "gcn"], ["features"])
    assert missing_work(record, settings) == {
        ("prbcd",): ["relative", "gcn"],
        ("features", "prbcd"): ["share"],
    }
    record["done"] = {"relative": ["features", "prbcd"], "gcn": ["features", "prbcd"]}
    assert missing_work(record, settings) == {("features", "prbcd"): ["share"]}
    record["done"]["share"] = ["features", "prbcd"]
    assert missing_work(record, settings) == {}


def test_missing_work_refuses_a_file_made_with_other_settings():
    record = _record(["relative"], ["features"], hidden=64)
    with pytest.raises(ValueError, match="other settings \\(hidden\\)"):
        missing_work(record, Settings(models=("relative",), attacks=("features",)))


@pytest.mark.parametrize(
    "argv",
    [
        ["--runs", "2", "--seeds", "0"],
        ["--edge-budget", "0"],
        ["--models", "relative", "--attacks", "prbcd"],
        ["--stages", "final"],
    ],
)
def test_impossible_flags_exit_with_a_usage_error(argv, capsys):
    with pytest.raises(SystemExit) as exc:
        parse_args(argv)
    assert exc.value.code == 2


@pytest.mark.slow
def test_quick_study_writes_per_seed_files_and_summary(tmp_path, monkeypatch):
    monkeypatch.setenv("SPIKEGRAPH_CACHE", str(tmp_path / "cache"))
    argv = ["--quick", "--datasets", "Cora", "--stages", "main", "--runs", "1"]
    argv += ["--models", "relative", "gcn", "--attacks", "features", "prbcd"]
    argv += ["--out", str(tmp_path / "out"), "--no-progress"]
    monkeypatch.setattr(sys, "argv", ["graph_robustness.py", *argv])
    runpy.run_path(str(EXAMPLES / "graph_robustness.py"), run_name="__main__")
    assert (tmp_path / "out" / "runs" / "Cora_main_seed0.json").exists()
    rows = json.loads((tmp_path / "out" / "summary.json").read_text())["rows"]
    attacks = {r["attack"] for r in rows}
    assert {"clean", "feature_injection(words=50)", "prbcd_evasion"} <= attacks
    assert {r["model"] for r in rows} == {"relative", "gcn"}


@pytest.mark.slow
def test_a_rerun_with_another_model_completes_the_seed_file(tmp_path, monkeypatch):
    monkeypatch.setenv("SPIKEGRAPH_CACHE", str(tmp_path / "cache"))
    base = ["--quick", "--datasets", "Cora", "--stages", "main", "--runs", "1"]
    base += ["--attacks", "features", "prbcd", "--out", str(tmp_path), "--no-progress"]

    def run_example(*argv):
        monkeypatch.setattr(sys, "argv", ["graph_robustness.py", *base, *argv])
        runpy.run_path(str(EXAMPLES / "graph_robustness.py"), run_name="__main__")

    run_example("--models", "relative", "gcn")
    path = tmp_path / "runs" / "Cora_main_seed0.json"
    before = json.loads(path.read_text())["rows"]
    run_example("--models", "share", "gcn")
    record = json.loads(path.read_text())
    assert record["rows"][: len(before)] == before
    added = record["rows"][len(before) :]
    assert {r["model"] for r in added} == {"share"}
    assert {r["attack"] for r in added} == {r["attack"] for r in before}
    (addition,) = record["additions"]
    assert addition["models"] == ["share"]
    assert addition["rerun_max_diff"] == 0.0  # the GCN twin retrained for the transfer
    assert record["done"]["share"] == ["features", "prbcd"]
