#!/usr/bin/env bash
# Meta-iterations per second of metalearn over MPI ranks (issue 19): R = 1, 2 ranks ×
# T = 1, 2 threads, on this machine (loopback). Run it on an idle machine:
#
#   bash bench/mpi_scaling.sh [METALEARN] [WORKLOAD]     WORKLOAD: sinusoid (default) | omniglot
#
# Each configuration trains twice, N and 2N iterations, and the rate is N over the
# difference of the wall times: start-up (MPI, data loading), evaluation and file
# writes cancel out. The byte count is metalearn's own (rank 0, per iteration).
# Prints one line per configuration: "R ranks x T threads: X it/s, B bytes/iteration".
set -euo pipefail
metalearn=${1:-build/tools/metalearn}
workload=${2:-sinusoid}
n=${N:-2000}
data=${METAGRAD_OMNIGLOT:-../shared/data/omniglot}
case $workload in
  sinusoid) flags=(--dataset sinusoid --no-baseline --eval-tasks 2) ;;
  omniglot) n=${N:-4}; flags=(--dataset omniglot --data "$data" --algo maml --eval-tasks 2 --eval-inner-steps 1) ;;
  *) echo "usage: mpi_scaling.sh [METALEARN] [sinusoid|omniglot]" >&2; exit 2 ;;
esac
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# seconds R T ITERATIONS: wall time of one run.
seconds() {
  local start end
  start=$(date +%s.%N)
  mpirun --oversubscribe --allow-run-as-root --bind-to none -np "$1" "$metalearn" train "${flags[@]}" \
    --threads "$2" --iterations "$3" --checkpoint-every "$3" --out "$work/r$1-t$2-$3" >"$work/r$1-t$2-$3.log"
  end=$(date +%s.%N)
  awk -v a="$end" -v b="$start" 'BEGIN { print a - b }'
}

echo "$workload: N = $n and $((2 * n)) iterations per configuration"
for r in 1 2; do
  for t in 1 2; do
    short=$(seconds $r $t "$n")
    long=$(seconds $r $t $((2 * n)))
    bytes=$(grep -o 'rank 0 sent [0-9]* bytes and received [0-9]*' "$work/r$r-t$t-$((2 * n)).log" || echo "no exchange")
    rate=$(awk -v n="$n" -v a="$long" -v b="$short" 'BEGIN { print n / (a - b) }')
    printf '%d ranks x %d threads: %.2f it/s (%s)\n' "$r" "$t" "$rate" "$bytes"
  done
done
