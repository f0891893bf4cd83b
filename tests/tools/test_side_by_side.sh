#!/usr/bin/env bash
# test_side_by_side.sh PYTHON SIDE_BY_SIDE_PY: bench/side_by_side.py against fakes.
#
# Neither PyTorch nor the real bench_meta is needed: a fake bench_meta, a fake
# torch_ref.py (through side_by_side.py's internal --torch-cmd hook), a fake
# torch_ref_cpp (--libtorch) and a fake fma_peak (--fma-peak) print the one-line
# JSON of the contract with known numbers, and the test checks the header lines,
# the table (the analytic GFLOP/iter, achieved GFLOP/s and % of peak included),
# the JSON rows, the thread configurations passed to the torch runs and the exit
# statuses (check failure, missing PyTorch, missing binary, a failed run), and the
# n/a columns without torch_ref_cpp or fma_peak.
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
# Fake torch_ref_cpp: 30 it/s (100 MB); 80 it/s with 2 threads and OPENBLAS_NUM_THREADS=1.
# FAKE_CRASH=libtorch makes every run fail.
cat >"$tmp/torch_ref_cpp" <<'FAKE'
#!/usr/bin/env bash
while [ $# -gt 0 ]; do
  case $1 in
    --workload) w=$2; shift ;; --algo) a=$2; shift ;; --steps) s=$2; shift ;; --threads) t=$2; shift ;;
  esac
  shift
done
[ "${FAKE_CRASH:-}" = libtorch ] && { echo "torch_ref_cpp: bad_alloc" >&2; exit 1; }
its=30; [ "$t" = 2 ] && [ "${OPENBLAS_NUM_THREADS:-}" = 1 ] && its=80
echo "libtorch $t ${OPENBLAS_NUM_THREADS:-unset}" >>"$FAKE_LOG"
printf '{"workload":"%s","algo":"%s","steps":%s,"threads":%s,"its_per_s":%s,"median_s":0.01,"timed_iters":50,"peak_rss_mb":100,"gflops":null}\n' "$w" "$a" "$s" "$t" "$its"
FAKE

# Fake fma_peak: 100 GFLOP/s per thread. FAKE_FMA=fail makes it fail.
cat >"$tmp/fma_peak" <<'FAKE'
#!/usr/bin/env bash
[ "${FAKE_FMA:-}" = fail ] && { echo "fma_peak: no" >&2; exit 1; }
threads=1,2
while [ $# -gt 0 ]; do
  case $1 in --threads) threads=$2; shift ;; esac
  shift
done
g=$(echo "$threads" | tr ',' '\n' | sed 's/$/00.0/' | paste -sd, -)
printf '{"isa":"avx512f","lanes":16,"threads":[%s],"gflops":[%s]}\n' "$threads" "$g"
FAKE
chmod +x "$tmp/bench_meta" "$tmp/torch_ref" "$tmp/no_torch_python" "$tmp/torch_ref_cpp" "$tmp/fma_peak"
export FAKE_LOG=$tmp/torch_runs.log

fakes=(--metagrad "$tmp/bench_meta" --torch-cmd "$tmp/torch_ref" --libtorch "$tmp/torch_ref_cpp"
       --fma-peak "$tmp/fma_peak")
common=(--workloads sinusoid --algos maml,reptile --steps 1 --threads 1,2 --quick "${fakes[@]}")

# 1. A normal run.
"$python" "$runner" "${common[@]}" --json "$tmp/out.json" >"$tmp/stdout" 2>"$tmp/stderr"
status=$?
[ "$status" -eq 0 ] || fail "normal run: exit status $status"
grep -q '^machine: .*, ISA .*, load average' "$tmp/stdout" || fail "no machine line"
grep -qx 'peak: fma_peak avx512f fp32: 1 thread 100.0 GFLOP/s, 2 threads 200.0 GFLOP/s' "$tmp/stdout" || fail "no peak line"
grep -q '^check: loop and vec PyTorch forms agree' "$tmp/stdout" || fail "no check line"
grep -q '^| workload | algo | steps | threads | metagrad it/s | torch loop it/s | torch vec it/s | libtorch it/s | ratio vs best torch | GFLOP/iter | metagrad GFLOP/s | metagrad % of peak | best torch GFLOP/s | best torch % of peak | metagrad RSS MB | torch RSS MB | RSS ratio |$' "$tmp/stdout" \
  || fail "table header"
# sinusoid maml, 1 step: 25 tasks x (3 x (F + B) of 10 support points + F + B of 10 query points)
# = 25 x 4 x (33,600 + 66,400) = 0.01 GFLOP; reptile: 25 x (100,000 + 33,600) = 0.00334 GFLOP.
grep -qF '| sinusoid | maml | 1 | 1 | 100 | 20 | 40 | 30 | 2.50× | 0.01 | 1 | 1.0% | 0.4 | 0.4% | 10 | 230 | 0.04× |' "$tmp/stdout" \
  || fail "row maml threads 1"
grep -qF '| sinusoid | maml | 1 | 2 | 180 | 20 | 50 | 80 | 2.25× | 0.01 | 1.8 | 0.9% | 0.8 | 0.4% | 10 | 100 | 0.10× |' "$tmp/stdout" \
  || fail "row maml threads 2"
grep -qF '| sinusoid | reptile | 1 | 2 | 180 | 20 | 50 | 80 | 2.25× | 0.00334 | 0.601 | 0.3% | 0.267 | 0.1% | 10 | 100 | 0.10× |' \
  "$tmp/stdout" || fail "row reptile threads 2"
# One progress line per measurement: rows with 1 thread take 4, with 2 threads 12.
n=$(grep -c '^\[[0-9]*/32\] sinusoid' "$tmp/stderr")
[ "$n" -eq 32 ] || fail "expected 32 progress lines, got $n"
# Torch ran with the three thread combinations for 2 threads, each in the three forms.
for combo in "loop 1 1" "vec 1 1" "libtorch 1 1" "loop 2 1" "vec 2 1" "libtorch 2 1" "loop 1 2" "vec 1 2" \
             "libtorch 1 2" "loop 2 2" "vec 2 2" "libtorch 2 2"; do
  grep -qx "$combo" "$FAKE_LOG" || fail "torch never ran as '$combo' (form torch_threads OPENBLAS_NUM_THREADS)"
done
"$python" - "$tmp/out.json" <<'PY' || fail "JSON rows"
import json, sys
rows = json.load(open(sys.argv[1]))
keys = ["workload", "algo", "steps", "threads", "metagrad_its", "torch_loop_its", "torch_vec_its",
        "libtorch_its", "metagrad_rss_mb", "torch_rss_mb", "flops_per_iter", "metagrad_achieved_gflops",
        "best_torch_achieved_gflops", "peak_gflops", "metagrad_pct_peak", "best_torch_pct_peak"]
assert len(rows) == 4, rows
for r in rows:
    missing = [k for k in keys if k not in r]
    assert not missing, missing
r = [x for x in rows if x["algo"] == "maml" and x["threads"] == 2][0]
assert (r["workload"], r["steps"], r["metagrad_its"], r["torch_loop_its"], r["torch_vec_its"], r["libtorch_its"]) == \
       ("sinusoid", 1, 180, 20, 50, 80), r
assert (r["metagrad_rss_mb"], r["torch_rss_mb"]) == (10, 100), r
assert r["torch_best_config"] == "libtorch torch=2 openblas=1", r
assert abs(r["flops_per_iter"] - 1e7) < 1e-3 and r["peak_gflops"] == 200 and r["peak_isa"] == "avx512f", r
assert abs(r["metagrad_achieved_gflops"] - 1.8) < 1e-9 and abs(r["metagrad_pct_peak"] - 0.9) < 1e-9, r
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

# 5. Every vec run fails: status 1, the row still printed, with a dash; the same for libtorch.
FAKE_CRASH=vec "$python" "$runner" "${common[@]}" --threads 1 --algos maml --json "$tmp/crash.json" \
  >"$tmp/stdout" 2>"$tmp/stderr"
status=$?
[ "$status" -eq 1 ] || fail "failed runs: exit status $status, expected 1"
grep -qF '| sinusoid | maml | 1 | 1 | 100 | 20 | — | 30 | 3.33× | 0.01 | 1 | 1.0% | 0.3 | 0.3% | 10 | 100 | 0.10× |' \
  "$tmp/stdout" || fail "failed runs: row"
grep -q 'FAILED (exit status 1: torch_ref: out of memory)' "$tmp/stderr" || fail "failed runs: progress line"
FAKE_CRASH=libtorch "$python" "$runner" "${common[@]}" --threads 1 --algos maml --json "$tmp/crash.json" \
  >"$tmp/stdout" 2>"$tmp/stderr"
status=$?
[ "$status" -eq 1 ] || fail "failed libtorch runs: exit status $status, expected 1"
grep -qF '| sinusoid | maml | 1 | 1 | 100 | 20 | 40 | — | 2.50× |' "$tmp/stdout" || fail "failed libtorch runs: row"
grep -q 'libtorch (torch 1, OpenBLAS 1): FAILED (exit status 1: torch_ref_cpp: bad_alloc)' "$tmp/stderr" \
  || fail "failed libtorch runs: progress line"

# 5b. No torch_ref_cpp and no fma_peak: the libtorch and % of peak columns say n/a, the
#     header says why; a failing fma_peak gives n/a too.
"$python" "$runner" --workloads sinusoid --algos maml --steps 1 --threads 1 --quick --metagrad "$tmp/bench_meta" \
  --torch-cmd "$tmp/torch_ref" --libtorch "$tmp/nope" --fma-peak "$tmp/nope" --json "$tmp/na.json" \
  >"$tmp/stdout" 2>"$tmp/stderr"
status=$?
[ "$status" -eq 0 ] || fail "n/a columns: exit status $status"
grep -qF '| sinusoid | maml | 1 | 1 | 100 | 20 | 40 | n/a | 2.50× | 0.01 | 1 | n/a | 0.4 | n/a | 10 | 230 | 0.04× |' \
  "$tmp/stdout" || fail "n/a columns: row"
grep -qx "peak: n/a (no fma_peak at $tmp/nope)" "$tmp/stdout" || fail "n/a columns: peak line"
grep -q "no libtorch reference at $tmp/nope" "$tmp/stderr" || fail "n/a columns: no note about libtorch"
n=$(grep -c '^\[[0-9]*/3\] sinusoid' "$tmp/stderr")
[ "$n" -eq 3 ] || fail "n/a columns: expected 3 progress lines, got $n"
FAKE_FMA=fail "$python" "$runner" "${common[@]}" --threads 1 --algos maml --json "$tmp/na.json" \
  >"$tmp/stdout" 2>"$tmp/stderr"
grep -qx 'peak: n/a (fma_peak failed (exit status 1: fma_peak: no))' "$tmp/stdout" || fail "failing fma_peak: peak line"
grep -qF '| 0.01 | 1 | n/a | 0.4 | n/a |' "$tmp/stdout" || fail "failing fma_peak: row"

# 6. --quick leaves out the conv nets with 5 inner steps unless --steps is given; they run
#    metagrad once per round (1 + 3 forms x 3 thread combinations = 10 runs for 2 threads).
"$python" "$runner" --workloads omniglot --algos maml --threads 2 --quick --skip-check "${fakes[@]}" \
  --json "$tmp/q.json" >"$tmp/stdout" 2>"$tmp/stderr"
grep -qF '| omniglot | maml | 1 | 2 |' "$tmp/stdout" || fail "quick: omniglot steps=1 row missing"
grep -qF '| omniglot | maml | 5 |' "$tmp/stdout" && fail "quick: omniglot steps=5 row present"
grep -q 'leaves out 1 rows with omniglot steps=5' "$tmp/stderr" || fail "quick: no note about the left-out rows"
n=$(grep -c '^\[[0-9]*/10\] omniglot' "$tmp/stderr")
[ "$n" -eq 10 ] || fail "quick omniglot: expected 10 progress lines, got $n"
"$python" "$runner" --workloads omniglot --algos maml --steps 5 --threads 1 --quick --skip-check "${fakes[@]}" \
  --json "$tmp/q.json" >"$tmp/stdout" 2>"$tmp/stderr"
grep -qF '| omniglot | maml | 5 | 1 |' "$tmp/stdout" || fail "quick --steps 5: row missing"

# 6b. The new workloads, with their FLOP counts per meta-iteration (fomaml, 1 step):
#     omniglot (max-pool) 148 GFLOP, strided 40.2, MiniImageNet 48.6 (4 tasks of 84x84x3).
"$python" "$runner" --workloads omniglot,omniglot_strided,miniimagenet --algos fomaml --threads 1 --quick \
  --skip-check "${fakes[@]}" --json "$tmp/q.json" >"$tmp/stdout" 2>"$tmp/stderr"
grep -qF '| omniglot | fomaml | 1 | 1 | 100 | 20 | 40 | 30 | 2.50× | 148 |' "$tmp/stdout" || fail "omniglot fomaml row"
grep -qF '| omniglot_strided | fomaml | 1 | 1 | 100 | 20 | 40 | 30 | 2.50× | 40.2 |' "$tmp/stdout" \
  || fail "omniglot_strided row"
grep -qF '| miniimagenet | fomaml | 1 | 1 | 100 | 20 | 40 | 30 | 2.50× | 48.6 |' "$tmp/stdout" || fail "miniimagenet row"
grep -q 'leaves out 3 rows with omniglot,omniglot_strided,miniimagenet steps=5' "$tmp/stderr" \
  || fail "quick: no note about the left-out rows of the new workloads"

# 6c. nav2d (issue 18): its own check (bench_meta --nav-fixture, then torch_nav_ref.py
#     --check on that file), only the vec form, maml and fomaml with 1 step, no FLOP count.
cat >"$tmp/bench_meta_nav" <<'FAKE'
#!/usr/bin/env bash
args=("$@")
while [ $# -gt 0 ]; do
  case $1 in --nav-fixture) echo '{"fixture": 1}' >"$2"; echo "bench_meta: wrote $2" >&2; exit 0 ;; esac
  shift
done
exec "$(dirname "$0")/bench_meta" "${args[@]}"
FAKE
cat >"$tmp/torch_nav_ref" <<'FAKE'
#!/usr/bin/env bash
tt=1
while [ $# -gt 0 ]; do
  case $1 in
    --check) grep -q fixture "$2" || { echo "check: no fixture at $2"; exit 1; }
             [ "${FAKE_NAV_CHECK:-}" = fail ] && { echo "check nav2d second-order meta-gradient: FAIL"; exit 1; }
             echo "check: nav2d agrees with metagrad"; exit 0 ;;
    --workload) w=$2; shift ;; --algo) a=$2; shift ;; --steps) s=$2; shift ;;
    --form) f=$2; shift ;; --torch-threads) tt=$2; shift ;;
  esac
  shift
done
its=0.02; [ "$tt" = 2 ] && its=0.03
echo "nav $f $tt ${OPENBLAS_NUM_THREADS:-unset}" >>"$FAKE_LOG"
printf '{"workload":"%s","algo":"%s","steps":%s,"threads":%s,"form":"%s","torch_threads":%s,' "$w" "$a" "$s" "$tt" "$f" "$tt"
printf '"openblas_threads":%s,"its_per_s":%s,"median_s":50,"timed_iters":1,"peak_rss_mb":1500,"gflops":null}\n' \
  "${OPENBLAS_NUM_THREADS:-null}" "$its"
FAKE
chmod +x "$tmp/bench_meta_nav" "$tmp/torch_nav_ref"
: >"$FAKE_LOG"
nav=(--workloads nav2d --algos maml,fomaml,reptile --steps 1 --threads 1,2 --metagrad "$tmp/bench_meta_nav"
     --torch-cmd "$tmp/torch_ref" --torch-nav-cmd "$tmp/torch_nav_ref" --libtorch "$tmp/torch_ref_cpp"
     --fma-peak "$tmp/fma_peak")
"$python" "$runner" "${nav[@]}" --json "$tmp/nav.json" >"$tmp/stdout" 2>"$tmp/stderr"
status=$?
[ "$status" -eq 0 ] || fail "nav2d: exit status $status"
grep -q '^check: the PyTorch nav2d reference agrees with metagrad' "$tmp/stdout" || fail "nav2d: no check line"
grep -q '^check: loop and vec' "$tmp/stdout" && fail "nav2d: torch_ref.py --check ran for nav2d alone"
grep -q 'nav2d has rows for maml and fomaml with 1 inner step only; leaving out 2 rows' "$tmp/stderr" \
  || fail "nav2d: no note about the reptile rows"
grep -qF '| nav2d | maml | 1 | 1 | 100 | n/a | 0.02 | n/a | 5000.00× | — | — | — | — | — | 10 | 1500 | 0.01× |' \
  "$tmp/stdout" || fail "nav2d: row maml threads 1"
grep -qF '| nav2d | fomaml | 1 | 2 | 180 | n/a | 0.03 | n/a | 6000.00× | — |' "$tmp/stdout" \
  || fail "nav2d: row fomaml threads 2"
grep -qF '| nav2d | reptile |' "$tmp/stdout" && fail "nav2d: a reptile row"
# Only the vec form, with the three thread combinations for 2 threads; 1 + 1 + 1 + 3 runs per algorithm.
for combo in "nav vec 1 1" "nav vec 2 1" "nav vec 1 2" "nav vec 2 2"; do
  grep -qx "$combo" "$FAKE_LOG" || fail "nav2d: torch_nav_ref never ran as '$combo'"
done
grep -qv '^nav ' "$FAKE_LOG" && fail "nav2d: torch_ref.py or torch_ref_cpp ran for nav2d"
n=$(grep -c '^\[[0-9]*/12\] nav2d' "$tmp/stderr")
[ "$n" -eq 12 ] || fail "nav2d: expected 12 progress lines, got $n"
: >"$FAKE_LOG"
FAKE_NAV_CHECK=fail "$python" "$runner" "${nav[@]}" --json "$tmp/nav.json" >"$tmp/stdout" 2>"$tmp/stderr"
status=$?
[ "$status" -eq 1 ] || fail "nav2d failed check: exit status $status, expected 1"
grep -q 'CHECK FAILED: the PyTorch nav2d reference does not compute what metagrad does' "$tmp/stderr" \
  || fail "nav2d failed check: no message"
[ -s "$FAKE_LOG" ] && fail "nav2d failed check: torch was timed anyway"

# 7. --help works.
"$python" "$runner" --help >"$tmp/stdout" 2>&1 || fail "--help"
grep -q -- '--quick' "$tmp/stdout" || fail "--help does not mention --quick"
grep -q -- '--libtorch' "$tmp/stdout" || fail "--help does not mention --libtorch"
grep -q 'omniglot_strided,miniimagenet' "$tmp/stdout" || fail "--help does not list the new workloads"
tr '\n' ' ' <"$tmp/stdout" | tr -s ' ' | grep -q 'miniimagenet,nav2d (default: all but nav2d)' \
  || fail "--help does not list nav2d"
"$python" "$runner" --workloads bogus >"$tmp/stdout" 2>&1 && fail "--workloads bogus accepted"
grep -q "'bogus' is not one of sinusoid, omniglot, omniglot_strided, miniimagenet" "$tmp/stdout" \
  || fail "--workloads bogus: no list of the workloads"

if [ "$fails" -ne 0 ]; then
  echo "--- last stdout"; cat "$tmp/stdout"; echo "--- last stderr"; cat "$tmp/stderr"
  exit 1
fi
echo "ok"
