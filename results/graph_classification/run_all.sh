#!/usr/bin/env bash
# The graph-classification study: every dataset (smallest first) x {snn, gin, gcn}, 10 outer
# folds, one JSON per fold in runs/ (a rerun skips what is there), summary.json after each model.
# One process, one thread: nohup bash results/graph_classification/run_all.sh > gc.log 2>&1 &
set -euo pipefail
cd "$(dirname "$0")/../.."
OUT=results/graph_classification
DATASETS=${DATASETS:-"MUTAG ENZYMES IMDB-BINARY PROTEINS AIDS NCI1 Mutagenicity"}
MODELS=${MODELS:-"snn gin gcn"}
for dataset in $DATASETS; do
  for model in $MODELS; do
    OMP_NUM_THREADS=1 python examples/graph_classification.py --dataset "$dataset" \
      --model "$model" --threads 1 --no-progress --runs-dir "$OUT/runs" \
      --summary "$OUT/summary.json" "$@"
  done
done
