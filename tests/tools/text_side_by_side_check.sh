#!/usr/bin/env bash
# text_side_by_side_check.sh BENCH_META TORCH_REF_TEXT: bench_meta's clinc150 workload
# exports θ, its batches and a float64 loss and meta-gradient (bench/text_workload.h), and
# the PyTorch reference recomputes them (torch_ref_text.py --check must pass: MAML and
# first-order MAML agree within 1e-9). Skipped (77) without PyTorch for /usr/bin/python3.
set -u
bench_meta=$1
torch_ref=$2
source "$(dirname "$0")/torch_scratch.sh"
"$bench_meta" --workload clinc150 --algo maml --steps 1 --threads 1 --warmup 0 --iters 1 --export "$dir" || exit 1
[ -s "$dir/index.json" ] || { echo "no index.json"; exit 1; }
OPENBLAS_NUM_THREADS=1 /usr/bin/python3 "$torch_ref" --data "$dir" --check
