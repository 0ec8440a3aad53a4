#!/usr/bin/env bash
# The link-prediction study: 10 seeds x {Cora, CiteSeer} x {SNN, GAE}, defaults of
# spikegraph.tasks.link_prediction.LinkConfig, one thread. Resumable: finished seeds are skipped.
# Usage: bash results/link_prediction/run_study.sh   (from the repository root)
set -euo pipefail
OUT=${OUT:-results/link_prediction}
SEEDS=${SEEDS:-"0 1 2 3 4 5 6 7 8 9"}
for seed in $SEEDS; do
  for dataset in Cora CiteSeer; do
    for model in snn gae; do
      OMP_NUM_THREADS=1 python examples/link_prediction.py --dataset "$dataset" --model "$model" \
        --seed "$seed" --runs 1 --threads 1 --out-dir "$OUT" --no-progress "$@"
    done
  done
done
