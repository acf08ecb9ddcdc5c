"""IMDb loading time: first load (read archive, tokenise and index all 50,000
labelled reviews, write the cache) and a later load from the cache, each in a
fresh process.

    RNNLAB_DATASETS=../shared/datasets python benchmarks/imdb_load.py --output results/imdb_load.json
"""

import argparse
import json
import os
import subprocess
import sys
import tempfile

from rnnlab import runs

LOAD = """
import time, json
start = time.perf_counter()
from rnnlab.datasets import imdb
(x_train, y_train), (x_test, y_test) = imdb.load_data(num_words=10000)
print(json.dumps({"seconds": time.perf_counter() - start, "train": len(x_train), "test": len(x_test)}))
"""


def timed_load(cache):
    env = {**os.environ, "RNNLAB_CACHE": cache}
    done = subprocess.run([sys.executable, "-c", LOAD], env=env, capture_output=True, text=True, check=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--output", help="JSON file to write the result to")
    parser.add_argument("--repeats", type=int, default=3, help="cached loads to time")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as cache:
        first = timed_load(cache)
        cached = [timed_load(cache)["seconds"] for _ in range(args.repeats)]
    result = {
        "benchmark": "imdb_load",
        "first_load_s": round(first["seconds"], 2),
        "cached_load_s": [round(s, 2) for s in cached],
        "cached_load_median_s": round(sorted(cached)[len(cached) // 2], 2),
        "reviews": first["train"] + first["test"],
        "what": "load_data(num_words=10000) in a fresh process, including the Python import of rnnlab",
        **runs.provenance(None),
        "command": "python benchmarks/imdb_load.py " + " ".join(sys.argv[1:]),
    }
    print(json.dumps(result, indent=2))
    if args.output:
        runs.write_json(args.output, result)


if __name__ == "__main__":
    main()
