#!/usr/bin/env bash
# The spiking model's recipe screen on MUTAG (10 outer folds each, selection by the mean
# inner-validation accuracy): GCN-normalised layers (snn_gcn), summed inputs (snn_sum), summed
# inputs + a spiking linear layer after each graph layer (snn_sum_mlp), and the same at T = 8.
# Resumable; writes screen/summary.json.
set -euo pipefail
cd "$(dirname "$0")/../.."
S=results/graph_classification/screen
run() { OMP_NUM_THREADS=1 python examples/graph_classification.py --dataset MUTAG --model snn \
  --threads 1 --no-progress --runs-dir "$S/$1" "${@:2}"; }
run snn_gcn --normalize --no-mlp
run snn_sum --no-normalize --no-mlp
run snn_sum_mlp --no-normalize --mlp
run snn_sum_mlp_T8 --no-normalize --mlp --T 8
python -c "from pathlib import Path; from spikegraph.tasks.graph_classification import \
screen_summary as s; s(Path('$S'), Path('$S/summary.json'))"
