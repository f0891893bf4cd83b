#!/usr/bin/env bash
# bench/omniglot_table.py on a fake OUT folder: finished rows in the table and the SVG,
# rows not run said so, a results.txt without an accuracy line and a missing folder refused.
# usage: omniglot_table_check.sh PYTHON OMNIGLOT_TABLE_PY
set -u
python=$1 script=$2
fail() { echo "FAIL: $*"; exit 1; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$tmp/out/maml++" "$tmp/out/protonet-20way"
printf 'maml++     accuracy after  0 steps: 0.2000 ± 0.0000  (600 tasks)\nmaml++     accuracy after  1 steps: 0.9552 ± 0.0036  (600 tasks)\nmaml++     accuracy after  5 steps: 0.9588 ± 0.0034  (600 tasks)\n' \
  >"$tmp/out/maml++/results.txt"
printf 'protonet   accuracy after  0 steps: 0.9012 ± 0.0041  (600 tasks)\n' >"$tmp/out/protonet-20way/results.txt"

out=$("$python" "$script" "$tmp/out" --svg "$tmp/a.svg") || fail "the table failed: $out"
echo "$out"
grep -qF '| MAML++ (5 steps, MSL, BNWB, LSLR, DA, cosine β) | 5 | 3,200 | 20.0 ± 0.0% | 95.5 ± 0.4% | **95.9 ± 0.3%** after 5 steps | 99.47% (MAML++) |' <<<"$out" ||
  fail "the MAML++ row"
grep -qF '| Prototypical Networks | 20 | 1,639 | 90.1 ± 0.4% |  | **90.1 ± 0.4%** after 0 steps | 96.0% (ProtoNets) |' <<<"$out" ||
  fail "the 20-way ProtoNets row"
grep -qF '| first-order MAML | 5 | 6,689 | not run yet |' <<<"$out" || fail "a row not run"
[[ $(grep -c '^| ' <<<"$out") -eq 12 ]] || fail "not header, rule and ten rows"
[[ $(grep -c '<rect' "$tmp/a.svg") -eq 2 ]] || fail "not one bar per finished row"
grep -q 'MAML++ paper: 99.47%' "$tmp/a.svg" || fail "no paper tick"
grep -q '>ProtoNets, 20-way<' "$tmp/a.svg" || fail "no bar label"

echo "nothing here" >"$tmp/out/maml++/results.txt"
err=$("$python" "$script" "$tmp/out" 2>&1 >/dev/null)
[[ $? -ne 0 && "$err" == *"maml++/results.txt: no 'accuracy after K steps: M ± C' line" ]] || fail "a bad results.txt: $err"
err=$("$python" "$script" "$tmp/none" 2>&1 >/dev/null)
[[ $? -ne 0 && "$err" == "omniglot_table.py: $tmp/none: no such folder" ]] || fail "a missing folder: $err"
echo "ok"
