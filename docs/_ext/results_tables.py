"""Results tables built from the JSON under ``results/`` and ``benchmarks/results/``.

Every table in the guides and the summary table in ``README.md`` come from here, so no number
is typed by hand twice. Three ways in:

- in a guide (MyST): a ``results-table`` directive, e.g. ``{results-table} node_classification``;
- ``python docs/_ext/results_tables.py NAME`` prints a table as Markdown (``--list`` names them);
- ``python docs/_ext/results_tables.py --readme`` rewrites the summary between the
  ``<!-- results-summary -->`` markers of ``README.md`` (``tests/test_readme.py`` checks that it
  is up to date).

A missing or unreadable JSON file raises :class:`ResultsError` naming the file and the command
that writes it; the Sphinx build then fails.
"""

from __future__ import annotations

import importlib.util
import json
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
README_START = "<!-- results-summary -->"
README_END = "<!-- /results-summary -->"

# The command that writes each results folder, for the error message when a file is missing.
WRITERS = {
    "results/link_prediction": "bash results/link_prediction/run_study.sh",
    "results/link_prediction/screen": "bash results/link_prediction/run_screen.sh",
    "results/node_classification": "python examples/cora.py / citeseer.py --runs 10 --json ...",
    "results/node_classification/rate_study": (
        "bash results/node_classification/run_rate_study.sh cora|citeseer"
    ),
    "results/node_classification/protocol_screen": (
        "bash results/node_classification/run_protocol_screen.sh cora|citeseer"
    ),
    "results/node_classification/protocol_final": (
        "bash results/node_classification/run_protocol_final.sh cora|citeseer"
    ),
    "results/firing_callback": "python examples/firing_callback.py",
    "results/firing_callback_mean_field": (
        "python examples/firing_callback.py --scaling mean_field --out results/firing_callback_mean_field"
    ),
    "results/nmnist_robustness_v2": (
        "python examples/nmnist_robustness.py --checkpoint-dir ... --seeds 0 1 2 --out ..."
    ),
    "results/nmnist_robustness_mean_field": (
        "python examples/nmnist_robustness.py --models scaling baseline mean_field --seeds 0 1 2 "
        "--train-limit 12000 --val-size 2000 --test-limit 2000 --out ..."
    ),
    "results/nmnist_continual/study": "bash results/nmnist_continual/run_study.sh",
    "results/nmnist_training": "python examples/nmnist_train.py (results/nmnist_training/README.md)",
    "benchmarks/results": "python benchmarks/spiking_conv.py / benchmarks/arxiv_scale.py",
    "results/zoo": "python benchmarks/zoo.py (the order used: bash benchmarks/run_zoo.sh)",
    "results/zoo/tuning/spikegt": (
        "python benchmarks/zoo_tune.py --model spikegt --dataset Cora --seeds 0-2 --variant ..."
    ),
    "results/zoo/propagation": "bash results/zoo/run_propagation.sh",
    "results/zoo/propagation/final": "bash results/zoo/run_propagation.sh",
    "results/graph_robustness": "python examples/graph_robustness.py --threads 1",
    "results/graph_classification": "bash results/graph_classification/run_all.sh",
    "results/graph_classification/screen": "bash results/graph_classification/run_screen.sh",
}


class ResultsError(RuntimeError):
    """A results file is missing, unreadable or lacks a field a table needs."""


@dataclass
class Table:
    header: list[str]
    rows: list[list[str]]
    sources: list[Path] = field(default_factory=list)
    align: str = ""  # one of "l"/"r" per column; empty: all left

    def markdown(self) -> str:
        aligns = self.align or "l" * len(self.header)
        rule = ["---:" if a == "r" else "---" for a in aligns]
        lines = [self.header, rule, *self.rows]
        return "\n".join("| " + " | ".join(cells) + " |" for cells in lines)


def load(relpath: str) -> dict:
    """Read one JSON file of the repository, with an error that says how to recreate it."""
    path = REPO / relpath
    if not path.is_file():
        folder = str(Path(relpath).parent)
        hint = WRITERS.get(folder, "the script that writes it")
        raise ResultsError(f"results file {relpath} is missing; it is written by `{hint}`")
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError) as exc:
        raise ResultsError(f"results file {relpath} cannot be read: {exc}") from exc


def _get(report: dict, relpath: str, *keys):
    value = report
    for key in keys:
        try:
            value = value[key]
        except (KeyError, IndexError, TypeError):
            path = "".join(f"[{k!r}]" for k in keys)
            raise ResultsError(f"results file {relpath} has no {path}") from None
    return value


def _import_path(name: str, relpath: str):
    spec = importlib.util.spec_from_file_location(name, REPO / relpath)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


def _parse_markdown(text: str) -> tuple[list[str], list[list[str]]]:
    cells = [
        [c.strip() for c in line.strip().strip("|").split("|")]
        for line in text.strip().splitlines()
    ]
    return cells[0], cells[2:]


def _pct(x: float, digits: int = 1) -> str:
    return f"{100 * x:.{digits}f}"


def _points(x: float) -> str:
    return f"{100 * x:+.1f}"


# --- node classification -------------------------------------------------------------------------

NODE_FILES = [
    f"results/node_classification/{d}_{m}.json"
    for d in ("citeseer", "cora")
    for m in ("gcn", "snn_relative", "snn_none", "snn_none_lr051")
]


def node_classification() -> Table:
    """Planetoid public split, 10 seeds: the row format of ``examples/results_table.py``."""
    reports = {relpath: load(relpath) for relpath in NODE_FILES}
    fmt = _import_path("_results_table", "examples/results_table.py")
    rows = []
    for relpath, report in reports.items():
        try:
            rows.append(_parse_markdown("|h|\n|-|\n" + fmt.row(report))[1][0])
        except KeyError as exc:
            raise ResultsError(f"results file {relpath} has no field {exc}") from None
    header = [
        "dataset",
        "model",
        "T",
        "test acc. % (mean ± std)",
        "seeds",
        "firing rate",
        "ops per forward",
        "energy µJ",
        "ms / epoch",
    ]
    return Table(header, rows, [REPO / p for p in NODE_FILES], "llllrrlrr")


def node_scale() -> Table:
    """The synaptic scale f per layer of the default model (mean over seeds): a constant factor
    shows as zero spread, a per-node gain as zero spread among the edges of one source."""
    rows = []
    for d in ("cora", "citeseer"):
        relpath = f"results/node_classification/{d}_snn_relative.json"
        report = load(relpath)
        for layer, st in _get(report, relpath, "scale_by_layer").items():
            rows.append(
                [
                    report["config"]["dataset"],
                    layer.removesuffix(".scaling"),
                    f"{st['mean']:.3f}",
                    f"{st['min']:.2f} – {st['max']:.2f}",
                    f"{st['std_over_synapses']:.3f}",
                    f"{st['std_within_source']:.3f}",
                    f"{st['std_over_steps']:.3f}",
                    " ".join(f"{m:.3f}" for m in st["mean_per_step"]),
                ]
            )
    header = [
        "dataset",
        "layer",
        "mean f",
        "range",
        "spread over synapses",
        "among edges of one source",
        "over steps",
        "mean per step (first seed)",
    ]
    return Table(header, rows, [], "llrrrrrl")


RATE_SETTINGS = {
    "target005": "scaling + target rate 0.05",
    "target01": "scaling + target rate 0.1",
    "target02": "scaling + target rate 0.2",
    "free": "scaling, no target",
    "none": "scaling off",
    "none_target01": "scaling off + target rate 0.1",
    "none_penalty": "scaling off + rate penalty (0.1)",
    "gcn": "GCN (ANN twin)",
}
RATE_STUDY = "results/node_classification/rate_study/{}_{}.json"
# The settings of run_rate_study.sh that have finished (the script runs the rest, resuming).
RATE_STUDY_DONE = {
    "cora": list(RATE_SETTINGS),
    "citeseer": [
        "target005",
        "target01",
        "target02",
        "none",
        "none_target01",
        "none_penalty",
        "gcn",
    ],
}


def rate_study() -> Table:
    """The expected-firing-rate study, 10 seeds per setting: an expected firing rate set in the synapses
    (``--target-rate``) against scaling off and a rate penalty in the loss, with the GCN."""
    rows, sources = [], []
    for dataset, settings in RATE_STUDY_DONE.items():
        for setting in settings:
            label = RATE_SETTINGS[setting]
            relpath = RATE_STUDY.format(dataset, setting)
            report = load(relpath)
            sources.append(REPO / relpath)
            acc = f"{_pct(report['test_acc_mean'], 2)} ± {_pct(report['test_acc_std'], 2)}"
            spiking = "firing_rate_mean" in report
            rows.append(
                [
                    report["config"]["dataset"],
                    label,
                    acc,
                    _pct(report["val_acc_mean"], 2),
                    f"{report['firing_rate_mean']:.3f}" if spiking else "–",
                    _pct(report["silent_fraction_mean"]) if spiking else "–",
                    f"{report['energy_uj']:.1f}" if spiking else "–",
                    str(sorted(r["best_epoch"] for r in report["runs"])[len(report["runs"]) // 2]),
                ]
            )
    header = [
        "dataset",
        "setting",
        "test acc. %",
        "val. acc. %",
        "hidden firing rate",
        "silent %",
        "energy µJ",
        "kept epoch (median)",
    ]
    return Table(header, rows, sources, "llrrrrrr")


DATASET_NAMES = {"cora": "Cora", "citeseer": "CiteSeer"}
# The runs of the examples' default command (``--runs 10``), per dataset that has one.
DEFAULT_RUN = "results/node_classification/{}_default.json"
DEFAULT_RUNS = ["cora", "citeseer"]


def node_default() -> Table:
    """The examples' default command (target rate 0.1), 10 seeds, against free firing
    (``--target-rate none``, the rate study's ``free`` setting) where that has been run."""
    rows, sources = [], []
    for dataset in DEFAULT_RUNS:
        runs = [("default (target rate 0.1)", DEFAULT_RUN.format(dataset))]
        if "free" in RATE_STUDY_DONE[dataset]:
            runs.append(("--target-rate none", RATE_STUDY.format(dataset, "free")))
        for label, relpath in runs:
            report = load(relpath)
            sources.append(REPO / relpath)
            rows.append(
                [
                    DATASET_NAMES[dataset],
                    label,
                    f"{_pct(report['test_acc_mean'], 2)} ± {_pct(report['test_acc_std'], 2)}",
                    f"{report['firing_rate_mean']:.3f}",
                    _pct(report["silent_fraction_mean"]),
                    f"{report['energy_uj']:.1f}",
                ]
            )
    header = ["dataset", "command", "test acc. %", "hidden firing rate", "silent %", "energy µJ"]
    return Table(header, rows, sources, "llrrrr")


SCREEN = "results/node_classification/protocol_screen/{}_{}_{}.json"
SCREEN_OPTIONS = {
    "default": "defaults",
    "rownorm": "row-normalised features",
    "wd_first": "weight decay on the first layer only",
    "hidden256": "hidden width 256",
    "hidden64": "hidden width 64",
    "rownorm_wd_first": "row-normalised + weight decay on the first layer only",
    "rownorm_hidden256": "row-normalised + hidden width 256",
    "rownorm_hidden64": "row-normalised + hidden width 64",
}


def protocol_screen() -> Table:
    """The protocol screen: each option's validation accuracy (3 seeds), SNN (target
    rate 0.1) and GCN alike; the test accuracy is shown but was not used to choose."""
    rows, sources = [], []
    for dataset in DATASET_NAMES:
        for option, label in SCREEN_OPTIONS.items():
            row, found = [DATASET_NAMES[dataset], label], False
            for model in ("snn", "gcn"):
                path = REPO / SCREEN.format(dataset, model, option)
                if not path.exists():
                    row += ["–", "–"]
                    continue
                report, found = load(str(path.relative_to(REPO))), True
                sources.append(path)
                row += [_pct(report["val_acc_mean"], 2), _pct(report["test_acc_mean"], 2)]
            if found:
                rows.append(row)
    if not rows:
        raise ResultsError("no protocol-screen results under results/node_classification/")
    header = ["dataset", "option", "SNN val. %", "SNN test %", "GCN val. %", "GCN test %"]
    return Table(header, rows, sources, "llrrrr")


FINAL = "results/node_classification/protocol_final/{}_{}.json"
FINAL_MODELS = {"snn": "SNN, target rate 0.1", "none": "SNN, scaling off, target 0.1", "gcn": "GCN"}
FLAG_NAMES = {
    "features": ("raw", "row-normalised"),
    "weight_decay_layers": ("all", "decay first layer"),
    "hidden": (128, "hidden {}"),
}


def _options(config: dict) -> str:
    """The protocol options of a run that differ from the defaults, in words."""
    words = []
    for key, (default, label) in FLAG_NAMES.items():
        if config.get(key, default) != default:
            words.append(label.format(config[key]))
    return ", ".join(words) or "defaults"


def _final_reports(dataset: str) -> dict[str, tuple[str, dict]] | None:
    """``{model: (relpath, report)}`` of one dataset's final runs, or ``None`` before they ran."""
    paths = {model: FINAL.format(dataset, model) for model in FINAL_MODELS}
    if not all((REPO / p).exists() for p in paths.values()):
        return None
    return {model: (p, load(p)) for model, p in paths.items()}


def protocol_final() -> Table:
    """The protocol's final runs: 10 seeds, each model with its validation-chosen options."""
    rows, sources = [], []
    for dataset in DATASET_NAMES:
        for model, (relpath, report) in (_final_reports(dataset) or {}).items():
            sources.append(REPO / relpath)
            spiking = "firing_rate_mean" in report
            rows.append(
                [
                    report["config"]["dataset"],
                    FINAL_MODELS[model],
                    _options(report["config"]),
                    f"{_pct(report['test_acc_mean'], 2)} ± {_pct(report['test_acc_std'], 2)}",
                    _pct(report["val_acc_mean"], 2),
                    f"{report['firing_rate_mean']:.3f}" if spiking else "–",
                    _pct(report["silent_fraction_mean"]) if spiking else "–",
                    f"{report['energy_uj']:.0f}" if spiking else "–",
                ]
            )
    if not rows:
        raise ResultsError(f"no final runs under {Path(FINAL).parent}")
    header = [
        "dataset",
        "model",
        "options",
        "test acc. %",
        "val. acc. %",
        "hidden firing rate",
        "silent %",
        "energy µJ",
    ]
    return Table(header, rows, sources, "lllrrrrr")


# --- firing-rate study (Cora) --------------------------------------------------------------------

FC_SUMMARY = "results/firing_callback/summary.json"
FC_ROBUSTNESS = "results/firing_callback/robustness.json"


def _disturbance(perturbation: str, level: float) -> str:
    if perturbation == "intensity":
        return f"intensity ×{level:g}"
    share = f"{100 * level:g} %"
    return {
        "flip": f"{share} feature bits flipped",
        "drop_edges": f"{share} edges deleted",
        "add_edges": f"{share} random edges added",
    }.get(perturbation, f"{perturbation} {level:g}")


FC_MEAN_FIELD = "results/firing_callback_mean_field/summary.json"


def firing_callback() -> Table:
    """Distance of the hidden layer's final-step rate from the undisturbed one: the per-edge
    synapse, its mean-field control (``--scaling mean_field``) and scaling off."""
    report, control = load(FC_SUMMARY), load(FC_MEAN_FIELD)
    pooled = {
        (r["perturbation"], r["level"]): r["scaling_distance_final"]
        for r in _get(control, FC_MEAN_FIELD, "callback_table")
    }
    rows = []
    for row in _get(report, FC_SUMMARY, "callback_table"):
        key = (row["perturbation"], row["level"])
        none = row["none_distance_final"]
        rows.append(
            [
                _disturbance(*key),
                f"{row['scaling_distance_final']:.3f}",
                f"{pooled[key]:.3f}",
                f"{none:.3f}",
                f"{row['scaling_distance_final'] / none:.2f} / {pooled[key] / none:.2f}",
            ]
        )
    header = [
        "disturbance",
        "per-edge",
        "mean field",
        "none",
        "ratio to none (per-edge / mean field)",
    ]
    return Table(header, rows, [REPO / FC_SUMMARY, REPO / FC_MEAN_FIELD], "lrrrr")


def firing_robustness() -> Table:
    """Test-accuracy gain of scaling over none under graph perturbations (5 seeds)."""
    from spikegraph.utils.perturb import CLEAN_LEVEL

    report = load(FC_ROBUSTNESS)
    summary = load(FC_SUMMARY)
    perturbations = _get(report, FC_ROBUSTNESS, "perturbations")
    levels = _get(report, FC_ROBUSTNESS, "levels")
    names = {
        "flip": "feature bit flips",
        "drop_edges": "edge deletion",
        "add_edges": "random edge insertion",
        "intensity": "input intensity",
    }
    rows = []
    for name, result in perturbations.items():
        lv = levels[name]
        disturbed = [
            (g, level)
            for g, level in zip(result["gain"], lv, strict=True)
            if level != CLEAN_LEVEL[name]
        ]
        best_gain, best_level = max(disturbed)
        span = (
            f"×{lv[0]:g} … ×{lv[-1]:g}"
            if name == "intensity"
            else f"{100 * min(x for x in lv if x):g} … {100 * lv[-1]:g} %"
        )
        where = f"×{best_level:g}" if name == "intensity" else f"{100 * best_level:g} %"
        rows.append(
            [
                f"{names.get(name, name)} ({span})",
                _points(result["gain_mean_disturbed"]),
                f"{_points(best_gain)} at {where}",
                _points(result["gain_mean_disturbed"] - result["clean_gain"]),
            ]
        )
    clean = _get(summary, FC_SUMMARY, "clean_test_acc_mean")
    clean_gap = clean["scaling"] - clean["none"]
    overall = _get(report, FC_ROBUSTNESS, "gain_mean_disturbed")
    rows.append(["all disturbed levels", _points(overall), "–", _points(overall - clean_gap)])
    header = [
        "perturbation (levels)",
        "mean gain, points",
        "largest gain",
        f"beyond the clean gap ({_points(clean_gap)})",
    ]
    return Table(header, rows, [REPO / FC_ROBUSTNESS, REPO / FC_SUMMARY], "lrrr")


# --- N-MNIST robustness ----------------------------------------------------------------------------

NR_V2 = "results/nmnist_robustness_v2/nmnist_robustness.json"
NR_RUNS = {NR_V2: "full-data recipe, 3 seeds"}
SET_NAMES = {"sim_test": "simulated", "real_test": "real"}


def nmnist_robustness() -> Table:
    """Mean accuracy over all perturbed levels, scaling against the baseline."""
    rows, sources = [], []
    for relpath, epochs in NR_RUNS.items():
        report = load(relpath)
        sources.append(REPO / relpath)
        clean = _get(report, relpath, "summary", "clean_acc")
        sizes = _get(report, relpath, "sizes")
        for set_name, label in SET_NAMES.items():
            s = _get(report, relpath, "summary", set_name, "overall")
            rows.append(
                [
                    f"{label} ({sizes[set_name]:,}), {epochs}",
                    f"{_pct(clean['scaling'][set_name])} / {_pct(clean['baseline'][set_name])}",
                    f"{_pct(s['scaling'])} / {_pct(s['baseline'])}",
                    f"{s['gain_points']:+.1f} points",
                    f"{s['gain_relative_pct']:+.1f} %",
                    f"{s['beyond_clean_points']:+.1f} points",
                ]
            )
    header = [
        "test set",
        "clean: scaling / baseline",
        "perturbed: scaling / baseline",
        "gain",
        "relative",
        "beyond the clean gap",
    ]
    return Table(header, rows, sources, "lllrrr")


NR_MEAN_FIELD = "results/nmnist_robustness_mean_field/nmnist_robustness.json"
NR_ARMS = ("scaling", "mean_field", "baseline")


def nmnist_robustness_mean_field() -> Table:
    """The control run: scaling, the mean field and the baseline side by side (reduced data),
    mean accuracy over all perturbed levels; scaling minus each, also beyond the clean gap."""
    report, relpath = load(NR_MEAN_FIELD), NR_MEAN_FIELD
    clean = _get(report, relpath, "summary", "clean_acc")
    sizes = _get(report, relpath, "sizes")
    rows = []
    for set_name, label in SET_NAMES.items():
        s = _get(report, relpath, "summary", set_name, "overall")
        rows.append(
            [
                f"{label} ({sizes[set_name]:,})",
                " / ".join(_pct(clean[m][set_name]) for m in NR_ARMS),
                " / ".join(_pct(s[m]) for m in NR_ARMS),
                f"{s['gain_points']:+.1f} ({s['beyond_clean_points']:+.1f})",
                f"{s['vs_mean_field_points']:+.1f} ({s['vs_mean_field_beyond_clean']:+.1f})",
            ]
        )
    header = [
        "test set",
        "clean: scaling / mean field / baseline",
        "perturbed: scaling / mean field / baseline",
        "scaling − baseline (beyond clean)",
        "scaling − mean field (beyond clean)",
    ]
    return Table(header, rows, [REPO / relpath], "lllrr")


def _per_perturbation(relpath: str, columns: tuple[str, str], cells) -> Table:
    """One row per perturbation, two columns per test set: ``columns`` names them and
    ``cells(p)`` fills them from the summary's ``per_perturbation`` entry ``p``."""
    report = load(relpath)
    header, per_set = ["perturbation"], {}
    for set_name, label in SET_NAMES.items():
        per_set[set_name] = _get(report, relpath, "summary", set_name, "per_perturbation")
        header += [f"{label}: {column}" for column in columns]
    rows = []
    for name in per_set["sim_test"]:
        row = [name.replace("_", "-")]
        for set_name in SET_NAMES:
            row += cells(per_set[set_name][name])
        rows.append(row)
    return Table(header, rows, [REPO / relpath], "llrlr")


def nmnist_perturbations_mean_field() -> Table:
    """The control run per perturbation: mean perturbed accuracy of the three models and
    scaling minus the mean field, in points."""
    return _per_perturbation(
        NR_MEAN_FIELD,
        ("scaling / mean field / baseline", "scaling − mean field"),
        lambda p: [" / ".join(_pct(p[m]) for m in NR_ARMS), f"{p['vs_mean_field_points']:+.1f}"],
    )


def nmnist_perturbations(relpath: str = NR_V2) -> Table:
    """Per perturbation: mean perturbed accuracy and the gain beyond the clean gap."""
    return _per_perturbation(
        relpath,
        ("scaling / baseline", "beyond the clean gap"),
        lambda p: [
            f"{_pct(p['scaling'])} / {_pct(p['baseline'])}",
            f"{p['beyond_clean_points']:+.1f}",
        ],
    )


PAPER_GAIN_PCT = 44.0


def nmnist_levels(relpath: str = NR_V2) -> Table:
    """Where the paper's +44 % appears: per perturbation, the relative gain of scaling at each
    perturbed level (simulated test set, mean over seeds)."""
    from spikegraph.tasks.nmnist_robustness import mean_curve

    report = load(relpath)
    runs, levels = _get(report, relpath, "runs"), _get(report, relpath, "levels")
    rows = []
    for name, values in levels.items():
        scaled = mean_curve(runs, "scaling", "sim_test", name)
        base = mean_curve(runs, "baseline", "sim_test", name)
        gains = [
            100 * (s / b - 1) if b > 0 else float("nan") for s, b in zip(scaled, base, strict=True)
        ]
        best = max(range(1, len(gains)), key=lambda i: gains[i])
        above = [f"{values[i]:g}" for i in range(1, len(gains)) if gains[i] >= PAPER_GAIN_PCT]
        rows.append(
            [
                name.replace("_", "-"),
                f"{gains[best]:+.1f} % at {values[best]:g} "
                f"({_pct(scaled[best])} / {_pct(base[best])})",
                f"{min(gains[1:]):+.1f} %",
                ", ".join(above) if above else "none",
            ]
        )
    header = [
        "perturbation",
        "largest relative gain (scaling / baseline %)",
        "smallest",
        f"levels at ≥ +{PAPER_GAIN_PCT:.0f} %",
    ]
    return Table(header, rows, [REPO / relpath], "llrl")


NT_FILES = [
    f"results/nmnist_training/{m}_seed{s}.json" for s in (0, 1, 2) for m in ("baseline", "scaling")
]


def nmnist_training() -> Table:
    """Clean accuracy of both N-MNIST models after the full-data recipe."""
    rows = []
    for relpath in NT_FILES:
        for run in _get(load(relpath), relpath, "runs"):
            acc = run["clean_acc"]
            rows.append(
                [run["model"], str(run["seed"])]
                + [_pct(acc[k], 2) for k in ("sim_val", "sim_test", "real_train", "real_test")]
            )
    header = [
        "model",
        "seed",
        "validation (5,000)",
        "simulated test (10,000)",
        "real train (1,000)",
        "real test (100)",
    ]
    return Table(header, rows, [REPO / p for p in NT_FILES], "lrrrrr")


def _nmnist_clean(model: str, split: str) -> float:
    accs = [
        run["clean_acc"][split]
        for relpath in NT_FILES
        for run in load(relpath)["runs"]
        if run["model"] == model
    ]
    return sum(accs) / len(accs)


# --- continual learning ----------------------------------------------------------------------------

CL_STUDY = "results/nmnist_continual/study"


def _continual_rows(
    set_name: str, study: str = CL_STUDY, *more: str
) -> tuple[list[dict], list[Path], dict]:
    """The study's rows pooled over its folders (``study`` and ``more``, e.g. a control run
    apart), and the first folder's config."""
    from spikegraph.tasks.nmnist_continual import study_summary

    reports, paths = [], []
    for folder in (study, *more):
        found = sorted((REPO / folder).glob("*/nmnist_continual.json"))
        if not found:
            raise ResultsError(
                f"no results under {folder}; they are written by "
                "`bash results/nmnist_continual/run_study.sh`"
            )
        paths += found
        reports += [load(str(path.relative_to(REPO))) for path in found]
    return study_summary(reports, set_name), paths, reports[0]["config"]


def _continual(set_name: str, study: str = CL_STUDY, *more: str) -> Table:
    from spikegraph.tasks.nmnist_continual import format_study_table

    rows, paths, _ = _continual_rows(set_name, study, *more)
    header, cells = _parse_markdown(format_study_table(rows))
    return Table(header, cells, paths, "llrrrrrr")


def nmnist_continual_screen() -> Table:
    """The continual recipe on validation (``run_screen.sh``): 5 tasks, seed 0, ACC etc. in %."""
    from spikegraph.tasks.nmnist_continual import study_summary

    stage = {"adam": 0, "sgd": 0, "ewc": 1, "consol": 2}  # the screen's order, by folder name
    paths = sorted(
        (REPO / "results/nmnist_continual/screen").glob("*/nmnist_continual.json"),
        key=lambda p: (next((v for k, v in stage.items() if p.parent.name.startswith(k)), 3), p),
    )
    if not paths:
        raise ResultsError("no screen results; run `bash results/nmnist_continual/run_screen.sh`")
    rows = []
    for path in paths:
        report = load(str(path.relative_to(REPO)))
        cfg = report["config"]
        setting = f"{cfg['optimizer']} lr {cfg['lr']:g}"
        for r in study_summary([report], "sim_val"):
            extra = f", λ = {cfg['ewc_lambda']:g}" if "ewc" in r["method"] else ""
            rows.append(
                [
                    setting,
                    r["method"] + extra,
                    r["variant"],
                    _pct(r["acc"][0]),
                    _pct(r["la"][0]),
                    _pct(r["bwt"][0]),
                ]
            )
    header = ["optimiser", "method", "synapses", "ACC", "LA", "BWT"]
    return Table(header, rows, paths, "lllrrr")


CL_STUDY_MF = "results/nmnist_continual/study_mean_field"  # fine-tuning's control, run apart


def nmnist_continual_sim() -> Table:
    """Permuted N-MNIST, simulated test set: mean ± std over seeds per method and synapses."""
    return _continual("sim_test", CL_STUDY, CL_STUDY_MF)


def nmnist_continual_real() -> Table:
    """Permuted N-MNIST, the 100 real test recordings."""
    return _continual("real_test", CL_STUDY, CL_STUDY_MF)


CL_STUDY_ADAM = "results/nmnist_continual/study_adam"
CL_STUDY_ADAM_MF = "results/nmnist_continual/study_adam_mean_field"  # the control, run apart


def nmnist_continual_adam() -> Table:
    """Fine-tuning with and without consolidation under Adam, and the mean-field control,
    simulated test set."""
    return _continual("sim_test", CL_STUDY_ADAM, CL_STUDY_ADAM_MF)


def nmnist_continual_adam_real() -> Table:
    """The same runs on the 100 real test recordings."""
    return _continual("real_test", CL_STUDY_ADAM, CL_STUDY_ADAM_MF)


# --- OGB / large graphs ----------------------------------------------------------------------------

ARXIV_FILES = {
    "benchmarks/results/arxiv_scale.json": "arxiv-sized",
    "benchmarks/results/arxiv_scale_minibatch.json": "arxiv-sized, mini-batch",
    "benchmarks/results/arxiv_scale_quick.json": "20k nodes, same generator",
}


def arxiv_scale() -> Table:
    """``benchmarks/arxiv_scale.py``: accuracy, CPU time per epoch and memory per model."""
    rows, sources = [], []
    for relpath, graph in ARXIV_FILES.items():
        report = load(relpath)
        sources.append(REPO / relpath)
        for v in _get(report, relpath, "variants"):
            model = "GCN (ANN)" if v["model"] == "gcn" else f"SNN, T = {v['T']}"
            rows.append(
                [
                    graph,
                    model,
                    str(v["epochs"]),
                    f"{_pct(v['test_acc'])} %",
                    f"{v['epoch_cpu_s']:.3g} s",
                    f"{v['peak_rss_train_mib']:,.0f} MiB",
                ]
            )
    header = ["graph", "model", "epochs", "test acc.", "epoch CPU time", "peak RSS in training"]
    return Table(header, rows, sources, "llrrrr")


# --- performance -------------------------------------------------------------------------------------

SC_FILE = "benchmarks/results/spiking_conv.json"
SC_THP_FILE = "benchmarks/results/spiking_conv_thp.json"  # THP_MEM_ALLOC_ENABLE=1, no sweeps
RATIO_NAMES = {
    "(a)/(c)": "spiking vs ANN x T",
    "(a)/(b)": "price of scaling, repeated input",
    "(a)/(b), rate-coded input": "price of scaling, rate-coded input",
    "(d)/(a)": "research loop vs ours",
    "(e)/(a)": "torch-scatter vs CSR",
    "(f)/(a)": "price of the expected firing rate",
}
GRAPH_NAMES = {"cora": "Cora", "arxiv": "arxiv-sized"}


def _met(value: float, target: str) -> str:
    op, _, bound = target.partition(" ")
    if op == "<=":
        return "met" if value <= float(bound) else "not met"
    if op == ">=":
        return "met" if value >= float(bound) else "not met"
    return "–"


def performance_ratios(relpath: str = SC_FILE) -> Table:
    """The ratios of ``benchmarks/spiking_conv.py``, each measured side by side in one run."""
    report = load(relpath)
    graphs = _get(report, relpath, "graphs")
    header, columns = ["ratio"], []
    for graph, result in graphs.items():
        header += [GRAPH_NAMES.get(graph, graph), "target"]
        columns.append({name: (value, target) for name, value, target in result["ratios"]})
    rows = []
    for name in columns[0]:
        row = [f"{name.split(',')[0]} {RATIO_NAMES.get(name, '')}".strip()]
        for column in columns:
            value, target = column[name]
            shown = target.replace("<=", "≤").replace(">=", "≥")
            row += [f"{value:.2f}", "–" if target == "-" else f"{shown}: {_met(value, target)}"]
        rows.append(row)
    return Table(header, rows, [REPO / relpath], "l" + "rl" * len(columns))


VARIANT_NAMES = {
    "a": "(a) SpikingASConv, default scaling",
    "b": "(b) SpikingASConv, scaling=None",
    "c": "(c) GCNConv ANN x T",
    "d": "(d) per-step GCNConv + LIF loop",
    "e": "(e) (a) with torch-scatter",
    "f": "(f) (a) with target_rate=0.1",
}


def performance_variants(relpath: str = SC_FILE) -> Table:
    """Forward + backward time and peak memory of each variant, per graph."""
    report = load(relpath)
    graphs = _get(report, relpath, "graphs")
    header = ["variant"]
    for graph in graphs:
        name = GRAPH_NAMES.get(graph, graph)
        header += [f"{name}: fwd+bwd", f"{name}: peak memory"]
    keys = list(next(iter(graphs.values()))["time_s"])
    rows = []
    for key in keys:
        v, rate = key.split(":")[0], key.endswith(":rate")
        row = [VARIANT_NAMES.get(v, v) + (", rate-coded input" if rate else "")]
        for result in graphs.values():
            seconds = result["time_s"][key]
            row.append(f"{1000 * seconds:.1f} ms" if seconds < 1 else f"{seconds:.2f} s")
            peak = result["peak_mib"].get(key)
            row.append("–" if peak is None else f"{peak:,.0f} MiB")
        rows.append(row)
    return Table(header, rows, [REPO / relpath], "l" + "rr" * len(graphs))


def performance_scaling() -> Table:
    """(a) at arxiv size against the number of steps T."""
    report = load(SC_FILE)
    rows = [
        [str(T), f"{r['time_s']:.2f} s", f"{r['peak_mib'] / 1024:.1f} GiB"]
        for T, r in _get(report, SC_FILE, "scaling_T", "arxiv").items()
    ]
    return Table(["T", "fwd+bwd", "peak memory"], rows, [REPO / SC_FILE], "rrr")


def performance_edges() -> Table:
    """(a) at arxiv size (169,343 nodes, T = 4) against the number of edges."""
    report = load(SC_FILE)
    rows = [
        [f"{int(e):,}", f"{s:.2f} s"] for e, s in _get(report, SC_FILE, "scaling_edges").items()
    ]
    return Table(["edges", "fwd+bwd"], rows, [REPO / SC_FILE], "rr")


# --- the README summary ------------------------------------------------------------------------------


COMPARE_FILES = {
    "benchmarks/results/compare_cora.json": "per-edge synapse",
    "benchmarks/results/compare_arxiv.json": "per-edge synapse",
    "benchmarks/results/compare_propagate_cora.json": "aggregation through propagate()",
    "benchmarks/results/compare_propagate_arxiv.json": "aggregation through propagate()",
}


def _timing(report: dict, relpath: str, side: str) -> str:
    times, med = _get(report, relpath, "times_s", side), _get(report, relpath, "median_s", side)
    return f"{1000 * med:.0f} ({1000 * min(times):.0f}–{1000 * max(times):.0f})"


def performance_revisions() -> Table:
    """``benchmarks/compare_revisions.py``: one variant's training step under two revisions,
    alternated in fresh processes (median, and the range of the single measurements)."""
    rows = []
    for relpath, change in COMPARE_FILES.items():
        report = load(relpath)
        args = _get(report, relpath, "args")
        base, head = (_timing(report, relpath, side) for side in ("base", "head"))
        rows.append(
            [
                change,
                args["graph"],
                f"({args['variant']})",
                args["base"],
                base,
                head,
                f"{report['ratio_head_over_base']:.2f}",
            ]
        )
    header = ["change", "graph", "variant", "base", "base ms", "head ms", "head / base"]
    return Table(header, rows, [REPO / p for p in COMPARE_FILES], "lllllrr")


# --- graph robustness ----------------------------------------------------------------------------

GR_SUMMARY = "results/graph_robustness/summary.json"
GR_MODELS = {
    "relative": "per-edge",
    "share": "per-edge, share drive",
    "mean_field": "mean field",
    "none": "scaling off",
    "gcn": "GCN",
    "gnnguard": "GNNGuard",
}


def _gr_rows(main: bool) -> list[dict]:
    rows = _get(load(GR_SUMMARY), GR_SUMMARY, "rows")
    picked = []
    for r in rows:
        attack, budget = r["attack"], r["budget"]
        if attack.endswith("(white_box)") or attack.endswith("(transfer)"):
            continue  # the worse-of row stands for both
        edges = "bcd_" in attack
        at_main = attack == "clean" or budget in ((0.05,) if edges else (0.1,))
        if at_main == main:
            picked.append(r)
    return picked


def _gr_table(main: bool) -> Table:
    cells: dict[tuple, dict[str, str]] = {}
    for r in _gr_rows(main):
        key = (r["dataset"], r["attack"], r["budget"])
        n = len(r["seeds"])
        cells.setdefault(key, {})[r["model"]] = (
            f"{_pct(r['acc_mean'])} ± {_pct(r['acc_std'])} ({n})"
        )
    models = [m for m in GR_MODELS if any(m in c for c in cells.values())]
    rows = []
    for (dataset, attack, budget), by_model in cells.items():
        unit = "" if attack == "clean" else f"{100 * budget:g} %"
        rows.append([dataset, attack, unit, *(by_model.get(m, "–") for m in models)])
    header = ["dataset", "attack", "budget", *(GR_MODELS[m] for m in models)]
    return Table(header, rows, [REPO / GR_SUMMARY], "lll" + "r" * len(models))


def graph_robustness() -> Table:
    """Test accuracy % (mean ± std (seeds)) at the goal's budgets: 10 % of the nodes, 5 % of the
    edges; structure attacks: the worse of white-box and GCN transfer per seed."""
    return _gr_table(main=True)


def graph_robustness_sweep() -> Table:
    """The other budgets of the study (5, 20, 30 % of the nodes; 1 and 10 % of the edges), with
    as many seeds as finished."""
    return _gr_table(main=False)


def _paired(goal: dict, key: str) -> str:
    """``+1.8 ± 0.6 (8/10)``: mean paired difference ± standard error (seeds ahead / seeds)."""
    if key not in goal:
        return "–"
    text = f"{goal[key]:+.1f}"
    if goal.get(f"{key}_se") is not None:
        text += f" ± {goal[f'{key}_se']:.1f}"
    if f"{key}_ahead" in goal:
        text += f" ({goal[f'{key}_ahead']}/{len(goal['seeds'])})"
    return text


def _gr_paired_table(main: bool) -> Table:
    from spikegraph.tasks.graph_robustness import DRIVES  # the study's non-default drives

    goals = _get(load(GR_SUMMARY), GR_SUMMARY, "goals")
    wanted = {(r["dataset"], r["attack"], r["budget"]) for r in _gr_rows(main)}
    rows = []
    for g in goals:
        if (g["dataset"], g["attack"], g["budget"]) not in wanted:
            continue
        deltas = [_paired(g, k) for k in ("vs_mean_field", "vs_none", "vs_gcn")]
        budget = "" if g["attack"] == "clean" else f"{100 * g['budget']:g} %"
        drive = DRIVES.get(g["model"], "coincidence")
        rows.append([g["dataset"], g["attack"], budget, drive, *deltas, str(len(g["seeds"]))])
    header = ["dataset", "attack", "budget", "drive", "vs mean field", "vs scaling off", "vs GCN"]
    return Table([*header, "seeds"], rows, [REPO / GR_SUMMARY], "llllrrrr")


def graph_robustness_goals() -> Table:
    """Per-edge minus each control (points of test accuracy) at the main budgets, paired by
    seed, for each drive: mean ± standard error, and the seeds on which the per-edge synapse
    is ahead."""
    return _gr_paired_table(main=True)


def graph_robustness_sweep_goals() -> Table:
    """The same paired differences at the sweep's budgets."""
    return _gr_paired_table(main=False)


def summary() -> Table:
    """One line per experiment, with a link to its guide (for README.md)."""

    def node(dataset: str, setting: str) -> dict:
        return load(RATE_STUDY.format(dataset, setting))

    def acc(report: dict) -> str:
        return f"{_pct(report['test_acc_mean'], 2)} ± {_pct(report['test_acc_std'], 2)}"

    guide = "docs/guides/{}.md"
    rows = []
    for dataset, label in (("cora", "Cora"), ("citeseer", "CiteSeer")):
        # scaling off at the same expected rate: the rate study's none_target01
        scaled, none, gcn = (node(dataset, s) for s in ("target01", "none_target01", "gcn"))
        if dataset in DEFAULT_RUNS:  # the same settings, run by the default command
            scaled = load(DEFAULT_RUN.format(dataset))
        rows.append(
            [
                f"{label}: test accuracy %, 10 seeds, T = {scaled['config']['T']}, target rate 0.1 "
                f"(`python examples/{dataset}.py --runs 10`)",
                acc(scaled),
                acc(none),
                f"GCN {acc(gcn)}",
                f"[node classification]({guide.format('node_classification')})",
            ]
        )
    for dataset, label in DATASET_NAMES.items():
        final = _final_reports(dataset)
        if final is None:
            continue
        scaled, none, gcn = (final[m][1] for m in ("snn", "none", "gcn"))
        rows.append(
            [
                f"{label}: test accuracy %, 10 seeds, target rate 0.1, options chosen on "
                f"validation (row-normalised input, {scaled['energy_uj']:.0f} µJ)",
                acc(scaled),
                acc(none),
                f"GCN {acc(gcn)}",
                f"[node classification]({guide.format('node_classification')})",
            ]
        )
    scaled, none, free = (
        load(DEFAULT_RUN.format("cora")),
        node("cora", "none_target01"),
        node("cora", "free"),
    )
    rows.append(
        [
            "Cora: hidden firing rate (default target 0.1 / free)",
            f"{scaled['firing_rate_mean']:.3f}",
            f"{none['firing_rate_mean']:.3f}",
            f"scaling, `--target-rate none`: {free['firing_rate_mean']:.3f}",
            f"[node classification]({guide.format('node_classification')})",
        ]
    )
    fc = load(FC_ROBUSTNESS)
    fc_summary = load(FC_SUMMARY)
    clean = fc_summary["clean_test_acc_mean"]
    rows.append(
        [
            "Cora under graph perturbations: accuracy gain, points",
            _points(fc["gain_mean_disturbed"]),
            "–",
            f"clean gap {_points(clean['scaling'] - clean['none'])}",
            f"[firing-rate study]({guide.format('firing_study')})",
        ]
    )
    rows.append(
        [
            f"N-MNIST clean accuracy %, full-data recipe, simulated test set, {len(NT_FILES) // 2} seeds",
            _pct(_nmnist_clean("scaling", "sim_test"), 2),
            _pct(_nmnist_clean("baseline", "sim_test"), 2),
            "target 97",
            f"[N-MNIST robustness]({guide.format('nmnist_robustness')})",
        ]
    )
    nr_path = next(iter(NR_RUNS))
    nr = load(nr_path)
    overall = nr["summary"]["sim_test"]["overall"]
    nr_clean = nr["summary"]["clean_acc"]
    rows.append(
        [
            "N-MNIST under 7 perturbations: accuracy % (simulated test set)",
            _pct(overall["scaling"]),
            _pct(overall["baseline"]),
            f"clean {_pct(nr_clean['scaling']['sim_test'])} / {_pct(nr_clean['baseline']['sim_test'])}",
            f"[N-MNIST robustness]({guide.format('nmnist_robustness')})",
        ]
    )
    control = load(NR_MEAN_FIELD)["summary"]["sim_test"]["overall"]
    rows.append(
        [
            "N-MNIST under 7 perturbations, reduced data (10,000 recordings), 3 seeds: accuracy % "
            "(simulated test set)",
            _pct(control["scaling"]),
            _pct(control["baseline"]),
            f"mean field {_pct(control['mean_field'])}",
            f"[N-MNIST robustness]({guide.format('nmnist_robustness')})",
        ]
    )
    rows.extend(_continual_summary_rows(guide))
    rows.extend(_task_rows(guide))
    sc = load(SC_FILE)["graphs"]["arxiv"]["time_s"]
    rows.append(
        [
            "2-layer forward + backward, arxiv-sized graph, T = 8",
            f"{sc['a']:.1f} s",
            f"{sc['b']:.1f} s",
            f"per-step GCNConv + LIF loop {sc['d']:.1f} s",
            f"[performance]({guide.format('performance')})",
        ]
    )
    header = ["result", "with scaling", "scaling off", "reference", "guide"]
    return Table(header, rows, [], "lrrll")


def _continual_summary_rows(guide: str) -> list[list[str]]:
    """The summary's lines for permuted N-MNIST: SGD (fine-tuning, EWC, consolidation), Adam."""
    rows = []
    cl_rows, _, cl_config = _continual_rows("sim_test")
    cl = {(r["method"], r["variant"]): r for r in cl_rows}
    consolidated = next((v for m, v in cl if m == "finetune" and "consolidation" in v), None)
    pairs = [
        ("finetune", cl_config["scaling"], "fine-tuning"),
        ("ewc", cl_config["scaling"], "EWC"),
    ]
    if consolidated is not None:
        pairs.append(("finetune", consolidated, f"fine-tuning, {consolidated.split(' + ')[1]}"))
    for method, variant, label in pairs:
        scaled, none = cl[(method, variant)], cl[(method, "none")]
        rows.append(
            [
                f"permuted N-MNIST, {cl_config['tasks']} tasks, {label}: final ACC %, "
                f"{len(scaled['seeds'])} seeds",
                _pct(scaled["acc"][0]),
                _pct(none["acc"][0]),
                f"paper: +25 % relative; here {scaled['gain_relative_pct']:+.1f} %",
                f"[continual learning]({guide.format('continual')})",
            ]
        )
    adam_rows = _continual_rows("sim_test", CL_STUDY_ADAM, CL_STUDY_ADAM_MF)[0]
    adam = {(r["method"], r["variant"]): r for r in adam_rows}
    scaled, none = adam[("finetune", cl_config["scaling"])], adam[("finetune", "none")]
    mean_field = adam[("finetune", "mean_field")]
    rows.append(
        [
            f"permuted N-MNIST, {cl_config['tasks']} tasks, fine-tuning with Adam: final ACC %, "
            f"{len(scaled['seeds'])} seeds",
            _pct(scaled["acc"][0]),
            _pct(none["acc"][0]),
            f"mean field {_pct(mean_field['acc'][0])}; paper: +25 % relative; "
            f"here {scaled['gain_relative_pct']:+.1f} %",
            f"[continual learning]({guide.format('continual')})",
        ]
    )
    return rows


def _task_rows(guide: str) -> list[list[str]]:
    """The summary's lines for the other tasks: graph classification, link prediction, the
    zoo and the robustness study (each from its own summary file)."""
    gc = _get(load(GC_SUMMARY), GC_SUMMARY, "rows")
    done = {r["dataset"] for r in gc if r["folds"] == r.get("folds_planned", r["folds"])}
    done = {d for d in done if sum(r["dataset"] == d and r["folds"] == 10 for r in gc) == 3}
    mean = {
        m: sum(r["acc_mean"] for r in gc if r["model"] == m and r["dataset"] in done) / len(done)
        for m in GC_MODELS
    }
    met = sum(
        t["accuracy_met"] and t["firing_met"]
        for t in load(GC_SUMMARY)["targets"]
        if t["dataset"] in done
    )
    rows = [
        [
            f"TU graph classification, {len(done)} datasets, 10-fold CV: mean test accuracy % "
            f"(within 1 point of the better twin at firing ≤ 0.15 on {met} of {len(done)})",
            _pct(mean["snn"]),
            "–",
            f"GIN {_pct(mean['gin'])} / GCN {_pct(mean['gcn'])}",
            f"[graph classification]({guide.format('graph_classification')})",
        ]
    ]
    link = {(r["dataset"], r["model"]): r for r in load(LINK_FILE)}
    for dataset in ("Cora", "CiteSeer"):
        snn, gae = link[(dataset, "snn")], link[(dataset, "gae")]
        rows.append(
            [
                f"{dataset} link prediction: test AUC %, {len(snn['seeds'])} seeds, "
                f"hidden firing {snn['firing_rate']:.2f}",
                f"{_pct(snn['auc_mean'])} ± {_pct(snn['auc_std'])}",
                "–",
                f"GAE {_pct(gae['auc_mean'])} ± {_pct(gae['auc_std'])} ({len(gae['seeds'])} seeds)",
                f"[link prediction]({guide.format('link_prediction')})",
            ]
        )
    zoo = [r for r in _get(load(ZOO_FILE), ZOO_FILE, "rows") if r["split"] == "random"]
    for dataset in ("Cora", "CiteSeer"):
        ours = next(
            (r for r in zoo if r["dataset"] == dataset and r["model"] == "spikinggnn"), None
        )
        peers = [
            r for r in zoo if r["dataset"] == dataset and r["model"] not in ("spikinggnn", "gcn")
        ]
        if ours is None or not peers:
            continue
        best = max(peers, key=lambda r: r["acc_mean"])
        rows.append(
            [
                f"{dataset}, SGNNBench's random splits: SpikingGNN (target rate 0.1) against the "
                f"best spiking peer of the zoo, test accuracy % (seeds)",
                f"{_pct(ours['acc_mean'])} ({len(ours['seeds'])})",
                "–",
                f"{best['label']} {_pct(best['acc_mean'])} ({len(best['seeds'])})",
                f"[model zoo]({guide.format('zoo')})",
            ]
        )
    gr = {
        (r["dataset"], r["model"]): r
        for r in _gr_rows(main=True)
        if r["attack"] == "feature_injection(words=200)"
    }
    for dataset in ("Cora", "CiteSeer"):
        if (dataset, "relative") not in gr:
            continue
        edge, off = gr[(dataset, "relative")], gr.get((dataset, "none"))
        mf, gcn = gr.get((dataset, "mean_field")), gr.get((dataset, "gcn"))
        share = gr.get((dataset, "share"))
        rows.append(
            [
                f"{dataset}, 200 words injected into 10 % of the nodes: test accuracy %, "
                f"{len(edge['seeds'])} seed(s), per-edge synapse with the coincidence / share drive",
                _pct(edge["acc_mean"]) + ("" if share is None else f" / {_pct(share['acc_mean'])}"),
                "–" if off is None else _pct(off["acc_mean"]),
                ("mean field " + ("–" if mf is None else _pct(mf["acc_mean"])))
                + (" / GCN " + ("–" if gcn is None else _pct(gcn["acc_mean"]))),
                f"[graph robustness]({guide.format('graph_robustness')})",
            ]
        )
    return rows


# --- the model zoo ---------------------------------------------------------------------------

ZOO_FILE = "results/zoo/summary.json"


def zoo() -> Table:
    """Every zoo model x dataset x split (``benchmarks/zoo.py``'s own Markdown rows)."""
    rows = _get(load(ZOO_FILE), ZOO_FILE, "rows")
    fmt = _import_path("_zoo_benchmark", "benchmarks/zoo.py")
    header, cells = _parse_markdown(fmt.markdown_table(rows))
    return Table(header, cells, [REPO / ZOO_FILE], "llllrrrrr")


def zoo_reproduction() -> Table:
    """The zoo's random-split rows against SGNNBench's Table 13."""
    rows = _get(load(ZOO_FILE), ZOO_FILE, "rows")
    fmt = _import_path("_zoo_benchmark", "benchmarks/zoo.py")
    header, cells = _parse_markdown(fmt.reproduction_table(rows))
    return Table(header, cells, [REPO / ZOO_FILE], "lllrrrr")


ZOO_TUNING_DIR = "results/zoo/tuning"


def zoo_tuning_spikegt() -> Table:
    """SpikeGT's recipe variants on Cora's random splits, best validation accuracy first
    (``benchmarks/zoo_tune.py``)."""
    folder = REPO / ZOO_TUNING_DIR / "spikegt"
    files = sorted(folder.glob("*__*__*__*.json"))
    if not files:
        hint = WRITERS[f"{ZOO_TUNING_DIR}/spikegt"]
        raise ResultsError(f"no runs in {ZOO_TUNING_DIR}/spikegt; they are written by `{hint}`")
    fmt = _import_path("_zoo_tune", "benchmarks/zoo_tune.py")
    rows = fmt.ranking([json.loads(f.read_text()) for f in files])
    header, cells = _parse_markdown(fmt.markdown(rows))
    return Table(header, cells, files, "llrrrr")


ZOO_PROPAGATION = "results/zoo/propagation/{}_{}_K{}_a{}.json"
ZOO_PROPAGATION_FINAL = "results/zoo/propagation/final/{}_{}.json"
PROPAGATION_VARIANTS = ((0, 0.1), (10, 0.1), (10, 0.2))
PROPAGATION_MODELS = {"snn": "SNN, target rate 0.1", "gcn": "GCN twin"}


def _propagation_name(K: int, alpha: float) -> str:  # noqa: N803 (the reports' key)
    return "none" if K == 0 else f"K = {K}, α = {alpha:g}"


def _propagation_screen(dataset: str, model: str) -> list[tuple[str, dict]]:
    """``(relpath, report)`` of each screened variant of one model, no propagation first."""
    paths = [ZOO_PROPAGATION.format(dataset, model, k, a) for k, a in PROPAGATION_VARIANTS]
    return [(relpath, load(relpath)) for relpath in paths]


def zoo_propagation() -> Table:
    """An APPNP read-out on the public split against none, on validation (seeds 0-2;
    ``benchmarks/readout_propagation.py``); test accuracy shown, not used to choose."""
    from spikegraph.tasks.node_classification import mean_std

    rows, sources = [], []
    for dataset in ("Cora", "CiteSeer"):
        for model, label in PROPAGATION_MODELS.items():
            for relpath, report in _propagation_screen(dataset, model):
                val = mean_std([r["val_acc"] for r in _get(report, relpath, "runs")])
                rate = report.get("firing_rate_mean")
                rows.append([
                    dataset, label, _propagation_name(**_get(report, relpath, "propagation")),
                    f"{_pct(val[0], 2)} ± {_pct(val[1], 2)}",
                    _pct(_get(report, relpath, "test_acc_mean"), 2),
                    "–" if rate is None else f"{rate:.3f}",
                ])  # fmt: skip
                sources.append(REPO / relpath)
    header = ["dataset", "model", "propagation", "validation %", "test %", "firing"]
    return Table(header, rows, sources, "lllrrr")


def zoo_propagation_final() -> Table:
    """10 seeds of each model with the propagation chosen on validation (as
    ``results/zoo/run_propagation.sh`` chooses it), beside the same model without it
    (``results/node_classification/protocol_final``)."""
    rp = _import_path("_readout_propagation", "benchmarks/readout_propagation.py")
    rows, sources = [], []
    for dataset in ("Cora", "CiteSeer"):
        for model, label in PROPAGATION_MODELS.items():
            k, alpha = rp.chosen([report for _, report in _propagation_screen(dataset, model)])
            plain_path = FINAL.format(dataset.lower(), model)
            chosen_path = plain_path if k == 0 else ZOO_PROPAGATION_FINAL.format(dataset, model)
            cells = []
            for relpath in (chosen_path, plain_path):
                report = load(relpath)
                acc = f"{_pct(_get(report, relpath, 'test_acc_mean'), 2)} ± "
                acc += f"{_pct(_get(report, relpath, 'test_acc_std'), 2)}"
                cells.append(f"{acc} ({len(_get(report, relpath, 'runs'))})")
                sources.append(REPO / relpath)
            rate = load(chosen_path).get("firing_rate_mean")
            firing = "–" if rate is None else f"{rate:.3f}"
            rows.append([dataset, label, _propagation_name(k, alpha), *cells, firing])
    header = ["dataset", "model", "chosen on validation", "test % with it", "test % without",
              "firing"]  # fmt: skip
    return Table(header, rows, sources, "lllrrr")


PEER_ACCURACY_FILE = "benchmarks/results/peer_accuracy.json"
PEER_SPEED_FILE = "benchmarks/results/peer_speed.json"
# the peers by the zoo's names and by peer_speed.py's (gc_snn)
PEER_LABELS = {
    "spikegcl": "SpikeGCL",
    "spikegt": "SpikeGT",
    "gcsnn": "GC-SNN",
    "gc_snn": "GC-SNN",
    "spikinggcn": "SpikingGCN",
    "gcn": "GCN",
}


def _acc_seeds(row: dict) -> str:
    """``75.26 ± 1.28 (5)``: test accuracy %, mean ± std, and the number of seeds."""
    return f"{_pct(row['acc_mean'], 2)} ± {_pct(row['acc_std'], 2)} ({len(row['seeds'])})"


def zoo_peer_accuracy() -> Table:
    """SGNNBench's own code on the zoo's random splits (``benchmarks/peer_accuracy.py``) beside
    its published number and our implementation's row of the zoo."""
    peer = load(PEER_ACCURACY_FILE)
    ours = {
        (r["model"], r["dataset"]): r
        for r in _get(load(ZOO_FILE), ZOO_FILE, "rows")
        if r["split"] == "random"
    }
    rows = []
    for r in _get(peer, PEER_ACCURACY_FILE, "rows"):
        mine = ours.get((r["model"], r["dataset"]))
        published = r["sgnnbench_table13"]
        rows.append(
            [
                PEER_LABELS.get(r["model"], r["model"]),
                r["dataset"],
                f"{published:.2f}" if published is not None else "–",
                _acc_seeds(r),
                "–" if mine is None else _acc_seeds(mine),
            ]
        )
    header = ["model", "dataset", "SGNNBench, published %", "their code here %", "ours here %"]
    return Table(header, rows, [REPO / PEER_ACCURACY_FILE, REPO / ZOO_FILE], "llrrr")


def zoo_speed() -> Table:
    """Seconds per training epoch, our zoo model against SGNNBench's own code, side by side in
    one process (``benchmarks/peer_speed.py``), and the ratio against the 3x target."""
    report = load(PEER_SPEED_FILE)
    rows = []
    for row in _get(report, PEER_SPEED_FILE, "rows"):
        if "speedup" not in row:  # their code was not given or did not run
            continue
        name = PEER_LABELS.get(row["model"], row["ours_impl"])
        ratio = row["speedup"]
        rows.append(
            [
                name,
                str(row["T"]),
                str(row["hidden"]),
                f"{row['ours_epoch_s']:.2f}",
                f"{row['theirs_epoch_s']:.2f}",
                f"{ratio:.1f}x ({'met' if ratio >= 3 else 'not met'})",
            ]
        )
    header = ["model", "T", "width", "ours (s/epoch)", "SGNNBench (s/epoch)", "speed-up (>= 3x)"]
    return Table(header, rows, [REPO / PEER_SPEED_FILE], "lrrrrl")


# --- graph classification ----------------------------------------------------------------------

GC_SUMMARY = "results/graph_classification/summary.json"
GC_MODELS = {"snn": "SNN (SpikingASConv)", "gin": "GIN", "gcn": "GCN"}


def graph_classification() -> Table:
    """TU datasets, Errica et al.'s protocol: one row per dataset and model, the gap of the
    spiking model to the better twin, and the GIN anchor of the literature."""
    summary = load(GC_SUMMARY)
    targets = {t["dataset"]: t for t in _get(summary, GC_SUMMARY, "targets")}
    rows = []
    for row in _get(summary, GC_SUMMARY, "rows"):
        dataset, model = row["dataset"], row["model"]
        target = targets.get(dataset)
        gap = "–"
        if model == "snn" and target is not None:
            met = "met" if target["accuracy_met"] and target["firing_met"] else "not met"
            gap = f"{_points(target['gap'])} vs {target['better_twin'].upper()} ({met})"
        anchor = target and target.get("gin_anchor") if model == "gin" else None
        firing = "–"
        if row["firing_rate"] is not None:
            firing = f"{row['firing_rate']:.3f} (max {row['firing_max_layer']:.3f})"
        rows.append(
            [
                dataset,
                GC_MODELS.get(model, model),
                f"{_pct(row['acc_mean'])} ± {_pct(row['acc_std'])}",
                f"{row['folds']} / {row.get('folds_planned', row['folds'])}",
                firing,
                gap,
                _pct(anchor) if anchor else "–",
            ]
        )
    header = [
        "dataset",
        "model",
        "test acc. % (mean ± std)",
        "folds run",
        "hidden firing: mean (layer max)",
        "SNN − better twin (points)",
        "GIN anchor %",
    ]
    return Table(header, rows, [REPO / GC_SUMMARY], "llrrrlr")


GC_SCREEN = "results/graph_classification/screen/summary.json"


def graph_classification_screen() -> Table:
    """The spiking model's recipe screen on MUTAG: selection by inner-validation accuracy."""
    screen = load(GC_SCREEN)
    rows = []
    for row in _get(screen, GC_SCREEN, "rows"):
        changed = ", ".join(f"{k}={v}" for k, v in row["changed"].items()) or "defaults"
        rows.append(
            [
                row["variant"],
                changed,
                str(row["folds"]),
                _pct(row["val_acc_mean"]),
                f"{_pct(row['acc_mean'])} ± {_pct(row['acc_std'])}",
                f"{row['firing_rate']:.3f} (max {row['firing_max_layer']:.3f})",
            ]
        )
    header = ["variant", "recipe", "folds", "val. acc. %", "test acc. %", "hidden firing"]
    return Table(header, rows, [REPO / GC_SCREEN], "llrrrl")


# --- link prediction -----------------------------------------------------------------------------

LINK_FILE = "results/link_prediction/summary.json"
LINK_ANCHORS = {"Cora": (0.910, 0.920), "CiteSeer": (0.895, 0.899)}  # GAE, Kipf & Welling 2016


def link_prediction() -> Table:
    """Test AUC / AP (mean ± std over seeds, model kept at best validation AUC) of the spiking
    auto-encoder and its GAE twin, with the published GAE numbers beside them."""
    rows_in = load(LINK_FILE)
    rows = []
    for r in rows_in:

        def get(*keys: str, r: dict = r):
            return _get(r, LINK_FILE, *keys)

        anchor = LINK_ANCHORS.get(get("dataset")) if get("model") == "gae" else None
        ap_std = r.get("ap_std")
        rate = get("firing_rate")
        rows.append(
            [
                get("dataset"),
                get("model"),
                f"{_pct(get('auc_mean'))} ± {_pct(get('auc_std'))}",
                _pct(get("ap_mean")) + ("" if ap_std is None else f" ± {_pct(ap_std)}"),
                _pct(r["hits@20_mean"]) if "hits@20_mean" in r else "–",
                "–" if rate is None else f"{rate:.3f}",
                str(len(get("seeds"))),
                "–" if anchor is None else f"{_pct(anchor[0])} / {_pct(anchor[1])}",
            ]
        )
    header = [
        "dataset",
        "model",
        "test AUC %",
        "test AP %",
        "Hits@20 %",
        "firing rate",
        "seeds",
        "GAE published AUC / AP",
    ]
    return Table(header, rows, [REPO / LINK_FILE], "llllrrrl")


LINK_SCREEN_FILE = "results/link_prediction/screen/summary.json"


def link_prediction_screen() -> Table:
    """The spiking encoder's settings screened on Cora, judged on validation AUC only: each
    screened variant beside the default SNN and the GAE twin on the same seeds."""
    screen = load(LINK_SCREEN_FILE)
    seeds = sorted({s for row in screen for s in _get(row, LINK_SCREEN_FILE, "seeds")})
    rows = []
    for label, stem in (("GAE twin", "gae"), ("SNN, defaults", "snn")):
        runs = [
            _get(load(f"results/link_prediction/cora_{stem}_seed{s}.json"), LINK_FILE, "result")
            for s in seeds
        ]
        rates = [r["firing_rate"] for r in runs if r.get("firing_rate") is not None]
        rows.append(
            [
                label,
                _pct(sum(r["val_auc"] for r in runs) / len(runs)),
                f"{sum(rates) / len(rates):.3f}" if rates else "–",
                str(len(runs)),
            ]
        )
    for row in screen:
        rate = _get(row, LINK_SCREEN_FILE, "firing_rate")
        rows.append(
            [
                _get(row, LINK_SCREEN_FILE, "model"),
                _pct(_get(row, LINK_SCREEN_FILE, "val_auc_mean")),
                "–" if rate is None else f"{rate:.3f}",
                str(len(_get(row, LINK_SCREEN_FILE, "seeds"))),
            ]
        )
    header = ["Cora, seeds " + ", ".join(map(str, seeds)), "val. AUC %", "firing rate", "seeds"]
    return Table(header, rows, [REPO / LINK_SCREEN_FILE], "lrrr")


TABLES: dict[str, Callable[[], Table]] = {
    "node_classification": node_classification,
    "node_scale": node_scale,
    "rate_study": rate_study,
    "node_default": node_default,
    "protocol_screen": protocol_screen,
    "protocol_final": protocol_final,
    "nmnist_training": nmnist_training,
    "firing_callback": firing_callback,
    "firing_robustness": firing_robustness,
    "nmnist_robustness": nmnist_robustness,
    "nmnist_robustness_mean_field": nmnist_robustness_mean_field,
    "nmnist_perturbations_mean_field": nmnist_perturbations_mean_field,
    "nmnist_perturbations": nmnist_perturbations,
    "nmnist_levels": nmnist_levels,
    "nmnist_continual_screen": nmnist_continual_screen,
    "nmnist_continual_sim": nmnist_continual_sim,
    "nmnist_continual_real": nmnist_continual_real,
    "nmnist_continual_adam": nmnist_continual_adam,
    "nmnist_continual_adam_real": nmnist_continual_adam_real,
    "arxiv_scale": arxiv_scale,
    "performance_ratios": performance_ratios,
    "performance_variants": performance_variants,
    "performance_ratios_thp": lambda: performance_ratios(SC_THP_FILE),
    "performance_variants_thp": lambda: performance_variants(SC_THP_FILE),
    "performance_scaling": performance_scaling,
    "performance_edges": performance_edges,
    "performance_revisions": performance_revisions,
    "zoo": zoo,
    "zoo_reproduction": zoo_reproduction,
    "zoo_speed": zoo_speed,
    "zoo_peer_accuracy": zoo_peer_accuracy,
    "zoo_tuning_spikegt": zoo_tuning_spikegt,
    "zoo_propagation": zoo_propagation,
    "zoo_propagation_final": zoo_propagation_final,
    "graph_robustness": graph_robustness,
    "graph_robustness_goals": graph_robustness_goals,
    "graph_robustness_sweep": graph_robustness_sweep,
    "graph_robustness_sweep_goals": graph_robustness_sweep_goals,
    "graph_classification": graph_classification,
    "graph_classification_screen": graph_classification_screen,
    "link_prediction": link_prediction,
    "link_prediction_screen": link_prediction_screen,
    "summary": summary,
}


def readme_with_summary(text: str) -> str:
    """``text`` (README.md) with the generated summary between its markers."""
    start, end = text.find(README_START), text.find(README_END)
    if start < 0 or end < start:
        raise ResultsError(f"README.md lacks the {README_START} ... {README_END} markers")
    block = f"{README_START}\n{summary().markdown()}\n"
    return text[:start] + block + text[end:]


# --- Sphinx ------------------------------------------------------------------------------------------


def setup(app):
    from docutils import nodes
    from sphinx.util.docutils import SphinxDirective

    class ResultsTable(SphinxDirective):
        """``.. results-table:: NAME``: the table ``TABLES[NAME]`` with its source files."""

        required_arguments = 1
        has_content = False

        def run(self):
            name = self.arguments[0]
            if name not in TABLES:
                raise self.error(f"unknown results table {name!r}; known: {', '.join(TABLES)}")
            try:
                table = TABLES[name]()
            except ResultsError as exc:
                raise self.error(str(exc)) from None
            for path in table.sources:
                self.env.note_dependency(str(path))
            return [_table_node(table), _source_node(table)]

    def _cell(text: str):
        entry = nodes.entry()
        entry += nodes.paragraph(text=text)
        return entry

    def _table_node(table: Table):
        node = nodes.table(classes=["results-table"])
        group = nodes.tgroup(cols=len(table.header))
        node += group
        for _ in table.header:
            group += nodes.colspec(colwidth=1)
        head = nodes.thead()
        row = nodes.row()
        for text in table.header:
            row += _cell(text)
        head += row
        group += head
        body = nodes.tbody()
        for cells in table.rows:
            row = nodes.row()
            for text in cells:
                row += _cell(text)
            body += row
        group += body
        return node

    def _source_node(table: Table):
        para = nodes.paragraph(classes=["results-source"])
        para += nodes.Text("Generated from ")
        for i, path in enumerate(table.sources):
            if i:
                para += nodes.Text(", ")
            para += nodes.literal(text=str(path.relative_to(REPO)))
        para += nodes.Text(".")
        return para

    app.add_directive("results-table", ResultsTable)
    return {"parallel_read_safe": True, "parallel_write_safe": True}


def main(argv: list[str] | None = None) -> int:
    import argparse

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("name", nargs="?", help="a table to print as Markdown")
    parser.add_argument("--list", action="store_true", help="name the tables")
    parser.add_argument("--readme", action="store_true", help="rewrite README.md's summary")
    args = parser.parse_args(argv)
    if args.list:
        print("\n".join(TABLES))
    elif args.readme:
        path = REPO / "README.md"
        path.write_text(readme_with_summary(path.read_text()))
    elif args.name in TABLES:
        print(TABLES[args.name]().markdown())
    else:
        parser.error("give a table name, --list or --readme")
    return 0


if __name__ == "__main__":
    sys.path.insert(0, str(REPO))
    sys.exit(main())
