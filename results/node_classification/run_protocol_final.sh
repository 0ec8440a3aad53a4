#!/bin/bash
# The protocol's final runs, 10 seeds (0-9), each model with the protocol options that won on
# validation in the screen (run_protocol_screen.sh; results/node_classification/protocol_screen/),
# and the SNN once more with scaling off under the SNN's options (resumable):
#   bash results/node_classification/run_protocol_final.sh cora|citeseer
cd "$(dirname "$0")/../.." && . .venv/bin/activate
export OMP_NUM_THREADS=1
d=$1
case $d in
  cora)     snn="--features row_normalized --weight-decay-layers first"
            gcn="--features row_normalized --hidden 256" ;;
  citeseer) snn=${CITESEER_SNN:?set CITESEER_SNN to the options chosen on validation}
            gcn=${CITESEER_GCN:?set CITESEER_GCN to the options chosen on validation} ;;
  *) echo "cora|citeseer" >&2; exit 2 ;;
esac
out_dir=results/node_classification/protocol_final
mkdir -p $out_dir results/node_classification/logs
for v in "snn:--target-rate 0.1 $snn" "gcn:--model gcn $gcn" "none:--scaling none --target-rate 0.1 $snn"; do
  name=${v%%:*}; args=${v#*:}
  out=$out_dir/${d}_${name}.json
  [ -f $out ] && continue
  echo "$(date -u +%H:%M) $d $name: python examples/$d.py --runs 10 $args"
  python examples/$d.py --runs 10 --threads 1 --no-progress $args --json $out.tmp \
    > results/node_classification/logs/final_${d}_${name}.log 2>&1 && mv $out.tmp $out
done
