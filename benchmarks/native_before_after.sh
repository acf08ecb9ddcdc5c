#!/bin/bash
# rnnlab alone on the LSTM workloads before (4c67f55) and after this change to the native loops,
# alternating twice; each side's records go to OUT (default /tmp/ba), combined by hand into
# results/bench/native-before-after.json. Run on an otherwise idle machine.
#   bash benchmarks/native_before_after.sh [OUT]
set -e
out=${1:-/tmp/ba}
root=$(cd "$(dirname "$0")/.." && pwd)
export KERAS_BACKEND=jax TF_CPP_MIN_LOG_LEVEL=2
before=$(mktemp -d)/before
git -C "$root" worktree add -f "$before" 4c67f55 -q
mkdir -p "$out"
for round in 1 2; do
  for side in before after; do
    src=$before/src; [ $side = after ] && src=$root/src
    for w in lstm/train/b32 lstm/train/b128 lstm/infer/b256 lstm/train/b32/T400-H256; do
      PYTHONPATH=$src python -m rnnlab bench --peers rnnlab --repeats 1 --workload $w \
        --output "$out/$side-$round-${w//\//_}.json" > /dev/null
    done
  done
done
git -C "$root" worktree remove --force "$before"
