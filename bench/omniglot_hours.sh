#!/bin/bash
# The runs of the README's per-algorithm Omniglot table (issue 16): each algorithm trained
# for the meta-iterations an hour buys it on a 2-core machine, then scored on 600 test
# tasks of the official split.
#
#   bash bench/omniglot_hours.sh METALEARN OUT ROW [ROW ...]     (ROW: a name below, or "all")
#   bash bench/omniglot_hours.sh --list
#
# The budgets are idle rates measured with bench/hour_budget.sh on session 14's machine
# (AMD EPYC, 2 vCPUs; bench/RESULTS.md); on another machine measure them again. A row runs
# in OUT/ROW with its log in OUT/ROW.log; a finished row (OUT/ROW/results.txt) is skipped
# and a stopped one continues from its checkpoint (--resume is bit-identical), so the
# script can be started again after a crash or a lost session. The rows run one after
# another: the iteration count, not the wall clock, is the budget, so other work may
# share the machine without changing a result.
set -euo pipefail

data=${METAGRAD_OMNIGLOT:-../shared/data/omniglot}
common=(--dataset omniglot --data "$data" --split official --strided --threads 2 --checkpoint-every 250)

# name | iterations | flags
rows=(
  "maml|5500|--algo maml --parallel tasks"
  "fomaml|6689|--algo fomaml --parallel tasks"
  "anil|5643|--algo anil --parallel tasks"
  "metasgd|5001|--algo metasgd --parallel tasks"
  "maml++|3200|--algo maml++ --parallel tasks"
  "protonet|6462|--algo protonet --parallel tasks"
  "reptile|47300|--algo reptile --shots 1 --parallel tasks"
  "pretrain|4813|--algo pretrain --parallel ops"
  "maml-20way|1637|--algo maml --ways 20 --meta-batch 16 --inner-lr 0.1 --inner-steps 5 --eval-inner-steps 5 --parallel tasks"
  "protonet-20way|1639|--algo protonet --ways 20 --parallel tasks"
)

# The row named $1 ("name|iterations|flags"); status 1 when there is none.
row_of() {
  local r
  for r in "${rows[@]}"; do [[ "${r%%|*}" == "$1" ]] && { echo "$r"; return 0; }; done
  return 1
}

if [[ "${1:-}" == "--list" ]]; then
  for r in "${rows[@]}"; do IFS='|' read -r name its flags <<<"$r"; printf "%-16s %6s  %s\n" "$name" "$its" "$flags"; done
  exit 0
fi
if [[ $# -lt 3 ]]; then
  echo "usage: omniglot_hours.sh METALEARN OUT ROW [ROW ...]  (rows: --list; or all)" >&2
  exit 2
fi
metalearn=$1 out=$2
shift 2
wanted=("$@")
[[ "${wanted[*]}" == "all" ]] && wanted=($(for r in "${rows[@]}"; do echo "${r%%|*}"; done))
for w in "${wanted[@]}"; do
  row_of "$w" >/dev/null || { echo "omniglot_hours.sh: no row '$w' (see --list)" >&2; exit 2; }
done
mkdir -p "$out"
for w in "${wanted[@]}"; do
  IFS='|' read -r name its flags <<<"$(row_of "$w")"
  dir="$out/$name"
  if [[ -f "$dir/results.txt" ]]; then echo "$name: done before ($dir/results.txt)"; continue; fi
  resume=()
  [[ -f "$dir/checkpoint.mgc" ]] && resume=(--resume)
  echo "$name: $its iterations ${resume[*]:-} ($(date -u +%H:%M:%S) UTC)"
  # shellcheck disable=SC2086  # the row's flags are words
  "$metalearn" train "${common[@]}" $flags --iterations "$its" --out "$dir" "${resume[@]}" >>"$out/$name.log" 2>&1 ||
    { echo "$name: failed, see $out/$name.log" >&2; exit 1; }
  cat "$dir/results.txt"
done
