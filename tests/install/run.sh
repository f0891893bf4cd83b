#!/usr/bin/env bash
# Out-of-tree use of metagrad, as a user would do it:
#   1. meson install into a temporary prefix; every installed header compiles on its own
#   2. a plain c++ command line with `pkg-config --cflags --libs metagrad`
#   3. a Meson project with dependency('metagrad') found through pkg-config
#   4. a Meson project with metagrad as a subproject (subprojects/metagrad)
# Each consumer must print "grad ok 6". Ends with "N passed, N failed".
# Usage: bash tests/install/run.sh [work dir]   (default: a temporary directory, removed)
set -euo pipefail
src=$(cd "$(dirname "$0")/../.." && pwd)
here=$src/tests/install
if [ $# -ge 1 ]; then
  work=$1
  mkdir -p "$work"
else
  work=$(mktemp -d)
  trap 'rm -rf "$work"' EXIT
fi
prefix=$work/prefix
export OPENBLAS_NUM_THREADS=1

passed=0 failed=0
# check NAME COMMAND...: runs COMMAND, which must succeed and print "grad ok 6".
check() {
  local name=$1 out
  shift
  if out=$("$@" 2>&1) && grep -qx 'grad ok 6' <<<"$out"; then
    echo "install test: $name: ok"
    passed=$((passed + 1))
  else
    echo "install test: $name: FAILED"
    echo "$out" | tail -n 30
    failed=$((failed + 1))
  fi
}

# 1. Install. With the release build of `quickstart.sh test` present (as in CI), that
# build is installed as it is, under a staging root (meson install --destdir), and its
# pkg-config files are pointed at the staged prefix (every path in them is relative to
# `prefix=`): no third build of the library. Otherwise a build of its own, buildtype=plain
# (no optimisation, no debug info) and unity: it tests what is installed and how it is
# found, not the code, which `quickstart.sh test` tests.
release=$src/build
if [ -f "$release/build.ninja" ]; then
  read -r configured libdir < <(meson introspect "$release" --buildoptions | python3 -c '
import json, sys
o = {x["name"]: x["value"] for x in json.load(sys.stdin)}
print(o["prefix"], o["libdir"])')
  prefix=$work/root$configured
else
  libdir=lib
fi
install_and_check_headers() {
  if [ -f "$release/build.ninja" ]; then
    ninja -C "$release" >/dev/null
    meson install -C "$release" --destdir "$work/root" --quiet
    sed -i "s|^prefix=.*|prefix=$prefix|" "$prefix/$libdir"/pkgconfig/metagrad*.pc
  else
    meson setup "$work/build" "$src" --prefix "$prefix" --libdir lib -Dbuildtype=plain \
      -Dtests=disabled -Dbench=disabled -Dunity=on >/dev/null
    ninja -C "$work/build" >/dev/null
    meson install -C "$work/build" --quiet
  fi
  test -f "$prefix/include/metagrad/autograd/ops.h"
  test -f "$prefix/$libdir/pkgconfig/metagrad.pc"
  test -x "$prefix/bin/metalearn"
  # Internal headers stay out; each public one compiles alone against the prefix.
  test ! -e "$prefix/include/metagrad/autograd/op_common.h"
  test ! -e "$prefix/include/metagrad/autograd/kernels"
  # One compiler per core (48 headers: 41 s one after another).
  printf '%s\n' "$prefix"/include/metagrad/*/*.h | xargs -P "$(nproc)" -I{} bash -c '
    echo "#include \"${1#"$0"/include/metagrad/}\"" |
      c++ -std=c++20 -Wall -Wextra -Wpedantic -Werror -fsyntax-only -x c++ - $(pkg-config --cflags metagrad) ||
      { echo "does not compile alone: $1"; exit 1; }' "$prefix" {} || return 1
  echo "grad ok 6"  # the step's success line
}
export PKG_CONFIG_PATH=$prefix/$libdir/pkgconfig${PKG_CONFIG_PATH:+:$PKG_CONFIG_PATH}
check "meson install, headers compile alone" install_and_check_headers

# 2. Plain compiler command line; aggregates filled by field must not warn (issue 16).
plain() {
  c++ -std=c++20 -Wall -Wextra -Wpedantic -Werror=missing-field-initializers -o "$work/plain" \
    "$here/consumer/main.cpp" \
    $(pkg-config --cflags --libs metagrad)
  "$work/plain"
}
check "c++ with pkg-config" plain

# 3. Meson project, metagrad from the prefix through pkg-config.
meson_pkgconfig() {
  meson setup "$work/consumer-pc" "$here/consumer" -Dbuildtype=plain >/dev/null
  ninja -C "$work/consumer-pc" >/dev/null
  "$work/consumer-pc/consumer"
}
check "meson dependency() via pkg-config" meson_pkgconfig

# 4. Meson project, metagrad as a subproject: subprojects/metagrad links to this tree.
meson_subproject() {
  local proj=$work/subproject-consumer
  mkdir -p "$proj/subprojects"
  cp "$here/consumer/meson.build" "$here/consumer/main.cpp" "$proj/"
  ln -sfn "$src" "$proj/subprojects/metagrad"
  # No installed metagrad may be visible: the subproject must be the one used.
  PKG_CONFIG_PATH='' meson setup "$proj/build" "$proj" -Dbuildtype=plain -Dunity=on >/dev/null
  ninja -C "$proj/build" >/dev/null
  test -e "$proj/build/subprojects/metagrad/meta/libmetagrad_meta.a"
  test ! -e "$proj/build/subprojects/metagrad/tools"  # no command line, tests or benchmarks
  "$proj/build/consumer"
}
check "meson subproject" meson_subproject

echo "${passed} passed, ${failed} failed"
[ "$failed" -eq 0 ]
