#!/usr/bin/env bash
# The README's quick start. On a fresh Debian 12 machine (as root) it installs
# what is missing, configures and builds with Meson, then:
#   bash tools/quickstart.sh run        the main job: MAML on sinusoid regression (metalearn train)
#   bash tools/quickstart.sh test       the whole test suite (release build)
#   bash tools/quickstart.sh sanitize   the whole test suite under ASan + UBSan
#   bash tools/quickstart.sh fuzz       the libFuzzer harnesses of tests/fuzz (clang), each for
#                                       $FUZZ_SECONDS seconds (default 8) from its seed corpus
#   bash tools/quickstart.sh tsan       the test suites that run threads, under ThreadSanitizer
# Extra arguments after `run` go to metalearn.
set -euo pipefail
cd "$(dirname "$0")/.."

packages=(g++ meson ninja-build pkg-config cmake libopenblas-dev libfmt-dev doctest-dev
          libbenchmark-dev libpng-dev libcli11-dev graphviz libopenmpi-dev openmpi-bin)
# clang with its sanitizer and libFuzzer runtimes, for the fuzz and tsan modes.
clang_packages=(clang-14 libclang-rt-14-dev)

install_missing() {
  local missing=()
  for p in "${packages[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing+=("$p")
  done
  if ((${#missing[@]})); then
    echo "quickstart: installing ${missing[*]}"
    local sudo=()
    [ "$(id -u)" -eq 0 ] || sudo=(sudo)
    "${sudo[@]}" apt-get update -qq
    DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -qq "${missing[@]}" >/dev/null
  fi
}

# quiet_ninja DIR [TARGETS...]: builds quietly; when the build fails, prints ninja's output
# (the compiler's error) before failing, so a CI log says why.
quiet_ninja() {
  local log
  log=$(mktemp)
  if ! ninja -C "$@" >"$log" 2>&1; then
    cat "$log"
    rm -f "$log"
    return 1
  fi
  rm -f "$log"
}

# configure DIR [meson options...]: set up once, reconfigure only when options change.
configure() {
  local dir=$1
  shift
  if [ ! -f "$dir/build.ninja" ]; then
    meson setup "$dir" "$@" >/dev/null
  fi
  quiet_ninja "$dir"
}

# Runs meson test in DIR and prints its totals as "N passed, N failed".
run_tests() {
  local dir=$1 rc=0
  shift
  meson test -C "$dir" --print-errorlogs "$@" || rc=$?
  python3 - "$dir/meson-logs/testlog.json" <<'PY'
import json, sys
ok = bad = 0
for line in open(sys.argv[1]):
    r = json.loads(line)["result"]
    if r in ("OK", "EXPECTEDFAIL"): ok += 1
    elif r != "SKIP": bad += 1
print(f"{ok} passed, {bad} failed")
PY
  return $rc
}

# What the tsan mode runs (tests/meson.build builds these files into
# metagrad_threaded_tests): the doctest suites that start threads (parallel_for's
# workers, std::thread in the tape tests, meta-learners and evaluation with threads > 1),
# and of the storage and sgemm suites only the cases with threads (the others make large
# single-threaded allocations).
tsan_filters=("-ts=engine,parallel,datasets_tasks,datasets_omniglot,datasets_episodes,maml,reptile,evaluate"
              "-ts=storage,sgemm -tc=*thread*")
fuzz_harnesses=(png checkpoint omniglot episodes splits text_csv train_config)

# run_tsan DIR: the threaded tests under ThreadSanitizer, as meson test would run them
# (from DIR, OpenBLAS on one thread, the shared Omniglot). Prints "N passed, N failed"
# (doctest test cases).
run_tsan() {
  local dir=$1 ok=0 bad=0 status=0 filter out
  for filter in "${tsan_filters[@]}"; do
    out=$(mktemp)
    # shellcheck disable=SC2086  # a filter is one or two doctest options
    (cd "$dir" && OPENBLAS_NUM_THREADS=1 METAGRAD_DEFAULT_OMNIGLOT="$OLDPWD/../shared/data/omniglot" \
      TSAN_OPTIONS=halt_on_error=1:second_deadlock_stack=1:allocator_may_return_null=1 \
      ./tests/metagrad_threaded_tests $filter --no-version) 2>&1 | tee "$out" || status=1
    local line
    line=$(grep -E '^\[doctest\] test cases:' "$out" | tail -n 1)
    if [ -z "$line" ]; then
      bad=$((bad + 1))
    else
      ok=$((ok + $(echo "$line" | sed -E 's/.*\| *([0-9]+) passed.*/\1/')))
      bad=$((bad + $(echo "$line" | sed -E 's/.*\| *([0-9]+) failed.*/\1/')))
    fi
    rm -f "$out"
  done
  echo "${ok} passed, ${bad} failed"
  [ "$status" -eq 0 ] && [ "$bad" -eq 0 ]
}

# run_fuzzers DIR: each harness for $FUZZ_SECONDS from a scratch copy of its seed corpus,
# two at a time (one per core). A harness passes when libFuzzer ends without a finding;
# a finding is saved under DIR/fuzz-artifacts/<name>/. Prints "N passed, N failed".
run_fuzzers() {
  local dir=$1 seconds=${FUZZ_SECONDS:-8} ok=0 bad=0 name pids=() names=()
  run_one() {
    local name=$1 work=$dir/fuzz-corpus/$1 art=$dir/fuzz-artifacts/$1/
    rm -rf "$work" && mkdir -p "$work" "$art"
    ASAN_OPTIONS=allocator_may_return_null=1:detect_leaks=1 UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
      "$dir/tests/fuzz/fuzz_$name" -max_total_time="$seconds" -timeout=20 -rss_limit_mb=2048 \
      -print_final_stats=1 -artifact_prefix="$art" "$work" "tests/fuzz/$name/corpus" >"$dir/fuzz-$name.log" 2>&1
  }
  for name in "${fuzz_harnesses[@]}"; do
    run_one "$name" &
    pids+=($!) names+=("$name")
    if ((${#pids[@]} == 2)); then
      for i in 0 1; do
        if wait "${pids[$i]}"; then ok=$((ok + 1)); else bad=$((bad + 1)); tail -n 40 "$dir/fuzz-${names[$i]}.log"; fi
      done
      pids=() names=()
    fi
  done
  for i in "${!pids[@]}"; do
    if wait "${pids[$i]}"; then ok=$((ok + 1)); else bad=$((bad + 1)); tail -n 40 "$dir/fuzz-${names[$i]}.log"; fi
  done
  for name in "${fuzz_harnesses[@]}"; do
    local runs
    runs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$dir/fuzz-$name.log" | grep -o '[0-9]*$' || echo '?')
    echo "fuzz_$name: $runs executions in ${seconds} s, corpus $(ls "$dir/fuzz-corpus/$name" | wc -l) inputs," \
      "findings: $(ls "$dir/fuzz-artifacts/$name" | wc -l)"
  done
  echo "${ok} passed, ${bad} failed"
  [ "$bad" -eq 0 ]
}

cmd=${1:-run}
shift || true
case "$cmd" in
  sanitize | fuzz | tsan) packages+=("${clang_packages[@]}") ;;
esac
install_missing
case "$cmd" in
  run)
    configure build
    exec ./build/tools/metalearn train "$@"
    ;;
  test)
    configure build
    run_tests build
    ;;
  sanitize)
    # clang at -O1 with line tables (-g1) for the stack traces, the libraries as unity
    # builds too (-Dunity=on; the tests are one already). The same build with g++ took
    # 355 s of CI's time against clang's ~150 (ninja's job times, same sources, session 9);
    # at -O2 -g it took 8 of CI's 20 minutes.
    if [ ! -f build-sanitize/build.ninja ]; then
      CC=clang-14 CXX=clang++-14 meson setup build-sanitize -Db_sanitize=address,undefined -Db_lundef=false \
        -Doptimization=1 -Ddebug=false -Dcpp_args=-g1 -Db_ndebug=false -Dbench=disabled -Dunity=on >/dev/null
    fi
    quiet_ninja build-sanitize
    ASAN_OPTIONS=detect_leaks=1:abort_on_error=1:allocator_may_return_null=1 UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
      run_tests build-sanitize --timeout-multiplier 4
    ;;
  fuzz)
    # Only the libraries the harnesses link, compiled with clang at -O1 with ASan, UBSan
    # and libFuzzer's coverage (-Dfuzz=enabled); no tests, benchmarks or metalearn. Not a
    # unity build: the checkpoint harness takes single objects of nn/ (tests/fuzz/meson.build).
    if [ ! -f build-fuzz/build.ninja ]; then
      CC=clang-14 CXX=clang++-14 meson setup build-fuzz -Dfuzz=enabled -Dcpp_args=-fsanitize=fuzzer-no-link \
        -Db_sanitize=address,undefined \
        -Doptimization=1 -Ddebug=false -Db_lundef=false -Dtests=disabled -Dbench=disabled >/dev/null
    fi
    quiet_ninja build-fuzz "${fuzz_harnesses[@]/#/tests/fuzz/fuzz_}"
    run_fuzzers build-fuzz
    ;;
  tsan)
    # clang's ThreadSanitizer at -O1, building only the libraries and the threaded tests
    # (not metalearn, the benchmarks or the other tests). OpenBLAS (not instrumented)
    # runs one thread.
    if [ ! -f build-tsan/build.ninja ]; then
      CC=clang-14 CXX=clang++-14 meson setup build-tsan -Db_sanitize=thread -Doptimization=1 -Ddebug=false \
        -Db_lundef=false -Dbench=disabled -Dunity=on >/dev/null
    fi
    quiet_ninja build-tsan tests/metagrad_threaded_tests
    run_tsan build-tsan
    ;;
  *)
    echo "usage: bash tools/quickstart.sh run|test|sanitize|fuzz|tsan" >&2
    exit 2
    ;;
esac
