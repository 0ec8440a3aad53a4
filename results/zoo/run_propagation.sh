#!/bin/bash
# An APPNP read-out on the public split, chosen on validation (benchmarks/readout_propagation.py):
# K = 10, alpha in {0.1, 0.2} against no propagation, seeds 0-2, the SNN (target rate 0.1) and
# its GCN twin, each with the options that won for it on validation
# (results/node_classification/run_protocol_final.sh). Resumable:
#   bash results/zoo/run_propagation.sh
cd "$(dirname "$0")/../.." && . .venv/bin/activate
export OMP_NUM_THREADS=1
out=results/zoo/propagation
mkdir -p $out
for d in Cora CiteSeer; do
  case $d in
    Cora)     snn="--features row_normalized --weight-decay-layers first"
              gcn="--features row_normalized --hidden 256" ;;
    CiteSeer) snn="--features row_normalized --hidden 256"
              gcn="--features row_normalized" ;;
  esac
  for m in snn gcn; do
    if [ $m = snn ]; then opts="--target-rate 0.1 $snn"; else opts="--model gcn $gcn"; fi
    for v in "0 0.1" "10 0.1" "10 0.2"; do
      set -- $v
      f=$out/${d}_${m}_K$1_a$2.json
      [ -f $f ] && continue
      python benchmarks/readout_propagation.py --K $1 --alpha $2 --dataset $d -- \
        --runs 3 --seed 0 --threads 1 --no-progress $opts --json $f > /dev/null || exit 1
      echo "$(date -u +%H:%M) $f"
    done
  done
done
