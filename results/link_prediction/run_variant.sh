#!/usr/bin/env bash
# A spiking-encoder variant chosen on validation AUC by run_screen.sh, 10 seeds on both
# datasets, written beside the study as "<dataset>_snn_<TAG>_seed<k>.json".
# Usage: bash results/link_prediction/run_variant.sh TAG ARGS...   e.g. free_rate --target-rate 0
set -euo pipefail
OUT=${OUT:-results/link_prediction}
SEEDS=${SEEDS:-"0 1 2 3 4 5 6 7 8 9"}
tag=$1; shift
for seed in $SEEDS; do
  for dataset in Cora CiteSeer; do
    OMP_NUM_THREADS=1 python examples/link_prediction.py --dataset "$dataset" --model snn \
      --seed "$seed" --runs 1 --threads 1 --out-dir "$OUT" --tag "$tag" --no-progress "$@"
  done
done
