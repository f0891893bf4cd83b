#!/usr/bin/env bash
# mpi_ranks.sh CASE METALEARN [ALGO]: metalearn under mpirun (builds with -Dmpi), issue 19.
#   identical ALGO   -np 2 (and -np 2 × 2 threads) writes the same checkpoint.mgc, metrics.csv
#                    and results.txt, byte for byte, as -np 1, on a short sinusoid run
#   resume           stopped at iteration 3 with -np 2, resumed with -np 1 (and the other
#                    way round): the checkpoint of an uninterrupted -np 1 run
#   omniglot         a small Omniglot run (4 tasks: 2 groups a rank), -np 2 against -np 1 (missing data: skip, but
#                    fail under CI)
#   diverges         a run that diverges stops with exit status 3 under -np 2 as under -np 1,
#                    and rank 0 keeps the same last finite checkpoint
#   too-many-ranks   -np 3 for a meta-batch of 2: a clear error
#   mismatch         two ranks with different --seed: a clear error naming config.seed
#   hang             rank 1 stopped (SIGSTOP) mid-run: the job ends within the timeout,
#                    exit status 4, "not every rank answered"; the checkpoint stays readable
#   dies             rank 1 killed (SIGKILL) mid-run: mpirun ends the job (non-zero), the
#                    checkpoint stays readable
set -uo pipefail
case_name=$1
metalearn=$2
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
# Open MPI keeps its start-up allocations until exit: LeakSanitizer (the sanitize build)
# would fail every rank on them.
export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0"
mpirun=(mpirun --oversubscribe --allow-run-as-root --mca btl self,tcp --mca btl_tcp_if_include lo
        -x OPENBLAS_NUM_THREADS=1)

# train NP THREADS OUT [flags...]: a short sinusoid run under mpirun.
train() {
  local np=$1 threads=$2 out=$3
  shift 3
  "${mpirun[@]}" -np "$np" "$metalearn" train --dataset sinusoid --iterations 6 --meta-batch 4 --eval-tasks 8 \
    --checkpoint-every 3 --no-baseline --threads "$threads" --out "$out" "$@" >"$out.log" 2>&1
}

# same A B: the run folders A and B hold the same files, byte for byte.
same() {
  local f ok=0
  for f in checkpoint.mgc metrics.csv results.txt; do
    if ! cmp "$1/$f" "$2/$f"; then
      echo "FAIL: $f differs between $1 and $2"
      ok=1
    fi
  done
  return $ok
}

fail() {
  echo "FAIL: $*"
  for log in "$work"/*.log; do echo "--- $log"; cat "$log"; done
  exit 1
}

case $case_name in
  identical)
    algo=$3
    train 1 1 "$work/one" --algo "$algo" || fail "-np 1"
    train 2 1 "$work/two" --algo "$algo" || fail "-np 2"
    train 2 2 "$work/two-by-two" --algo "$algo" || fail "-np 2 --threads 2"
    same "$work/one" "$work/two" && same "$work/one" "$work/two-by-two" || fail "the runs differ"
    grep -q "mpi: 2 ranks; per iteration rank 0 sent" "$work/two.log" || fail "no byte count"
    echo "$algo: -np 2 and -np 2 x 2 threads wrote the bytes of -np 1"
    ;;
  resume)
    train 1 1 "$work/straight" --algo maml || fail "straight run"
    for np in "2 1" "1 2"; do
      read -r first then <<<"$np"
      out="$work/resumed-$first-$then"
      train "$first" 1 "$out" --algo maml --stop-after 3
      [ $? -eq 1 ] || fail "-np $first --stop-after 3 should exit 1"
      train "$then" 1 "$out" --algo maml --resume || fail "-np $then --resume"
      same "$work/straight" "$out" || fail "resumed -np $first -> $then differs"
      echo "stopped with -np $first, resumed with -np $then: the bytes of the straight run"
    done
    ;;
  omniglot)
    data=${METAGRAD_OMNIGLOT:-${METAGRAD_DEFAULT_OMNIGLOT:-}}
    if [ -z "$data" ] || [ ! -d "$data" ]; then
      [ -n "${CI:-}" ] && { echo "FAIL: no Omniglot at '$data' under CI"; exit 1; }
      echo "SKIP: no Omniglot at '$data'"
      exit 77
    fi
    for np in 1 2; do
      "${mpirun[@]}" -np $np "$metalearn" train --dataset omniglot --data "$data" --algo fomaml --ways 5 --shots 1 \
        --queries 2 --meta-batch 4 --iterations 2 --checkpoint-every 1 --eval-tasks 4 --eval-inner-steps 1 \
        --threads 1 --out "$work/omniglot-$np" >"$work/omniglot-$np.log" 2>&1 || fail "omniglot -np $np"
    done
    same "$work/omniglot-1" "$work/omniglot-2" || fail "omniglot runs differ"
    echo "omniglot: -np 2 wrote the bytes of -np 1"
    ;;
  diverges)
    for np in 1 2; do
      "${mpirun[@]}" -np $np "$metalearn" train --dataset sinusoid --inner-lr 0.05 --meta-lr 30 --iterations 50 \
        --meta-batch 4 --checkpoint-every 1 --no-baseline --threads 1 --out "$work/diverges-$np" \
        >"$work/diverges-$np.log" 2>&1
      status=$?
      [ $status -eq 3 ] || fail "-np $np: exit status $status, expected 3"
      grep -q "metalearn: maml: iteration 1: the loss is inf; the update was not applied" "$work/diverges-$np.log" ||
        fail "-np $np: no divergence line"
    done
    cmp "$work/diverges-1/checkpoint.mgc" "$work/diverges-2/checkpoint.mgc" &&
      cmp "$work/diverges-1/metrics.csv" "$work/diverges-2/metrics.csv" || fail "the kept checkpoints differ"
    echo "diverged at iteration 1 on -np 1 and -np 2: exit status 3, the same last finite checkpoint"
    ;;
  too-many-ranks)
    "${mpirun[@]}" -np 3 "$metalearn" train --dataset sinusoid --iterations 2 --meta-batch 2 --no-baseline \
      --threads 1 --out "$work/three" >"$work/three.log" 2>&1 && fail "-np 3 with a meta-batch of 2 succeeded"
    grep -q "metalearn: meta-batch: 3 ranks for a batch of 2 tasks; every rank needs a task, so run at most 2 ranks" \
      "$work/three.log" || fail "no error line"
    echo "refused: $(grep -m1 'metalearn: meta-batch' "$work/three.log")"
    ;;
  mismatch)
    common=(train --dataset sinusoid --iterations 4 --meta-batch 4 --eval-tasks 4 --no-baseline --threads 1
            --out "$work/mismatch")
    "${mpirun[@]}" -np 1 "$metalearn" "${common[@]}" --seed 1 : -np 1 "$metalearn" "${common[@]}" --seed 2 \
      >"$work/mismatch.log" 2>&1 && fail "ranks with different seeds ran"
    expected="metalearn: mpi: rank 1 runs another configuration than rank 0 (hash [0-9a-f]* vs [0-9a-f]*):"
    expected+=" config.seed is 2 there, 1 on rank 0; start every rank with the same metalearn, flags and files"
    grep -q "$expected" "$work/mismatch.log" || fail "no error line"
    echo "refused: $(grep -m1 'metalearn: mpi' "$work/mismatch.log")"
    ;;
  hang | dies)
    out="$work/$case_name"
    start=$(date +%s)
    METAGRAD_MPI_TIMEOUT=3 "${mpirun[@]}" -x METAGRAD_MPI_TIMEOUT -np 2 "$metalearn" train --dataset sinusoid \
      --iterations 1000000 --meta-batch 4 --checkpoint-every 50 --no-baseline --threads 1 --out "$out" \
      >"$out.log" 2>&1 &
    job=$!
    # Rank 1, once rank 0 has checkpointed: stop it (as a hung node would), or kill it.
    rank1=""
    for _ in $(seq 100); do
      sleep 0.2
      for pid in $(pgrep -f -- "--out $out\$"); do
        tr '\0' '\n' <"/proc/$pid/environ" 2>/dev/null | grep -qx "OMPI_COMM_WORLD_RANK=1" && rank1=$pid
      done
      [ -n "$rank1" ] && [ -f "$out/checkpoint.mgc" ] && break
    done
    [ -n "$rank1" ] || { kill $job; fail "rank 1 not found"; }
    if [ "$case_name" = hang ]; then kill -STOP "$rank1"; else kill -KILL "$rank1"; fi
    stopped=$(date +%s)
    for _ in $(seq 150); do kill -0 $job 2>/dev/null || break; sleep 0.2; done
    if kill -0 $job 2>/dev/null; then
      # This run's ranks (their --out is this test's own folder), then mpirun.
      for pid in $(pgrep -f -- "--out $out\$"); do kill -KILL "$pid"; done
      kill -KILL $job
      fail "the job still runs 30 s after rank 1 stopped"
    fi
    wait $job
    status=$?
    ended=$(date +%s)
    if [ "$case_name" = hang ]; then
      grep -q "metalearn: mpi: rank 0: allgather.*: not every rank answered within 3 s: a rank died or hangs" \
        "$out.log" || fail "no timeout message (exit status $status)"
      [ "$status" -eq 4 ] || fail "exit status $status, expected 4"
    else
      # mpirun notices the death and ends the job ("exited on signal 9"); Open MPI 4.1.4's
      # mpirun has also been seen to crash (SIGSEGV in its PMIx log handler, under meson's
      # MALLOC_PERTURB_) right after the kill. Either way: not 0, and no rank left.
      [ "$status" -ne 0 ] || fail "exit status 0 after a rank died"
    fi
    sleep 4  # past the timeout: no rank of this job may be left
    [ -z "$(pgrep -f -- "--out $out\$")" ] || fail "a rank outlived the job"
    "$metalearn" eval --checkpoint "$out/checkpoint.mgc" --eval-tasks 2 --threads 1 >/dev/null ||
      fail "the last checkpoint does not load"
    echo "rank 1 $([ "$case_name" = hang ] && echo stopped || echo killed): the job ended $((ended - stopped)) s" \
      "later (timeout 3 s, started $((stopped - start)) s in), exit status $status, checkpoint readable"
    ;;
  *)
    echo "usage: mpi_ranks.sh identical|resume|omniglot|diverges|too-many-ranks|mismatch|hang|dies METALEARN [ALGO]" >&2
    exit 2
    ;;
esac
