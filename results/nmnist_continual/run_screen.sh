#!/bin/bash
# Issue 17: the continual recipe, chosen on validation (resumable: a finished setting is kept).
# 5 permuted tasks, 10,000 simulated training recordings per task, tested on 2,000 recordings
# held out from the simulated training set (the test sets are not loaded), 1 epoch per task,
# seed 0, scaling and none with the same settings. Stage 1: optimiser and learning rate with
# fine-tuning; stage 2 (STAGE=2, OPT="<optimiser options chosen in stage 1>"): EWC's lambda
# and the consolidation strength.
#   bash results/nmnist_continual/run_screen.sh             (stage 1)
#   STAGE=2 OPT="--optimizer sgd --lr 0.01" bash results/nmnist_continual/run_screen.sh   (as run)
cd "$(dirname "$0")/../.." && . .venv/bin/activate
export OMP_NUM_THREADS=1
sim=${SIM_ROOT:-../nmnist_sim}
common="--sim-root $sim --validation 2000 --train-limit 10000 --tasks 5 --epochs 1 --seed 0
        --seen-only --frame-cache $sim/cache --threads 1 --no-progress"
mkdir -p results/nmnist_continual/screen
if [ "${STAGE:-1}" = 1 ]; then
  settings=(
    "adam3e-4:--methods finetune --optimizer adam --lr 3e-4"
    "adam1e-3:--methods finetune --optimizer adam --lr 1e-3"
    "sgd0.01:--methods finetune --optimizer sgd --lr 0.01"
    "sgd0.05:--methods finetune --optimizer sgd --lr 0.05"
  )
else
  settings=(
    "ewc1e2:--methods ewc --ewc-lambda 1e2 $OPT"
    "ewc1e3:--methods ewc --ewc-lambda 1e3 $OPT"
    "ewc1e4:--methods ewc --ewc-lambda 1e4 $OPT"
    "consol0.1:--methods finetune --variants scaling --consolidation 0.1 $OPT"
    "consol0.5:--methods finetune --variants scaling --consolidation 0.5 $OPT"
    "consol2:--methods finetune --variants scaling --consolidation 2 $OPT"
  )
fi
for v in "${settings[@]}"; do
  name=${v%%:*}; args=${v#*:}
  out=results/nmnist_continual/screen/$name log=results/nmnist_continual/screen/$name.log
  grep -qs "results written" $log && continue
  echo "$(date -u +%H:%M) $name: python examples/nmnist_continual.py $args"
  python examples/nmnist_continual.py $common $args --resume --out $out > $log 2>&1
done
