"""Collect the JSON reports of ``examples/cora.py`` / ``citeseer.py`` into a markdown table.

python examples/results_table.py results/*.json > results/table.md
"""

import argparse
import json
from pathlib import Path


def row(report: dict) -> str:
    cfg = report["config"]
    name = "GCN (ANN)" if cfg["model"] == "gcn" else f"SNN, scaling={cfg['scaling']}"
    if cfg["model"] != "gcn" and cfg.get("target_rate") is not None:
        name += f", target rate {cfg['target_rate']:g}"
    if cfg.get("first_layer_lr_scale", 1.0) != 1.0:
        name += f", first-layer lr ×{cfg['first_layer_lr_scale']:g}"
    acc = f"{100 * report['test_acc_mean']:.2f} ± {100 * report['test_acc_std']:.2f}"
    if "firing_rate_mean" in report:
        firing = f"{report['firing_rate_mean']:.3f}"
        ops = f"{report['sops']:.3g} AC + {report['macs']:.3g} MAC"
        energy = f"{report['energy_uj']:.1f}"
    else:
        firing, ops, energy = "–", "–", "–"
    epoch_ms = f"{1000 * report['epoch_time_s_mean']:.0f}"
    runs = len(report["test_acc"])
    return f"| {cfg['dataset']} | {name} | {cfg['T'] if cfg['model'] == 'snn' else '–'} | {acc} | {runs} | {firing} | {ops} | {energy} | {epoch_ms} |"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("reports", nargs="+", type=Path)
    args = parser.parse_args(argv)
    missing = [str(p) for p in args.reports if not p.is_file()]
    if missing:
        parser.error(f"no such report: {', '.join(missing)}")
    print(
        "| dataset | model | T | test acc. % (mean ± std) | seeds | firing rate | ops per forward | energy µJ | ms / epoch |"
    )
    print("|---|---|---|---|---|---|---|---|---|")
    for path in args.reports:
        print(row(json.loads(path.read_text())))


if __name__ == "__main__":
    main()
