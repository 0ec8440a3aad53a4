"""Node classification on Cora with a spiking GNN (adaptive synaptic scaling), firing sparsity measured.

python examples/cora.py                      # one seed, ~1 minute on 2 CPU cores
python examples/cora.py --runs 10 --json results/node_classification/cora_snn_relative.json
python examples/cora.py --scaling none       # the ablation
python examples/cora.py --model gcn          # the ANN GCN baseline, same pipeline
"""

from spikegraph.tasks.node_classification import main

if __name__ == "__main__":
    main(dataset="Cora")
