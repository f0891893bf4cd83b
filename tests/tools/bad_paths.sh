#!/usr/bin/env bash
# bad_paths.sh METALEARN EXITS_WITH: metalearn given paths of the wrong kind
# (a folder, a FIFO, a device, nothing, a file where a folder belongs) and an
# output folder where writes fail (a file size limit, as a full disk): each
# must end with status 2 and one line naming the path, never a signal, an
# abort or a reader blocked on a FIFO. Needs fixtures, so it is a script.
metalearn=$1
exits_with=$2
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkfifo "$work/fifo"
echo x >"$work/file"
failed=0
check() {  # check EXPECTED_TEXT ARGS...
  local text=$1
  shift
  if ! EXPECTED_TEXT="$text" timeout 60 "$exits_with" 2 "$metalearn" "$@"; then
    echo "FAILED: metalearn $*  (wanted '$text')"
    failed=1
  fi
}
for ckpt in "$work" "$work/fifo" /dev/null /dev/zero "$work/none.mgc" "$work/file/x.mgc"; do
  check "eval: --checkpoint $ckpt: " eval --checkpoint "$ckpt"
done
check "is a folder; expected a file" eval --checkpoint "$work"
check "is a FIFO (named pipe); expected a file" eval --checkpoint "$work/fifo"
check "is a character device; expected a file" eval --checkpoint /dev/null
check "does not exist" eval --checkpoint "$work/none.mgc"
for out in "$work/file" "$work/fifo" /dev/null "$work/file/run" /proc/self; do
  check "train: --out $out: " train --iterations 2 --out "$out"
done
for data in "$work/file" "$work/fifo" /dev/null "$work/nothing"; do
  check "omniglot: --data $data: " train --dataset omniglot --data "$data" --out "$work/omni"
done
METAGRAD_OMNIGLOT="$work/file" check 'omniglot: $METAGRAD_OMNIGLOT '"$work/file"': is a regular file; expected a folder' \
  train --dataset omniglot --out "$work/omni"
[ -e "$work/omni" ] && { echo "FAILED: a run refused for its input created its --out folder"; failed=1; }
# --resume: the checkpoint missing, a folder, a FIFO.
check "train: --resume: checkpoint $work/r1/checkpoint.mgc: does not exist" train --resume --out "$work/r1"
mkdir -p "$work/r2/checkpoint.mgc"
check "train: output file $work/r2/checkpoint.mgc: is a folder" train --resume --out "$work/r2"
mkdir -p "$work/r3" && mkfifo "$work/r3/checkpoint.mgc"
check "is a FIFO (named pipe); expected a file" train --resume --out "$work/r3"
# Writes that fail (ulimit -f: 4 KiB, less than a checkpoint): an error, exit 2,
# no temporary file left behind, no metrics.csv cut short.
(ulimit -f 4 && check "cannot write" train --iterations 3 --checkpoint-every 1 --eval-tasks 2 --out "$work/full")
# 200 rows of metrics.csv are more than 4 KiB: its write fails first, and names it.
(ulimit -f 4 && check "write_text_file: cannot write $work/full/metrics.csv: writing" \
  train --iterations 200 --checkpoint-every 200 --eval-tasks 2 --out "$work/full")
if ls "$work/full" | grep -q tmp; then echo "FAILED: a temporary file was left in $work/full"; failed=1; fi
# Standard output that cannot be written (the demo's loss lines, eval's table).
if [ -w /dev/full ]; then
  if ! EXPECTED_TEXT="cannot write to standard output: No space left on device" \
      "$exits_with" 2 bash -c '"$0" demo --steps 20 --print-every 1 >/dev/full' "$metalearn"; then
    echo "FAILED: metalearn demo >/dev/full"
    failed=1
  fi
fi
exit $failed
