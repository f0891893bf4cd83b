#!/usr/bin/env bash
# The README's quick start. On a fresh Debian 12 machine (as root) it installs
# what is missing, configures and builds with Meson, then:
#   bash tools/quickstart.sh run        the main job: MAML on sinusoid regression (metalearn train)
#   bash tools/quickstart.sh test       the whole test suite (release build)
#   bash tools/quickstart.sh sanitize   the whole test suite under ASan + UBSan
# Extra arguments after `run` go to metalearn.
set -euo pipefail
cd "$(dirname "$0")/.."

packages=(g++ meson ninja-build pkg-config cmake libopenblas-dev libfmt-dev doctest-dev
          libbenchmark-dev libpng-dev libcli11-dev)

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

# configure DIR [meson options...]: set up once, reconfigure only when options change.
configure() {
  local dir=$1
  shift
  if [ ! -f "$dir/build.ninja" ]; then
    meson setup "$dir" "$@" >/dev/null
  fi
  ninja -C "$dir" >/dev/null
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

cmd=${1:-run}
shift || true
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
    configure build-sanitize -Db_sanitize=address,undefined -Dbuildtype=debugoptimized -Db_ndebug=false -Dbench=disabled
    ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
      run_tests build-sanitize --timeout-multiplier 4
    ;;
  *)
    echo "usage: bash tools/quickstart.sh run|test|sanitize" >&2
    exit 2
    ;;
esac
