#!/bin/bash
# After run_propagation.sh: each model runs 10 seeds (0-9) with the propagation that won for it
# on validation there (highest mean validation accuracy; a tie keeps no propagation). Without
# propagation the 10 seeds are results/node_classification/protocol_final/ (the same runs:
# its seeds 0-2 are those of the screen, to the last digit). Resumable:
#   bash results/zoo/run_propagation_final.sh
cd "$(dirname "$0")/../.." && . .venv/bin/activate
export OMP_NUM_THREADS=1
out=results/zoo/propagation
mkdir -p $out/final
for d in Cora CiteSeer; do
  case $d in
    Cora)     snn="--features row_normalized --weight-decay-layers first"
              gcn="--features row_normalized --hidden 256" ;;
    CiteSeer) snn="--features row_normalized --hidden 256"
              gcn="--features row_normalized" ;;
  esac
  for m in snn gcn; do
    if [ $m = snn ]; then opts="--target-rate 0.1 $snn"; else opts="--model gcn $gcn"; fi
    set -- $(python -c "import json, sys
best = None
for k, a in ((0, 0.1), (10, 0.1), (10, 0.2)):
    runs = json.load(open(f'$out/${d}_${m}_K{k}_a{a}.json'))['runs']
    val = sum(r['val_acc'] for r in runs) / len(runs)
    if best is None or val > best[0]:
        best = (val, k, a)
print(best[1], best[2])") || exit 1
    echo "$d $m: K=$1 alpha=$2 won on validation"
    f=$out/final/${d}_${m}.json
    [ $1 = 0 ] || [ -f $f ] && continue
    python benchmarks/readout_propagation.py --K $1 --alpha $2 --dataset $d -- \
      --runs 10 --seed 0 --threads 1 --no-progress $opts --json $f > /dev/null || exit 1
    echo "$(date -u +%H:%M) $f"
  done
done
