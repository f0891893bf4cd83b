#!/usr/bin/env bash
# bench_meta_profile.sh BENCH_META: a --profile run prints the per-op table on stderr,
# with second-order MAML's ops in all four phases, and the memory census.
set -u
err=$(mktemp)
"$1" --workload sinusoid --algo maml --steps 1 --threads 1 --warmup 1 --iters 5 --profile >/dev/null 2>"$err"
status=$?
cat "$err"
ok=1
[ "$status" -eq 0 ] || ok=0
grep -q '^| op | forward | recorded backward | backward | double backward |' "$err" || ok=0
# matmul runs in the forward pass, the recorded inner gradient, the outer backward and its double backward.
grep -Eq '^\| matmul \| [0-9.]+ s \([0-9.]+ %\) \| [0-9.]+ s \([0-9.]+ %\) \| [0-9.]+ s \([0-9.]+ %\) \| [0-9.]+ s' "$err" || ok=0
grep -q '^| op | forward calls | MB | recorded backward calls | MB | backward calls | MB | double backward calls | MB |' "$err" || ok=0
grep -q '^| outside ops |' "$err" || ok=0
# The peak of live tensor memory, the op it was reached in, and what was alive then.
grep -Eq '^peak live tensor memory [0-9.]+ MB, reached during [a-z_0-9 ]+ \((forward|backward|recorded backward|double backward)\); of it saved for backward on the tape then: [0-9.]+ MB' "$err" || ok=0
grep -q '^| made by | phase | MB |' "$err" || ok=0
grep -Eq '^\| made before the profiler started \| \| [0-9.]+ \|' "$err" || ok=0
rm -f "$err"
[ "$ok" -eq 1 ]
