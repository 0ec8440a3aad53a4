#!/usr/bin/env bash
# The order in which benchmarks/zoo.py was run on the shared 2-core machine: the reproduction
# cells first (random splits), a few seeds of everything, then the rest. Every step skips the
# runs that exist, so rerunning this script continues where it stopped. Later sessions ran the
# last two steps as two one-thread lanes side by side, seed by seed (the heavy GC-SNN / GA-SNN
# in one, the others in the other); the runs are the same, only their order differs.
set -u
cd "$(dirname "$0")/.."
export OMP_NUM_THREADS=1
zoo() { python benchmarks/zoo.py --threads 1 --no-progress "$@"; }
zoo --models spikinggcn --splits random --seeds 0-2
zoo --models gcn spikinggnn --splits random --seeds 0
zoo --models gcsnn --splits random --seeds 0
zoo --models gcn spikinggnn --splits random --seeds 0-2
zoo --models spikinggcn gcn spikinggnn --splits public --seeds 0-2
zoo --models gasnn --splits random --seeds 0
zoo --models gcn spikinggcn spikinggnn --seeds 0-9
zoo --models spikegt spikegcl --seeds 0-9
zoo --models gcsnn gasnn --seeds 0-9
