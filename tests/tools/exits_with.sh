#!/usr/bin/env bash
# exits_with.sh STATUS COMMAND [ARGS...]: passes when COMMAND exits with STATUS
# and prints exactly one line on stderr, starting with $EXPECTED_PREFIX
# ("metalearn: " unless set) and containing $EXPECTED_TEXT (when set).
expected=$1
shift
prefix=${EXPECTED_PREFIX:-"metalearn: "}
err=$(mktemp)
"$@" >/dev/null 2>"$err" </dev/null
status=$?
lines=$(wc -l <"$err")
first=$(head -n 1 "$err")
rm -f "$err"
echo "exit status $status, $lines line(s) on stderr: $first"
[ "$status" -eq "$expected" ] && [ "$lines" -eq 1 ] && [[ "$first" == "$prefix"* ]] &&
  [[ -z "${EXPECTED_TEXT:-}" || "$first" == *"$EXPECTED_TEXT"* ]]
