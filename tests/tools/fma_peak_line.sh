#!/usr/bin/env bash
# fma_peak_line.sh FMA_PEAK: the readable line and the JSON line of bench/fma_peak
# name a known ISA and give one plausible GFLOP/s per requested thread count.
set -u
line=$("$1" --threads 1,2 --seconds 0.02) || { echo "fma_peak exited with status $?"; exit 1; }
echo "$line"
[[ "$line" =~ ^fma_peak:\ (avx512f|avx2|sse2),\ fp32,\ [0-9]+\ chains:\ 1\ thread\ [0-9.]+\ GFLOP/s,\ 2\ threads\ [0-9.]+\ GFLOP/s$ ]] \
  || { echo "unexpected line"; exit 1; }
json=$("$1" --threads 1 --seconds 0.02 --json) || { echo "fma_peak --json exited with status $?"; exit 1; }
echo "$json"
/usr/bin/python3 -c '
import json, sys
r = json.loads(sys.argv[1])
assert set(r) == {"isa", "lanes", "threads", "gflops"}, sorted(r)
assert (r["isa"], r["lanes"]) in {("avx512f", 16), ("avx2", 8), ("sse2", 4)}, r
assert r["threads"] == [1] and len(r["gflops"]) == 1, r
# A core does at least 2 flops per lane per cycle at >= 0.5 GHz and at most 4 FMA units at 6 GHz.
assert 0.5 * 2 * r["lanes"] / 2 < r["gflops"][0] < 6 * 4 * 2 * r["lanes"], r
print("ok")
' "$json"
