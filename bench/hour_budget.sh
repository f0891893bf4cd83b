#!/bin/bash
# What a wall-clock budget buys a training: seconds per meta-iteration, from two runs
# of N1 and N2 iterations that differ only in --iterations (start-up, data loading and
# the evaluation cancel), and the iterations that fit in MINUTES (default 60).
#
#   bash bench/hour_budget.sh METALEARN N1 N2 [train flags ...]
#   bash bench/hour_budget.sh build/tools/metalearn 10 70 --dataset omniglot --split official --strided \
#        --algo fomaml --threads 2 --parallel tasks
#
# Run it on an idle machine: the rate is the budget's measure (a resumed or uninterrupted
# run is bit-identical, so an hour's iteration count from an idle rate is the run's
# budget even when the run itself shares the machine). MINUTES=30 for another budget.
set -euo pipefail
if [[ $# -lt 3 || ! "$2" =~ ^[0-9]+$ || ! "$3" =~ ^[0-9]+$ || "$3" -le "$2" ]]; then
  echo "usage: hour_budget.sh METALEARN N1 N2 [train flags ...]  (N2 > N1 >= 0, whole numbers)" >&2
  exit 2
fi
metalearn=$1 n1=$2 n2=$3
shift 3
minutes=${MINUTES:-60}
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT

# Seconds (with nanoseconds) that `metalearn train ... --iterations N` takes.
timed() {
  local start end
  start=$(date +%s.%N)
  if ! "$metalearn" train --eval-tasks 1 --out "$scratch/run" "$@" >"$scratch/log" 2>&1; then
    echo "hour_budget.sh: the training failed:" >&2
    tail -5 "$scratch/log" >&2
    exit 1
  fi
  end=$(date +%s.%N)
  rm -rf "$scratch/run"
  echo "$start $end" | awk '{printf "%.3f", $2 - $1}'
}

t1=$(timed --iterations "$n1" "$@")
t2=$(timed --iterations "$n2" "$@")
awk -v n1="$n1" -v n2="$n2" -v t1="$t1" -v t2="$t2" -v m="$minutes" 'BEGIN {
  per = (t2 - t1) / (n2 - n1)
  if (per <= 0) { print "hour_budget.sh: the longer run was not slower; run again on an idle machine" > "/dev/stderr"; exit 1 }
  printf "%d iterations %.2f s, %d iterations %.2f s: %.4g s per iteration, %d iterations in %d minutes\n",
         n1, t1, n2, t2, per, int(m * 60 / per), m
}'
