#!/bin/bash
# The controls of the per-edge synapse, free firing, 10 seeds each: bash results/node_classification/run_controls.sh cora|citeseer
cd "$(dirname "$0")/../.." && . .venv/bin/activate
export OMP_NUM_THREADS=1
d=$1
for v in "relative:--scaling relative --target-rate none" "none:--scaling none --target-rate none" "none_lr051:--scaling none --target-rate none --first-layer-lr-scale 0.51"; do
  name=${v%%:*}; args=${v#*:}
  out=results/node_classification/${d}_snn_${name}.json
  [ -f $out ] && continue
  python examples/$d.py --runs 10 --threads 1 --no-progress $args --json $out.tmp > results/node_classification/logs/${d}_${name}.log 2>&1 && mv $out.tmp $out
done
