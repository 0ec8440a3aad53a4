"""Continual learning on permuted N-MNIST: {finetune, EWC, XdG, XdG+EWC} x {scaling, none}.

Needs the simulated recordings (see ``examples/nmnist_robustness.py`` for the two simulator
commands; 20,000 train + 2,000 test). The README's numbers (5 tasks, 5,000 simulated train and
1,000 simulated test samples, 2 epochs per task, seed 0; 12-16 minutes on one thread of a 2-core
machine shared with other jobs, 1.1 GB of memory):

    python examples/nmnist_continual.py --sim-root data/nmnist_sim \\
        --real-root ../shared/datasets/NMNIST --tasks 5 --train-limit 5000 --test-limit 1000 \\
        --epochs 2

The default (10 tasks, all 20,000 train and 2,000 test samples, 1 epoch per task) should take
about 1-2 hours on one thread (extrapolated from the run above, not measured); ``--tasks 20``
is the authors' sequence. Quick smoke test (65 s; its accuracies are near chance): ``--quick``
(3 tasks, 600 train, 200 test samples, 1 epoch). A killed run continues where it stopped with
``--resume``: every run writes a checkpoint after each task under ``<out>/checkpoints/``
(14 MB for model and optimizer, plus 9.5 MB of Fisher and anchor per finished task with EWC).
Writes ``results/nmnist_continual/nmnist_continual.json``, ``table.md`` and one heatmap
``R_<method>.png`` per method.
"""

from spikegraph.tasks.nmnist_continual import main

if __name__ == "__main__":
    main()
