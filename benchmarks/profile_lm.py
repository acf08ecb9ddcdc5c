"""Where the time of the language-model benchmark's training step goes.

Measures training tokens/s of the `rnnlab bench --lm` workload (2 x LSTM(200),
embedding 200, 35 steps, batch 20, stateful, SGD, vocabulary 10,000) as the lm
task compiles it (loss and the exact cross-entropy metric), with the loss
alone, and with a vocabulary of 1,000 (how much of the step the output layer
takes). Median over timing windows of about `--seconds` each.

    python benchmarks/profile_lm.py --output results/bench/profile-lm.json
"""

import argparse
import os
import statistics
import time

os.environ.setdefault("KERAS_BACKEND", "jax")

import keras  # noqa: E402

from rnnlab import runs  # noqa: E402
from rnnlab.bench.worker import _keras_batches, _lm_data, _time_windows  # noqa: E402
from rnnlab.bench.workloads import LMWorkload  # noqa: E402
from rnnlab.losses import SequenceCrossEntropy  # noqa: E402
from rnnlab.tasks import get_task  # noqa: E402
from rnnlab.tasks.lm.config import LMConfig  # noqa: E402
from rnnlab.training.setup import compiled_model  # noqa: E402

VARIANTS = {  # name -> (vocabulary, compiled as the task compiles it)
    "task: loss + exact metric, vocab 10000": (10_000, True),
    "loss only, vocab 10000": (10_000, False),
    "loss only, vocab 1000": (1_000, False),
}


def measure(vocab, as_task, seconds, windows):
    workload = LMWorkload(vocab_size=vocab)
    config = LMConfig(corpus="ptb", stateful=True, batch_size=workload.batch_size, seq_len=workload.seq_len,
                      embedding_dim=workload.embedding_dim, units=workload.units, dropout=0.2,
                      optimizer="sgd", learning_rate=1.0, clipnorm=0.25)  # fmt: skip
    task = get_task("lm")
    if as_task:
        model = compiled_model(task, config, range(vocab), None, "jax", steps=1)
    else:
        model = task.build_model(config, range(vocab))
        optimizer = keras.optimizers.SGD(1.0, clipnorm=0.25)
        model.compile(optimizer, SequenceCrossEntropy(), steps_per_execution=32)
    return _time_windows(_keras_batches(model, workload, _lm_data), workload.per_batch, seconds, windows)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=2.0, help="length of one timing window")
    parser.add_argument("--windows", type=int, default=3, help="timing windows per variant")
    parser.add_argument("--output", help="JSON record to write")
    args = parser.parse_args()
    start = time.perf_counter()
    results = {}
    for name, (vocab, as_task) in VARIANTS.items():
        rates = measure(vocab, as_task, args.seconds, args.windows)
        results[name] = {
            "tokens_per_s": round(statistics.median(rates), 1),
            "windows": [round(r) for r in rates],
        }
        print(f"{name}: {results[name]['tokens_per_s']:.0f} tokens/s", flush=True)
    wall = round(time.perf_counter() - start, 1)
    record = {"benchmark": "profile_lm", "results": results, "wall_time_s": wall, **runs.provenance("jax")}
    if args.output:
        runs.write_json(args.output, record)


if __name__ == "__main__":
    main()
