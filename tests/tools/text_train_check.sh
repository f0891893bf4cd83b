#!/usr/bin/env bash
# text_train_check.sh EXPORT_TEXT_RUN TORCH_TRAIN_TEXT: export_text_run writes a tiny
# clinc150 run (two meta-iterations, three test tasks per K), and the PyTorch reference
# checks its network against metagrad's float64 loss and meta-gradient, trains the two
# iterations and scores the test tasks. Skipped (77) without PyTorch for /usr/bin/python3.
set -u
export_run=$1
torch_train=$2
source "$(dirname "$0")/torch_scratch.sh"
"$export_run" --iterations 2 --eval-tasks 3 --out "$dir" || exit 1
[ -s "$dir/index.json" ] && [ -s "$dir/b1_t7_query_x.bin" ] && [ -s "$dir/test5_t2_support_x.bin" ] ||
  { echo "export incomplete"; ls "$dir" | head; exit 1; }
out=$(OPENBLAS_NUM_THREADS=1 /usr/bin/python3 "$torch_train" --data "$dir" --eval-steps 2 --json "$dir/r.json") || exit 1
echo "$out"
grep -q "check fomaml (bag-counts): .*: ok" <<<"$out" || exit 1
for k in 1 5; do
  grep -q "5-way $k-shot after 2 steps: .* (3 tasks)" <<<"$out" || { echo "no $k-shot line"; exit 1; }
done
/usr/bin/python3 -c "import json,sys; r=json.load(open(sys.argv[1])); assert r['accuracy']['5']['tasks'] == 3" "$dir/r.json"
