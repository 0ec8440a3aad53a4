#!/bin/bash
# The expected-firing-rate study, 10 seeds per setting (resumable: a finished setting's JSON is kept):
#   bash results/node_classification/run_rate_study.sh cora|citeseer
# The penalty weight was tuned on validation seed 100 to bring the firing rate to 0.1
# (Cora 300 -> 0.103; CiteSeer see the log), the same seed budget as the target-rate runs.
cd "$(dirname "$0")/../.." && . .venv/bin/activate
export OMP_NUM_THREADS=1
d=$1
case $d in cora) penalty=300 ;; citeseer) penalty=${CITESEER_PENALTY:-300} ;; *) echo "cora|citeseer" >&2; exit 2 ;; esac
mkdir -p results/node_classification/rate_study results/node_classification/logs
for v in \
  "target01:--target-rate 0.1" \
  "none:--scaling none --target-rate none" \
  "none_penalty:--scaling none --target-rate none --rate-penalty $penalty --penalty-target 0.1" \
  "gcn:--model gcn" \
  "target005:--target-rate 0.05" \
  "target02:--target-rate 0.2" \
  "free:--target-rate none" \
  "none_target01:--scaling none --target-rate 0.1"; do
  name=${v%%:*}; args=${v#*:}
  out=results/node_classification/rate_study/${d}_${name}.json
  [ -f $out ] && continue
  echo "$(date -u +%H:%M) $d $name: python examples/$d.py --runs 10 $args"
  python examples/$d.py --runs 10 --threads 1 --no-progress $args --json $out.tmp \
    > results/node_classification/logs/rate_${d}_${name}.log 2>&1 && mv $out.tmp $out
done
