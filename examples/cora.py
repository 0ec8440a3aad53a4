"""Node classification on Cora with a spiking GNN (adaptive synaptic scaling), firing sparsity measured.

The hidden layers fire at an expected rate of 0.1 by default; ``--target-rate none`` lets them
fire freely.

python examples/cora.py                      # one seed, ~1 minute on 2 CPU cores
python examples/cora.py --runs 10 --json results/node_classification/cora_default.json
python examples/cora.py --target-rate none   # free firing
python examples/cora.py --scaling none       # the ablation (same expected rate)
python examples/cora.py --model gcn          # the ANN GCN baseline, same pipeline
"""

from spikegraph.tasks.node_classification import main

if __name__ == "__main__":
    main(dataset="Cora")
