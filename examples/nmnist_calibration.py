"""Compare real N-MNIST recordings with simulated ones of the same MNIST digits.

N-MNIST training sample k (1-based file name ``Train/<label>/<k:05d>.bin``) is MNIST training
image k, so each real recording is paired with a simulation of its own digit. Prints a
markdown table (real vs simulated summary statistics) and the simulation speed, extrapolated
to the 70,000 digits of MNIST.

python examples/nmnist_calibration.py --n 200 --json results/nmnist_calibration.json
"""

from __future__ import annotations

import argparse
import json
import os
import time
from dataclasses import asdict
from pathlib import Path

import numpy as np

from spikegraph.events import (
    NMNIST,
    SimulatorParams,
    read_idx,
    sample_rng,
    simulate_recording,
    summary_stats,
)

DEFAULT_DATA = Path(
    os.environ.get(
        "SPIKEGRAPH_SHARED_DATA", Path(__file__).resolve().parents[2] / "shared" / "datasets"
    )
)
ROWS = [
    ("events_mean", "events per sample (mean)", "{:.0f}"),
    ("events_std", "events per sample (std)", "{:.0f}"),
    ("on_fraction", "ON fraction", "{:.3f}"),
    ("duration_ms_mean", "duration, ms (mean)", "{:.1f}"),
    ("std_x_px", "spatial std x, px", "{:.2f}"),
    ("std_y_px", "spatial std y, px", "{:.2f}"),
    ("bbox_w_px", "2–98 % extent x, px", "{:.1f}"),
    ("bbox_h_px", "2–98 % extent y, px", "{:.1f}"),
    ("active_fraction", "fraction of pixels active", "{:.3f}"),
]


def paired_recordings(nmnist_root: Path, mnist_root: Path, n: int, seed: int) -> dict:
    """Real recordings, the simulated ones of the same digits and the time per simulation."""
    real_set = NMNIST(nmnist_root, train=True)
    order = sorted(range(len(real_set)), key=lambda i: int(real_set.files[i].stem))[:n]
    images = read_idx(mnist_root / "train-images-idx3-ubyte")
    mnist_index = [int(real_set.files[i].stem) - 1 for i in order]  # files are 1-based
    start = time.perf_counter()
    sim = [
        simulate_recording(images[k], rng=sample_rng(seed, "train", k), params=SimulatorParams())
        for k in mnist_index
    ]
    seconds = (time.perf_counter() - start) / len(sim)
    real = [real_set.events(i) for i in order]
    ink = [float(images[k].sum()) / 255 for k in mnist_index]
    return {"real": real, "sim": sim, "ink": ink, "seconds_per_sample": seconds}


def saccade_shares(recordings: list[np.ndarray]) -> list[float]:
    """Mean share of a recording's events in 0–100 ms, 100–210 ms and after 210 ms."""
    edges = np.array([100_000, 210_000])
    shares = [
        np.bincount(np.searchsorted(edges, e["t"], side="right"), minlength=3) / len(e)
        for e in recordings
    ]
    return np.mean(shares, axis=0).tolist()


def report(pairs: dict) -> dict:
    n_real = np.array([len(e) for e in pairs["real"]])
    n_sim = np.array([len(e) for e in pairs["sim"]])
    seconds = pairs["seconds_per_sample"]
    return {
        "real": summary_stats(pairs["real"]),
        "simulated": summary_stats(pairs["sim"]),
        "saccade_shares_real": saccade_shares(pairs["real"]),
        "saccade_shares_sim": saccade_shares(pairs["sim"]),
        "count_correlation_real_vs_sim": float(np.corrcoef(n_real, n_sim)[0, 1]),
        "count_ink_correlation_real": float(np.corrcoef(n_real, pairs["ink"])[0, 1]),
        "count_ink_correlation_sim": float(np.corrcoef(n_sim, pairs["ink"])[0, 1]),
        "seconds_per_sample": seconds,
        "extrapolated_minutes_70000_one_process": 70_000 * seconds / 60,
        "params": asdict(SimulatorParams()),
    }


def markdown(result: dict) -> str:
    real, sim = result["real"], result["simulated"]
    lines = [
        f"N-MNIST train subset, {int(real['n_samples'])} recordings vs the same MNIST digits simulated",
        "",
        "| statistic | real | simulated | sim / real |",
        "|---|---:|---:|---:|",
    ]
    for key, label, fmt in ROWS:
        ratio = sim[key] / real[key] if real[key] else float("nan")
        lines.append(
            f"| {label} | {fmt.format(real[key])} | {fmt.format(sim[key])} | {ratio:.2f} |"
        )
    windows = ("0–100 ms", "100–210 ms", "210 ms–end")
    for i, window in enumerate(windows):
        r, s = result["saccade_shares_real"][i], result["saccade_shares_sim"][i]
        lines.append(f"| share of events in {window} | {r:.3f} | {s:.3f} | {s / r:.2f} |")
    lines += [
        "",
        f"- events per sample, correlation real vs simulated (same digit): "
        f"{result['count_correlation_real_vs_sim']:.3f}",
        f"- correlation of events per sample with the digit's ink: real "
        f"{result['count_ink_correlation_real']:.3f}, simulated {result['count_ink_correlation_sim']:.3f}",
        f"- simulation: {1000 * result['seconds_per_sample']:.1f} ms per sample in one process, "
        f"so about {result['extrapolated_minutes_70000_one_process']:.0f} min for all 70,000 digits "
        "(file writing and start-up not included)",
    ]
    return "\n".join(lines)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--nmnist-root", type=Path, default=DEFAULT_DATA / "NMNIST")
    parser.add_argument("--mnist-root", type=Path, default=DEFAULT_DATA / "MNIST" / "raw")
    parser.add_argument("--n", type=int, default=1000, help="real recordings to compare (≤ 1000)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--json", type=Path, help="write the full result here")
    parser.add_argument("--markdown", type=Path, help="write the table here (default: stdout)")
    args = parser.parse_args(argv)
    if not 1 <= args.n <= 1000:
        parser.error(f"--n {args.n}: compare 1 to 1000 real recordings (N-MNIST's Train/ pairs)")
    if not (args.nmnist_root / "Train").is_dir():
        parser.error(f"--nmnist-root {args.nmnist_root} has no Train/: give the N-MNIST folder")
    if not args.mnist_root.is_dir():
        parser.error(f"--mnist-root {args.mnist_root} is not a folder: give MNIST's idx folder")
    return args


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    result = report(paired_recordings(args.nmnist_root, args.mnist_root, args.n, args.seed))
    table = markdown(result)
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(result, indent=2) + "\n")
    if args.markdown:
        args.markdown.write_text(table + "\n")
    print(table)


if __name__ == "__main__":
    main()
