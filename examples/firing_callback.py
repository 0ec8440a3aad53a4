"""Firing-rate callback, fixed point, sparse coding and robustness on Cora (AS-SNN).

Trains a spiking GNN with the default synaptic scaling (the ``relative`` shape, no per-dataset
tuning) and its twin without scaling, then disturbs the input at test time and writes JSON
results and PNG figures to ``results/firing_callback/`` (see
:mod:`spikegraph.tasks.firing_callback`).

Commands::

    # the full experiment (5 seeds x 200 epochs, sweeps at 100 epochs):
    # about 15 minutes on 1 CPU thread
    python examples/firing_callback.py --threads 1

    # the tiny version CI runs (1 seed, 5 epochs, small model): under a minute
    python examples/firing_callback.py --quick --out /tmp/firing_callback

    # another shape for comparison, e.g. the homeostatic shape once tuned for Cora
    python examples/firing_callback.py --scaling homeostatic --target 0.02 --alpha 50

Options: ``--seeds``, ``--epochs``, ``--sweep-epochs``, ``--scaling``, ``--target``,
``--alpha``, ``--target-rates``, ``--dataset``, ``--out``, ``--root``, ``--threads``,
``--no-progress``; ``--help`` lists them.
"""

from spikegraph.tasks.firing_callback import main

if __name__ == "__main__":
    main()
