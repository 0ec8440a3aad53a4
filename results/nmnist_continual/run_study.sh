#!/bin/bash
# Issue 17's continual study: 20 permuted tasks, 10,000 simulated training recordings per task,
# 1 epoch each, tested after every task on the tasks seen so far (--seen-only) with 1,000
# simulated test recordings and the 100 real ones, with the recipe chosen on validation
# (run_screen.sh; OPT, EWC, CONSOL below).
# Each job is one seed and one method, scaling and none side by side (or the scaling model with
# consolidation), in its own folder under study/; a finished job is kept, an interrupted one
# resumes from its checkpoint. Jobs are named <seed>:<method>[:consolidation], e.g.
#   bash results/nmnist_continual/run_study.sh 0:finetune 0:ewc 0:finetune:consolidation
cd "$(dirname "$0")/../.." && . .venv/bin/activate
export OMP_NUM_THREADS=1
sim=${SIM_ROOT:-../nmnist_sim}
real=${REAL_ROOT:-../shared/datasets/NMNIST}
opt=${OPT:?set OPT to the optimiser options chosen on validation}
ewc=${EWC:?set EWC to the EWC lambda chosen on validation}
consol=${CONSOL:-0}
study=results/nmnist_continual/${STUDY:-study}  # e.g. STUDY=study_adam for another optimiser
mkdir -p $study
for job in "$@"; do
  IFS=: read -r seed method extra <<< "$job"
  args="--methods $method --seed $seed --ewc-lambda $ewc $opt"
  name=seed${seed}_${method/+/_}
  if [ "$extra" = consolidation ]; then
    args="$args --variants scaling --consolidation $consol"; name=${name}_consolidation
  fi
  out=$study/$name log=$study/$name.log
  grep -qs "results written" $log && continue
  echo "$(date -u +%H:%M) $name: python examples/nmnist_continual.py $args"
  python examples/nmnist_continual.py --sim-root $sim --real-root $real --tasks 20 \
    --train-limit 10000 --test-limit 1000 --epochs 1 --seen-only --frame-cache $sim/cache \
    --threads 1 --no-progress $args \
    --resume --out $out > $log 2>&1
done
