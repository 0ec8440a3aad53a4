#!/usr/bin/env bash
# A small screen of the spiking encoder's own settings on Cora, judged on VALIDATION AUC only
# (screen/summary.json: val_auc_mean); widths, epochs and optimiser stay those of the GAE twin.
# Usage: bash results/link_prediction/run_screen.sh   (from the repository root)
set -euo pipefail
OUT=${OUT:-results/link_prediction/screen}
SEEDS=${SEEDS:-"0 1"}
run() {  # run TAG ARGS...
  local tag=$1; shift
  for seed in $SEEDS; do
    OMP_NUM_THREADS=1 python examples/link_prediction.py --dataset Cora --model snn --seed "$seed" \
      --runs 1 --threads 1 --out-dir "$OUT" --tag "$tag" --no-progress "$@"
  done
}
run scaling_none --scaling none
run free_rate --target-rate 0
run rate_readout --readout rate
run T4 --T 4
run T4_free_rate --T 4 --target-rate 0
