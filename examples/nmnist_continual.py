"""Continual learning on permuted N-MNIST: {finetune, EWC, XdG, XdG+EWC} x {scaling, none}.

Needs simulated recordings (``python -m spikegraph.events.simulator``). The study in the README
and the continual-learning guide is a set of jobs of this script (20 tasks, 10,000 simulated
training recordings per task, 1 epoch, 3 seeds), run by ``results/nmnist_continual/run_study.sh``
with the recipe that ``results/nmnist_continual/run_screen.sh`` chose on validation (SGD lr
0.01, EWC lambda 100: the defaults here). One pair (scaling and none, one method, 20 tasks) takes
12-16 minutes on one thread of a shared 2-core machine:

    python examples/nmnist_continual.py --sim-root ../nmnist_sim \\
        --real-root ../shared/datasets/NMNIST --tasks 20 --train-limit 10000 --test-limit 1000 \\
        --seen-only --methods finetune --out results/nmnist_continual/study/seed0_finetune

Quick smoke test (about a minute; its accuracies are near chance): ``--quick`` (3 tasks, 600
train, 200 test samples, 1 epoch). A killed run continues where it stopped with ``--resume``:
every run writes a checkpoint after each task under ``<out>/checkpoints/`` (14 MB for model and
optimizer, plus 9.5 MB of Fisher and anchor per finished task with EWC). Writes
``<out>/nmnist_continual.json``, ``table.md`` and one heatmap ``R_<method>.png`` per method.
"""

from spikegraph.tasks.nmnist_continual import main

if __name__ == "__main__":
    main()
