"""Graph robustness study on Cora and CiteSeer (issue #25): the per-edge synapse beside the mean
field, scaling off, the GCN twin and GNNGuard, under localised feature injection, node injection
and PRBCD/GRBCD structure attacks (evasion: white-box and transfer from the GCN; poisoning).

Writes one JSON per (dataset, stage, seed) into ``results/graph_robustness/runs/`` as each
finishes (a rerun skips those), and ``results/graph_robustness/summary.json``
(:mod:`spikegraph.tasks.graph_robustness`).

Commands::

    # the study as run for the docs (main budgets first, then the sweep), one CPU thread
    python examples/graph_robustness.py --threads 1

    # Cora only, the main budgets (10 % nodes / 5 % edges), seeds 0-2
    python examples/graph_robustness.py --datasets Cora --stages main --seeds 0 1 2

    # a smoke test (tiny models, a few attack steps) into a scratch folder
    python examples/graph_robustness.py --quick --datasets Cora --stages main --runs 1 --out /tmp/gr

    # rebuild summary.json from the per-seed files and print the table
    python examples/graph_robustness.py --table
"""

from spikegraph.tasks.graph_robustness import main

if __name__ == "__main__":
    main()
