#!/bin/bash
# The protocol screen: options chosen on VALIDATION accuracy only (seeds 0-2), the same
# budget for the SNN (target rate 0.1) and its GCN twin (resumable: finished JSONs are kept).
# Stage 1 tries one option at a time; stage 2 (rownorm_*) combines the stage-1 winner on Cora
# (row-normalised features, best for both models) with the others. An optional list of option
# names runs only those (CiteSeer ran the defaults and the options chosen on Cora):
#   bash results/node_classification/run_protocol_screen.sh cora|citeseer [option ...]
cd "$(dirname "$0")/../.." && . .venv/bin/activate
export OMP_NUM_THREADS=1
d=$1; shift; only=" $* "
case $d in cora|citeseer) ;; *) echo "cora|citeseer" >&2; exit 2 ;; esac
out_dir=results/node_classification/protocol_screen
mkdir -p $out_dir results/node_classification/logs
for model in "snn:--target-rate 0.1" "gcn:--model gcn"; do
  m=${model%%:*}; margs=${model#*:}
  for v in \
    "default:" \
    "rownorm:--features row_normalized" \
    "wd_first:--weight-decay-layers first" \
    "hidden256:--hidden 256" \
    "hidden64:--hidden 64" \
    "rownorm_wd_first:--features row_normalized --weight-decay-layers first" \
    "rownorm_hidden256:--features row_normalized --hidden 256" \
    "rownorm_hidden64:--features row_normalized --hidden 64"; do
    name=${v%%:*}; args=${v#*:}
    [ "$only" != "  " ] && [[ "$only" != *" $name "* ]] && continue
    out=$out_dir/${d}_${m}_${name}.json
    [ -f $out ] && continue
    echo "$(date -u +%H:%M) $d $m $name: python examples/$d.py --runs 3 $margs $args"
    python examples/$d.py --runs 3 --threads 1 --no-progress $margs $args --json $out.tmp \
      > results/node_classification/logs/screen_${d}_${m}_${name}.log 2>&1 && mv $out.tmp $out
  done
done
