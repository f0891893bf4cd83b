#!/usr/bin/env bash
# test_side_by_side.sh PYTHON SIDE_BY_SIDE_PY: bench/side_by_side.py against fakes.
#
# Neither PyTorch nor the real bench_meta is needed: a fake bench_meta and a fake
# torch_ref.py (through side_by_side.py's internal --torch-cmd hook) print the
# one-line JSON of the contract with known numbers, and the test checks the
# table, the JSON rows, the thread configurations passed to the torch runs and
# the exit statuses (check failure, missing PyTorch, missing binary, a failed run).
set -u
python=$1
runner=$2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fails=0
fail() { echo "FAIL: $*"; fails=$((fails + 1)); }

# Fake bench_meta: 100 it/s with 1 thread, 180 with 2; 10 MB.
cat >"$tmp/bench_meta" <<'FAKE'
#!/usr/bin/env bash
while [ $# -gt 0 ]; do
  case $1 in
    --workload) w=$2; shift ;; --algo) a=$2; shift ;; --steps) s=$2; shift ;; --threads) t=$2; shift ;;
  esac
  shift
done
its=100; [ "$t" = 2 ] && its=180
echo "bench_meta: progress on stderr" >&2
printf '{"workload":"%s","algo":"%s","steps":%s,"threads":%s,"its_per_s":%s,"median_s":0.01,"timed_iters":50,"peak_rss_mb":10,"gflops":1.5}\n' "$w" "$a" "$s" "$t" "$its"
FAKE

# Fake torch_ref.py: loop 20 it/s (250 MB); vec 50 it/s (240 MB) with torch 2 threads and
# OPENBLAS_NUM_THREADS=1, else 40 it/s (230 MB). FAKE_CHECK=fail makes --check fail;
# FAKE_CRASH=vec makes every vec run fail.
cat >"$tmp/torch_ref" <<'FAKE'
#!/usr/bin/env bash
tt=1
while [ $# -gt 0 ]; do
  case $1 in
    --check) echo "check sinusoid maml steps=1: ok"
             [ "${FAKE_CHECK:-}" = fail ] && { echo "check: FAILED"; exit 1; }
             echo "check: all agree"; exit 0 ;;
    --workload) w=$2; shift ;; --algo) a=$2; shift ;; --steps) s=$2; shift ;;
    --form) f=$2; shift ;; --torch-threads) tt=$2; shift ;;
  esac
  shift
done
[ "${FAKE_CRASH:-}" = "$f" ] && { echo "torch_ref: out of memory" >&2; exit 1; }
its=20; rss=250
if [ "$f" = vec ]; then
  its=40; rss=230
  [ "$tt" = 2 ] && [ "${OPENBLAS_NUM_THREADS:-}" = 1 ] && { its=50; rss=240; }
fi
echo "$f $tt ${OPENBLAS_NUM_THREADS:-unset}" >>"$FAKE_LOG"
printf '{"workload":"%s","algo":"%s","steps":%s,"form":"%s","torch_threads":%s,"openblas_threads":%s,"its_per_s":%s,"median_s":0.02,"timed_iters":50,"peak_rss_mb":%s}\n' \
  "$w" "$a" "$s" "$f" "$tt" "${OPENBLAS_NUM_THREADS:-null}" "$its" "$rss"
FAKE

# A Python without PyTorch.
cat >"$tmp/no_torch_python" <<'FAKE'
#!/usr/bin/env bash
exit 1
FAKE
chmod +x "$tmp/bench_meta" "$tmp/torch_ref" "$tmp/no_torch_python"
export FAKE_LOG=$tmp/torch_runs.log

common=(--workloads sinusoid --algos maml,reptile --steps 1 --threads 1,2 --quick
        --metagrad "$tmp/bench_meta" --torch-cmd "$tmp/torch_ref")

# 1. A normal run.
"$python" "$runner" "${common[@]}" --json "$tmp/out.json" >"$tmp/stdout" 2>"$tmp/stderr"
status=$?
[ "$status" -eq 0 ] || fail "normal run: exit status $status"
grep -q '^machine: .*load average' "$tmp/stdout" || fail "no machine line"
grep -q '^check: loop and vec PyTorch forms agree' "$tmp/stdout" || fail "no check line"
grep -q '^| workload | algo | steps | threads | metagrad it/s | torch loop it/s | torch vec it/s | ratio vs best torch | metagrad RSS MB | torch RSS MB | RSS ratio |$' "$tmp/stdout" \
  || fail "table header"
grep -qF '| sinusoid | maml | 1 | 1 | 100 | 20 | 40 | 2.50× | 10 | 230 | 0.04× |' "$tmp/stdout" || fail "row maml threads 1"
grep -qF '| sinusoid | maml | 1 | 2 | 180 | 20 | 50 | 3.60× | 10 | 240 | 0.04× |' "$tmp/stdout" || fail "row maml threads 2"
grep -qF '| sinusoid | reptile | 1 | 2 | 180 | 20 | 50 | 3.60× | 10 | 240 | 0.04× |' "$tmp/stdout" || fail "row reptile threads 2"
# One progress line per measurement: rows with 1 thread take 3, with 2 threads 9.
n=$(grep -c '^\[[0-9]*/24\] sinusoid' "$tmp/stderr")
[ "$n" -eq 24 ] || fail "expected 24 progress lines, got $n"
# Torch ran with the three thread combinations for 2 threads, each in both forms.
for combo in "loop 1 1" "vec 1 1" "loop 2 1" "vec 2 1" "loop 1 2" "vec 1 2" "loop 2 2" "vec 2 2"; do
  grep -qx "$combo" "$FAKE_LOG" || fail "torch never ran as '$combo' (form torch_threads OPENBLAS_NUM_THREADS)"
done
"$python" - "$tmp/out.json" <<'PY' || fail "JSON rows"
import json, sys
rows = json.load(open(sys.argv[1]))
keys = ["workload", "algo", "steps", "threads", "metagrad_its", "torch_loop_its", "torch_vec_its",
        "metagrad_rss_mb", "torch_rss_mb"]
assert len(rows) == 4, rows
for r in rows:
    missing = [k for k in keys if k not in r]
    assert not missing, missing
r = [x for x in rows if x["algo"] == "maml" and x["threads"] == 2][0]
assert (r["workload"], r["steps"], r["metagrad_its"], r["torch_loop_its"], r["torch_vec_its"]) == \
       ("sinusoid", 1, 180, 20, 50), r
assert (r["metagrad_rss_mb"], r["torch_rss_mb"]) == (10, 240), r
assert r["torch_best_config"] == "vec torch=2 openblas=1", r
PY

# 2. The check fails: status 1, nothing timed.
: >"$FAKE_LOG"
FAKE_CHECK=fail "$python" "$runner" "${common[@]}" --json "$tmp/fail.json" >"$tmp/stdout" 2>"$tmp/stderr"
status=$?
[ "$status" -eq 1 ] || fail "failed check: exit status $status, expected 1"
grep -q 'CHECK FAILED' "$tmp/stderr" || fail "failed check: no CHECK FAILED message"
[ -s "$FAKE_LOG" ] && fail "failed check: torch was timed anyway"

# 3. PyTorch missing: status 2 and how to install it.
"$python" "$runner" --workloads sinusoid --metagrad "$tmp/bench_meta" --python "$tmp/no_torch_python" \
  >"$tmp/stdout" 2>"$tmp/stderr"
status=$?
[ "$status" -eq 2 ] || fail "no torch: exit status $status, expected 2"
grep -q 'apt-get install python3-torch' "$tmp/stderr" || fail "no torch: no install hint"

# 4. bench_meta missing: status 2.
"$python" "$runner" "${common[@]}" --metagrad "$tmp/nope" >"$tmp/stdout" 2>"$tmp/stderr"
status=$?
[ "$status" -eq 2 ] || fail "no bench_meta: exit status $status, expected 2"

# 5. Every vec run fails: status 1, the row still printed, with a dash.
FAKE_CRASH=vec "$python" "$runner" "${common[@]}" --threads 1 --algos maml --json "$tmp/crash.json" \
  >"$tmp/stdout" 2>"$tmp/stderr"
status=$?
[ "$status" -eq 1 ] || fail "failed runs: exit status $status, expected 1"
grep -qF '| sinusoid | maml | 1 | 1 | 100 | 20 | — | 5.00× | 10 | 250 | 0.04× |' "$tmp/stdout" || fail "failed runs: row"
grep -q 'FAILED (exit status 1: torch_ref: out of memory)' "$tmp/stderr" || fail "failed runs: progress line"

# 6. --quick leaves out omniglot with 5 inner steps unless --steps is given; omniglot runs
#    metagrad once per round (1 + 2 forms x 3 thread combinations = 7 runs for 2 threads).
"$python" "$runner" --workloads omniglot --algos maml --threads 2 --quick --skip-check \
  --metagrad "$tmp/bench_meta" --torch-cmd "$tmp/torch_ref" --json "$tmp/q.json" >"$tmp/stdout" 2>"$tmp/stderr"
grep -qF '| omniglot | maml | 1 | 2 |' "$tmp/stdout" || fail "quick: omniglot steps=1 row missing"
grep -qF '| omniglot | maml | 5 |' "$tmp/stdout" && fail "quick: omniglot steps=5 row present"
grep -q 'leaves out 1 rows with omniglot steps=5' "$tmp/stderr" || fail "quick: no note about the left-out rows"
n=$(grep -c '^\[[0-9]*/7\] omniglot' "$tmp/stderr")
[ "$n" -eq 7 ] || fail "quick omniglot: expected 7 progress lines, got $n"
"$python" "$runner" --workloads omniglot --algos maml --steps 5 --threads 1 --quick --skip-check \
  --metagrad "$tmp/bench_meta" --torch-cmd "$tmp/torch_ref" --json "$tmp/q.json" >"$tmp/stdout" 2>"$tmp/stderr"
grep -qF '| omniglot | maml | 5 | 1 |' "$tmp/stdout" || fail "quick --steps 5: row missing"

# 7. --help works.
"$python" "$runner" --help >"$tmp/stdout" 2>&1 || fail "--help"
grep -q -- '--quick' "$tmp/stdout" || fail "--help does not mention --quick"

if [ "$fails" -ne 0 ]; then
  echo "--- last stdout"; cat "$tmp/stdout"; echo "--- last stderr"; cat "$tmp/stderr"
  exit 1
fi
echo "ok"
