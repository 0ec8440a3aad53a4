"""Graph classification on the TU datasets: a spiking GNN and its GIN and GCN twins under the
protocol of Errica et al. (ICLR 2020): stratified 10-fold cross-validation, an inner 10 %
holdout for early stopping, the test fold read once.

python examples/graph_classification.py --dataset MUTAG               # the spiking model, 10 folds
python examples/graph_classification.py --dataset MUTAG --model gin   # the GIN twin
python examples/graph_classification.py --dataset MUTAG --folds 2 --epochs 3 --hidden 16  # quick
python examples/graph_classification.py --dataset PROTEINS --runs-dir results/graph_classification/runs \
    --summary results/graph_classification/summary.json   # resumable: one JSON per fold
"""

from spikegraph.tasks.graph_classification import main

if __name__ == "__main__":
    main()
