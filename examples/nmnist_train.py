"""Train the N-MNIST spiking MLP (2312 -> 512 -> 10, T = 10, LIF), with scaling and without.

Both models train with one recipe (membrane read-out, atan surrogate, Adam with a cosine
schedule) on the simulated recordings minus a 5,000-recording validation split, which is
where the recipe was chosen; a checkpoint after every epoch makes the run resumable and
leaves the trained models for the perturbation study (``nmnist_robustness.py
--checkpoint-dir``). Simulate the recordings first (~31 min of one core for 60,000 + 10,000):

    python -m spikegraph.events.simulator --mnist-root ../shared/datasets/MNIST \\
        --out ../nmnist_sim

then, one process per model (see ``results/nmnist_training/`` for the commands of its
numbers):

    python examples/nmnist_train.py --sim-root ../nmnist_sim \\
        --real-root ../shared/datasets/NMNIST --models scaling --eval-test \\
        --checkpoint-dir ../nmnist_ckpt --frame-cache ../nmnist_sim/cache \\
        --out results/nmnist_training/scaling_seed0.json

Quick check: add ``--train-limit 2000 --val-size 500 --test-limit 500 --epochs 2``.
"""

from spikegraph.tasks.nmnist_training import main

if __name__ == "__main__":
    main()
