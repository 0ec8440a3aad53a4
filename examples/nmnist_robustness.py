"""Perturbation resistance on N-MNIST: a spiking MLP with adaptive scaling against the baseline.

Make the simulated recordings first (seeded; ~31 min of one core for 60,000 + 10,000):

    python -m spikegraph.events.simulator --mnist-root ../shared/datasets/MNIST/raw \\
        --out ../nmnist_sim

then train both models and test them under seven perturbations at 15 levels; with
``--checkpoint-dir`` the models that ``examples/nmnist_train.py`` trained with the same settings
are loaded instead of retrained (the study in docs/guides/nmnist_robustness.md):

    python examples/nmnist_robustness.py --sim-root ../nmnist_sim \\
        --real-root ../shared/datasets/NMNIST --checkpoint-dir ../nmnist_ckpt \\
        --frame-cache ../nmnist_sim/cache --seeds 0 1 2 --test-limit 2000 \\
        --out results/nmnist_robustness_v2

``--resume`` keeps the models already in the report. Quick check: add
``--train-limit 2000 --val-size 500 --test-limit 500 --epochs 2 --levels 5``.
Writes ``<out>/nmnist_robustness.json`` and one PNG per test set.
"""

from spikegraph.tasks.nmnist_robustness import main

if __name__ == "__main__":
    main()
