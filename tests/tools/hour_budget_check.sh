#!/usr/bin/env bash
# bench/hour_budget.sh against metalearn on the sinusoid: a rate and an iteration count
# come out; bad arguments and a failing training are refused with their messages.
# usage: hour_budget_check.sh HOUR_BUDGET_SH METALEARN
set -u
script=$1 metalearn=$2
fail() { echo "FAIL: $*"; exit 1; }

out=$(MINUTES=30 bash "$script" "$metalearn" 100 1100 --dataset sinusoid --no-baseline --threads 1) ||
  fail "the sinusoid budget failed: $out"
echo "$out"
[[ "$out" =~ ^100\ iterations\ [0-9.]+\ s,\ 1100\ iterations\ [0-9.]+\ s:\ [0-9.e-]+\ s\ per\ iteration,\ ([0-9]+)\ iterations\ in\ 30\ minutes$ ]] ||
  fail "unexpected output: $out"
(( BASH_REMATCH[1] > 0 )) || fail "no iterations fit"

err=$(bash "$script" "$metalearn" 10 5 2>&1 >/dev/null)
[[ $? -eq 2 && "$err" == "usage: hour_budget.sh METALEARN N1 N2"* ]] || fail "N2 <= N1 accepted: $err"
err=$(bash "$script" "$metalearn" 1 x 2>&1 >/dev/null)
[[ $? -eq 2 && "$err" == usage:* ]] || fail "a non-number accepted: $err"

err=$(bash "$script" "$metalearn" 1 2 --dataset sinusoid --no-such-flag 2>&1 >/dev/null)
[[ $? -eq 1 && "$err" == "hour_budget.sh: the training failed:"* ]] || fail "a failing training not reported: $err"
echo "ok"
