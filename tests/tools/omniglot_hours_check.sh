#!/usr/bin/env bash
# bench/omniglot_hours.sh against a fake metalearn that records its arguments: a row's
# flags and budget, a finished row skipped, a stopped row resumed, a failing row
# reported, unknown rows and missing arguments refused.
# usage: omniglot_hours_check.sh OMNIGLOT_HOURS_SH
set -u
script=$1
fail() { echo "FAIL: $*"; exit 1; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cat >"$tmp/fake" <<'FAKE'
#!/usr/bin/env bash
echo "$*" >>"$(dirname "$0")/calls"
[[ -n "${FAKE_FAIL:-}" ]] && { echo "fake: failed"; exit 3; }
while [[ $# -gt 0 ]]; do [[ "$1" == --out ]] && out=$2; shift; done
mkdir -p "$out" && echo "fake accuracy after 3 steps: 0.9" >"$out/results.txt"
FAKE
chmod +x "$tmp/fake"

bash "$script" --list | grep -q '^protonet-20way *1639  --algo protonet --ways 20' || fail "--list lacks a row"
out=$(bash "$script" "$tmp/fake" "$tmp/runs" fomaml) || fail "a row failed: $out"
grep -q -- "--algo fomaml --parallel tasks --iterations 6689 --out $tmp/runs/fomaml" "$tmp/calls" ||
  fail "wrong call: $(cat "$tmp/calls")"
grep -q -- "--split official --strided" "$tmp/calls" || fail "not the official split: $(cat "$tmp/calls")"
[[ "$out" == *"fake accuracy after 3 steps: 0.9"* ]] || fail "results not shown: $out"

out=$(bash "$script" "$tmp/fake" "$tmp/runs" fomaml)
[[ "$out" == "fomaml: done before"* && $(wc -l <"$tmp/calls") -eq 1 ]] || fail "a finished row ran again: $out"

mkdir -p "$tmp/runs/anil" && touch "$tmp/runs/anil/checkpoint.mgc"
bash "$script" "$tmp/fake" "$tmp/runs" anil >/dev/null || fail "the resumed row failed"
tail -1 "$tmp/calls" | grep -q -- "--iterations 5643 --out $tmp/runs/anil --resume" || fail "not resumed: $(tail -1 "$tmp/calls")"

err=$(FAKE_FAIL=1 bash "$script" "$tmp/fake" "$tmp/runs" metasgd 2>&1 >/dev/null)
[[ $? -eq 1 && "$err" == "metasgd: failed, see $tmp/runs/metasgd.log" ]] || fail "a failure not reported: $err"
grep -q "fake: failed" "$tmp/runs/metasgd.log" || fail "the log lacks the failure"

err=$(bash "$script" "$tmp/fake" "$tmp/runs" nope 2>&1 >/dev/null)
[[ $? -eq 2 && "$err" == "omniglot_hours.sh: no row 'nope' (see --list)" ]] || fail "an unknown row accepted: $err"
err=$(bash "$script" "$tmp/fake" 2>&1 >/dev/null)
[[ $? -eq 2 && "$err" == usage:* ]] || fail "missing arguments accepted: $err"
echo "ok"
