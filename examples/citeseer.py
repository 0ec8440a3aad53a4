"""Node classification on CiteSeer; the same flags as ``examples/cora.py``.

python examples/citeseer.py --runs 10 --json results/node_classification/citeseer_default.json
"""

from spikegraph.tasks.node_classification import main

if __name__ == "__main__":
    main(dataset="CiteSeer")
