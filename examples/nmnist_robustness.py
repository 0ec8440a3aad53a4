"""Perturbation resistance on N-MNIST: a spiking MLP with adaptive scaling against the baseline.

Make the simulated recordings first (seeded; ~9 min for 20,000 + 2,000 on one core, ~31 min
for the full 60,000 + 10,000):

    python -m spikegraph.events.simulator --mnist-root ../shared/datasets/MNIST \\
        --out data/nmnist_sim --split train --limit 20000
    python -m spikegraph.events.simulator --mnist-root ../shared/datasets/MNIST \\
        --out data/nmnist_sim --split test --limit 2000

then (the README's numbers; see there for the run time):

    python examples/nmnist_robustness.py --sim-root data/nmnist_sim \\
        --real-root ../shared/datasets/NMNIST --seeds 0 1

Models trained by ``examples/nmnist_train.py`` with the same settings are loaded instead of
retrained with ``--checkpoint-dir`` (e.g. ``../nmnist_ckpt``); ``--resume`` keeps the models
already in the report.

Quick check: add ``--train-limit 2000 --val-size 500 --test-limit 500 --epochs 2 --levels 5``.
Writes ``results/nmnist_robustness/nmnist_robustness.json`` and one PNG per test set.
"""

from spikegraph.tasks.nmnist_robustness import main

if __name__ == "__main__":
    main()
