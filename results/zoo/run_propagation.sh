#!/bin/bash
# An APPNP read-out on the public split, chosen on validation (benchmarks/readout_propagation.py),
# for the SNN (target rate 0.1) and its GCN twin, each with the options that won for it on
# validation (results/node_classification/run_protocol_final.sh). Resumable:
#   bash results/zoo/run_propagation.sh
# 1. screen: K = 10, alpha in {0.1, 0.2} against no propagation, seeds 0-2;
# 2. final: 10 seeds (0-9) of the variant of best mean validation accuracy (a tie keeps no
#    propagation). Without propagation the 10 seeds are results/node_classification/
#    protocol_final/ (the same runs: its seeds 0-2 are the screen's, to the last digit).
cd "$(dirname "$0")/../.." && . .venv/bin/activate
export OMP_NUM_THREADS=1
out=results/zoo/propagation
mkdir -p $out/final
propagate() {  # K alpha dataset json opts...
  local k=$1 a=$2 d=$3 f=$4; shift 4
  [ -f $f ] && return
  python benchmarks/readout_propagation.py --K $k --alpha $a --dataset $d -- \
    --seed 0 --threads 1 --no-progress "$@" --json $f > /dev/null || exit 1
  echo "$(date -u +%H:%M) $f"
}
chosen() {  # dataset model -> "K alpha" of best mean validation accuracy (none first: a tie keeps it)
  python benchmarks/readout_propagation.py --chosen $out/$1_$2_K0_a0.1.json \
    $out/$1_$2_K10_a0.1.json $out/$1_$2_K10_a0.2.json
}
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
      propagate $1 $2 $d $out/${d}_${m}_K$1_a$2.json --runs 3 $opts
    done
    choice=$(chosen $d $m) || exit 1
    set -- $choice
    echo "$d $m: K=$1 alpha=$2 won on validation"
    [ $1 = 0 ] || propagate $1 $2 $d $out/final/${d}_${m}.json --runs 10 $opts
  done
done
