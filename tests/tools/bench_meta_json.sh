#!/usr/bin/env bash
# bench_meta_json.sh BENCH_META ARGS...: runs `BENCH_META ARGS... --json` and passes
# when it exits with 0 and prints exactly one line on stdout: a JSON object with
# exactly the contract's keys, the configuration echoed from ARGS and sane values.
# ARGS must hold --workload, --algo, --steps and --threads, and --iters when
# --max-seconds is not given. NULL_KEYS (comma-separated, e.g. "gflops" for
# torch_ref_cpp, which has no GEMM counter) names the keys that must be null;
# MAX_MEDIAN_S (default 30) bounds the median seconds of one meta-iteration.
out=$(mktemp)
trap 'rm -f "$out"' EXIT
"$@" --json >"$out" || { echo "$(basename "$1") exited with status $?"; exit 1; }
cat "$out"
[ "$(wc -l <"$out")" -eq 1 ] || { echo "expected exactly one line on stdout"; exit 1; }
shift
/usr/bin/python3 -c '
import json, os, sys
args = sys.argv[2:]
flag = lambda name: args[args.index(name) + 1] if name in args else None
r = json.loads(open(sys.argv[1]).read())
keys = {"workload", "algo", "steps", "threads", "its_per_s", "median_s", "timed_iters", "peak_rss_mb", "gflops"}
assert set(r) == keys, f"keys {sorted(r)} != {sorted(keys)}"
assert r["workload"] == flag("--workload") and r["algo"] == flag("--algo"), r
assert r["steps"] == int(flag("--steps")) and r["threads"] == int(flag("--threads")), r
null_keys = [k for k in os.environ.get("NULL_KEYS", "").split(",") if k]
for k in null_keys:
    assert r[k] is None, f"{k} = {r[k]!r}, want null"
for k in ("its_per_s", "median_s", "peak_rss_mb", "gflops"):
    if k in null_keys:
        continue
    assert isinstance(r[k], (int, float)) and r[k] > 0, f"{k} = {r[k]!r}, want a positive number"
assert abs(r["its_per_s"] * r["median_s"] - 1) < 1e-6, "its_per_s must be 1 / median_s"
max_median = float(os.environ.get("MAX_MEDIAN_S", "30"))
assert r["median_s"] < max_median, f"one meta-iteration of this configuration should take less than {max_median} s"
assert 1 < r["peak_rss_mb"] < 4096, "peak RSS out of range"
assert r["gflops"] is None or r["gflops"] < 10000, "GFLOP/s out of range"
n = r["timed_iters"]
assert isinstance(n, int) and n >= 1, f"timed_iters = {n!r}"
if flag("--max-seconds") is None:
    assert n == int(flag("--iters")), f"timed_iters = {n}, not the --iters given"
else:
    assert n < int(flag("--iters")), f"--max-seconds did not stop early: timed_iters = {n}"
print("ok")
' "$out" "$@"
