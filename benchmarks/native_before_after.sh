#!/bin/bash
# rnnlab alone on the LSTM workloads before (4c67f55) and after this change to the native loops,
# alternating twice; each side's records go to OUT (default /tmp/ba), then the median of each
# side's two round medians is written to RECORD. Run on an otherwise idle machine.
#   bash benchmarks/native_before_after.sh [OUT] [RECORD]
set -e
out=${1:-/tmp/ba}
record=${2:-results/bench/native-before-after.json}
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
python - "$out" "$record" <<'PY'
import json, statistics, sys
out, record = sys.argv[1:]
results = {}
for w in ["lstm/train/b32", "lstm/train/b128", "lstm/infer/b256", "lstm/train/b32/T400-H256"]:
    row = {}
    for side in ("before", "after"):
        runs = [json.load(open(f"{out}/{side}-{r}-{w.replace('/', '_')}.json"))["results"][w]["peers"]["rnnlab"]
                for r in (1, 2)]
        row[side + "_records"] = [{"median": e["samples_per_s"], "min": e["min"], "max": e["max"]} for e in runs]
        row[side] = statistics.median(e["samples_per_s"] for e in runs)
    row["after_over_before"] = round(row["after"] / row["before"], 2)
    results[w] = row
json.dump({"benchmark": "native_loops_before_after", "command": "bash benchmarks/native_before_after.sh",
           "results": results}, open(record, "w"), indent=2)
PY
