#!/usr/bin/env bash
# nav_fixture_check.sh BENCH_META PYTHON TORCH_NAV_REF: bench_meta --nav-fixture writes
# metagrad's nav2d fixture, and torch_nav_ref.py --check must find that the PyTorch
# reference computes the same environment, adapted parameters, surrogate, meta-gradients
# and TRPO step from it. Skipped (77) when PYTHON cannot import torch.
set -u
bench_meta=$1
python=$2
ref=$3
"$python" -c 'import torch' 2>/dev/null || { echo "PyTorch is not importable by $python: skipped"; exit 77; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
"$bench_meta" --workload nav2d --algo maml --steps 1 --threads 1 --nav-fixture "$tmp/fixture.json" ||
  { echo "bench_meta --nav-fixture exited with status $?"; exit 1; }
out=$(OPENBLAS_NUM_THREADS=1 "$python" "$ref" --check "$tmp/fixture.json")
status=$?
echo "$out"
[ "$status" -eq 0 ] || { echo "torch_nav_ref.py --check exited with status $status"; exit 1; }
# Every comparison was made and passed: the environment, 3 tasks' theta', the losses, both
# meta-gradients and their difference, and the TRPO step in both ways of building grad KL.
n=$(grep -c ' ok$' <<<"$out")
[ "$n" -eq 14 ] || { echo "expected 14 passed comparisons, got $n"; exit 1; }
grep -qx 'check: nav2d agrees with metagrad' <<<"$out" || { echo "no final verdict"; exit 1; }
# A fixture whose recorded meta-gradient is off by one part in a million must fail.
"$python" - "$tmp/fixture.json" <<'PY'
import json, sys
f = json.load(open(sys.argv[1]))
f["meta_gradient"][1]["data"][0] *= 1 + 1e-6
json.dump(f, open(sys.argv[1], "w"))
PY
OPENBLAS_NUM_THREADS=1 "$python" "$ref" --check "$tmp/fixture.json" >"$tmp/bad.txt"
status=$?
[ "$status" -eq 1 ] || { echo "a wrong meta-gradient: exit status $status, expected 1"; cat "$tmp/bad.txt"; exit 1; }
grep -q 'second-order meta-gradient: .* FAIL$' "$tmp/bad.txt" || { echo "no FAIL line"; cat "$tmp/bad.txt"; exit 1; }
echo ok
