"""The study's figures (matplotlib, imported only when drawing): one PNG per part."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch

from spikegraph.tasks.firing_callback.analysis import (
    VARIANTS,
    fixed_point_check,
    predicted_fixed_points,
)

__all__ = ["plot_callback", "plot_fixed_point", "plot_sparse_coding", "plot_robustness"]

COLORS = {"scaling": "tab:blue", "none": "tab:orange"}
LABELS = {"scaling": "adaptive scaling", "none": "no scaling"}


def _figure(ncols: int, figsize: tuple[float, float], **kwargs: Any):
    """A matplotlib figure with ``ncols`` axes (no pyplot: the global backend is untouched)."""
    try:
        from matplotlib.figure import Figure
    except ImportError as err:  # pragma: no cover - depends on the environment
        raise ImportError("the figures need matplotlib: pip install spikegraph[plot]") from err
    fig = Figure(figsize=figsize)
    return fig, fig.subplots(1, ncols, **kwargs)


def _save(fig, path: Path) -> None:
    fig.tight_layout()
    fig.savefig(path, dpi=120)


def _intensity_keys(raw_variant: dict[str, Any]) -> list[tuple[float, str]]:
    keys = [(float(k.split("=")[1]), k) for k in raw_variant if k.startswith("intensity=")]
    return sorted([(1.0, "clean"), *keys])


def plot_callback(results: dict[str, Any], path: Path) -> None:
    """Per-step firing rate under intensity scaling (scaling | none) and the final-step
    distance from the clean rate for every disturbance."""
    from matplotlib import colormaps

    raw, layer = results["raw"], results["callback"]["layer"]
    fig, axes = _figure(3, (15, 4.2), gridspec_kw={"width_ratios": [1, 1, 1.4]})
    cmap = colormaps["coolwarm"]
    for ax, variant in zip(axes[:2], VARIANTS, strict=True):
        keys = _intensity_keys(raw[variant])
        for i, (factor, key) in enumerate(keys):
            rates = raw[variant][key]["rate_per_step"][layer]
            color = "black" if key == "clean" else cmap(i / max(1, len(keys) - 1))
            steps = range(1, len(rates) + 1)
            ax.plot(steps, rates, marker="o", color=color, label=f"input x{factor:g}")
        ax.set(title=f"{LABELS[variant]}: {layer}", xlabel="time step t", ylabel="firing rate")
        ax.legend(fontsize=8)
    axes[1].sharey(axes[0])
    _distance_bars(axes[2], results["callback"]["table"])
    _save(fig, path)


def _distance_bars(ax, table: list[dict[str, Any]]) -> None:
    names = [f"{r['perturbation']}\n{r['level']:g}" for r in table]
    pos = torch.arange(len(table)).double()
    for shift, variant in ((-0.2, "scaling"), (0.2, "none")):
        values = [r[f"{variant}_distance_final"] for r in table]
        ax.bar(pos + shift, values, width=0.4, color=COLORS[variant], label=LABELS[variant])
    ax.set_xticks(pos.tolist(), names, fontsize=8)
    ax.set(ylabel="|rate(T) - clean rate(T)|", title="final-step distance from the clean rate")
    ax.legend()


def plot_fixed_point(results: dict[str, Any], path: Path) -> None:
    """Scaling model, first layer: distance of the transmitted intensity from x* per step;
    measured final intensity against x* per synapse; final intensity ratio vs input factor."""
    raw = results["raw"]
    name = next(iter(raw["scaling"]["clean"]["traces"]))
    fig, axes = _figure(3, (15, 4.2))
    for key, m in raw["scaling"].items():
        rec, shape = m["traces"][name], m["shapes"][name]
        gap = fixed_point_check(rec, shape)["transmitted_gap_per_step"]
        axes[0].plot(range(1, len(gap) + 1), gap, marker="o", label=key)
    note = "time step t\n(edge perturbations leave the drive of every kept synapse as it was)"
    axes[0].set(xlabel=note, ylabel="mean |u(t) - x*|", yscale="log")
    axes[0].set_title(f"scaling: {name}, distance from the fixed point")
    axes[0].legend(fontsize=7)
    _fixed_point_scatter(axes[1], raw["scaling"], name)
    _intensity_ratio(axes[2], raw, name)
    _save(fig, path)


def _fixed_point_scatter(ax, raw_variant: dict[str, Any], name: str) -> None:
    for factor, key in _intensity_keys(raw_variant):
        rec, shape = raw_variant[key]["traces"][name], raw_variant[key]["shapes"][name]
        x_star = predicted_fixed_points(shape, rec["drive"].mean(0), rec["experience"])
        ax.scatter(x_star, rec["transmitted"][-1], s=4, alpha=0.5, label=f"input x{factor:g}")
    hi = float(ax.get_xlim()[1])
    ax.plot([0, hi], [0, hi], color="black", lw=1, label="u(T) = x*")
    ax.set(xlabel="predicted fixed point x*", ylabel="measured u(T)", title="per synapse")
    ax.tick_params(axis="x", labelrotation=30)
    ax.legend(fontsize=7, markerscale=3)


def _intensity_ratio(ax, raw: dict[str, Any], name: str) -> None:
    for variant in VARIANTS:
        keys = _intensity_keys(raw[variant])
        clean = raw[variant]["clean"]["traces"][name]["transmitted"][-1].mean()
        ratios = [
            float(raw[variant][k]["traces"][name]["transmitted"][-1].mean() / clean)
            for _, k in keys
        ]
        factors = [f for f, _ in keys]
        ax.plot(factors, ratios, marker="o", color=COLORS[variant], label=LABELS[variant])
    drives = [f * f for f in factors]  # an edge's drive is the coincidence of its two ends
    ax.plot(factors, drives, ls="--", color="gray", label="the drive (factor², both ends)")
    ax.set(xscale="log", yscale="log", xlabel="input intensity factor")
    ax.set_xticks(factors, [f"{f:g}" for f in factors])
    ax.set_yticks(drives, [f"{f:g}" for f in drives])
    ax.minorticks_off()
    ax.set(ylabel="u(T) / clean u(T)", title=f"{name}: transmitted intensity")
    ax.legend(fontsize=8)


def plot_sparse_coding(results: dict[str, Any], path: Path) -> None:
    """Accuracy against mean firing rate over the sweeps; the measured rate against the
    expected one; firing rate by node degree."""
    rows = results["sparse_coding"]["rows"]
    fig, axes = _figure(3, (17, 4.5))
    for sweep, variant, style in _SWEEP_CURVES:
        pts = _sweep_points(rows, sweep, variant)
        if not pts:
            continue
        _, rates, accs = zip(*pts, strict=True)
        label = f"{LABELS[variant]}, {_SWEEP_NAMES[sweep]} sweep"
        axes[0].plot(rates, accs, style, color=COLORS[variant], label=label)
        offset = (3, -10) if sweep == "target_rate" else (3, 3)
        for value, rate, acc in pts:
            text = f"{_SWEEP_SHORT[sweep]}={value:g}"
            axes[0].annotate(
                text, (rate, acc), fontsize=7, textcoords="offset points", xytext=offset
            )
    axes[0].set(xlabel="mean firing rate (hidden layer)", ylabel="test accuracy (seed 0)")
    axes[0].set_title("sparse coding: accuracy vs firing rate")
    axes[0].legend(fontsize=8)
    _target_sweep(axes[1], rows)
    _degree_bars(axes[2], results["sparse_coding"]["by_degree"])
    _save(fig, path)


def _sweep_points(rows: list[dict[str, Any]], sweep: str, variant: str) -> list[tuple]:
    """(swept value, firing rate, accuracy) of one sweep curve, in the order of the value."""
    return sorted(
        (r[sweep], r["firing_rate_mean"], r["test_acc"])
        for r in rows
        if r["sweep"] == sweep and r["variant"] == variant
    )


def _target_sweep(ax, rows: list[dict[str, Any]]) -> None:
    targets: list[float] = []
    for variant in VARIANTS:
        pts = _sweep_points(rows, "target_rate", variant)
        if pts:
            targets, rates, _ = zip(*pts, strict=True)
            ax.plot(targets, rates, "o-", color=COLORS[variant], label=LABELS[variant])
    if targets:
        ax.plot(targets, targets, ls="--", color="gray", label="rate = target")
    ax.set(xlabel="expected firing rate (target_rate)", ylabel="measured mean firing rate")
    ax.set_title("target sweep: measured against expected rate")
    ax.legend(fontsize=8)


_SWEEP_CURVES = (
    ("threshold", "scaling", "o-"),
    ("threshold", "none", "s-"),
    ("target_rate", "scaling", "^--"),
    ("target_rate", "none", "v--"),
)
_SWEEP_NAMES = {"threshold": "threshold", "target_rate": "target rate"}
_SWEEP_SHORT = {"threshold": "thr", "target_rate": "target"}


def _degree_bars(ax, by_degree: dict[str, Any]) -> None:
    for shift, variant in ((-0.2, "scaling"), (0.2, "none")):
        layer, prof = next(iter(by_degree[variant].items()))
        pos = torch.arange(len(prof["lower"])).double() + shift
        ax.bar(pos, prof["rate_mean"], width=0.4, color=COLORS[variant], label=LABELS[variant])
    names = [
        f"{lo}" if hi == lo + 1 else (f"{lo}+" if hi == float("inf") else f"{lo}-{hi - 1}")
        for lo, hi in zip(prof["lower"], prof["upper"], strict=True)
    ]
    ax.set_xticks(range(len(names)), names)
    counts = ", ".join(str(c) for c in prof["count"])
    ax.set(xlabel=f"node in-degree (nodes per bin: {counts})", ylabel="mean firing rate")
    ax.set_title(f"{layer}: firing rate by degree (mean over seeds)")
    ax.legend()


def plot_robustness(results: dict[str, Any], path: Path) -> None:
    """Test accuracy against perturbation level, mean and std over seeds, per perturbation."""
    rob = results["robustness"]
    names = list(rob["perturbations"])
    fig, axes = _figure(len(names), (4.2 * len(names), 4), sharey=True)
    for ax, name in zip(axes, names, strict=True):
        res, levels = rob["perturbations"][name], rob["levels"][name]
        for variant in VARIANTS:
            mean, std = torch.tensor(res[variant]["mean"]), torch.tensor(res[variant]["std"])
            ax.plot(levels, mean, marker="o", color=COLORS[variant], label=LABELS[variant])
            ax.fill_between(levels, mean - std, mean + std, color=COLORS[variant], alpha=0.2)
        gain, kept = res["gain_mean_disturbed"], res["retention_gain_mean_disturbed"]
        title = f"{name}: gain {100 * gain:+.1f} pts ({100 * kept:+.1f} beyond clean)"
        ax.set(xlabel=_LEVEL_LABELS[name], title=title)
        ax.set_xscale("log" if name == "intensity" else "symlog", **_XSCALE.get(name, {}))
    axes[0].set_ylabel(f"test accuracy (mean ± std, {rob['seeds']} seeds)")
    axes[0].legend()
    _save(fig, path)


_LEVEL_LABELS = {
    "flip": "fraction of feature bits flipped",
    "drop_edges": "fraction of edges deleted",
    "add_edges": "random edges added (fraction of E)",
    "intensity": "input intensity factor",
}
_XSCALE = {
    "flip": {"linthresh": 1e-3},
    "drop_edges": {"linthresh": 0.1},
    "add_edges": {"linthresh": 0.1},
    "intensity": {"base": 2},
}
