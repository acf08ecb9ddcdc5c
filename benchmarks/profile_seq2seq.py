"""Where the time of one translation training step goes.

Times `train_on_batch` (forward, backward, Adam) of the benchmark's attention
encoder-decoder (`rnnlab bench --translation`: batch 64, 24 source and target
steps, embedding 256, 256 units, Luong attention, GRU) while changing one thing
at a time: rnnlab's native loops or Keras' layers, the loss (rnnlab's
`SequenceCrossEntropy` or Keras' `SparseCategoricalCrossentropy`), and the
target vocabulary (8000 or 1000: how much of the step the output layer takes).
Median ms per step over rounds that alternate between the variants.

    python benchmarks/profile_seq2seq.py --output results/bench/profile-seq2seq.json
"""

import argparse
import os
import statistics
import sys
import time

os.environ.setdefault("KERAS_BACKEND", "jax")

import keras  # noqa: E402
import numpy as np  # noqa: E402

from rnnlab import runs  # noqa: E402
from rnnlab.losses import SequenceCrossEntropy  # noqa: E402
from rnnlab.models.seq2seq import build_seq2seq  # noqa: E402

BATCH, STEPS, EMBEDDING, UNITS = 64, 24, 256, 256
VARIANTS = {  # name -> (fast layers, rnnlab loss, vocabulary)
    "rnnlab (native loops, SequenceCrossEntropy, vocab 8000)": (True, True, 8000),
    "Keras' layers": (False, True, 8000),
    "Keras' SparseCategoricalCrossentropy": (True, False, 8000),
    "vocab 1000": (True, True, 1000),
}


def step_function(fast, own_loss, vocab):
    keras.utils.set_random_seed(0)
    model = build_seq2seq(vocab, vocab, embedding_dim=EMBEDDING, units=UNITS, fast_layers=fast)
    if own_loss:
        loss = SequenceCrossEntropy()
    else:
        loss = keras.losses.SparseCategoricalCrossentropy(from_logits=True, ignore_class=0)
    model.compile(keras.optimizers.Adam(), loss)
    rng = np.random.default_rng(0)
    x = {
        "source": rng.integers(4, vocab, (BATCH, STEPS)).astype("int32"),
        "target_in": rng.integers(4, vocab, (BATCH, STEPS)).astype("int32"),
    }
    y = rng.integers(4, vocab, (BATCH, STEPS)).astype("int32")
    model.train_on_batch(x, y)  # compile
    return lambda: model.train_on_batch(x, y)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--steps", type=int, default=10, help="steps per round and variant")
    parser.add_argument("--output", help="JSON record to write")
    args = parser.parse_args(argv)
    start = time.perf_counter()
    steps = {name: step_function(*spec) for name, spec in VARIANTS.items()}
    times = {name: [] for name in VARIANTS}
    for _ in range(args.rounds):
        for name, step in steps.items():
            begin = time.perf_counter()
            for _ in range(args.steps):
                step()
            times[name].append((time.perf_counter() - begin) / args.steps * 1000)
    ms = {name: round(statistics.median(values), 1) for name, values in times.items()}
    for name, value in ms.items():
        print(f"{value:8.1f} ms/step  {name}")
    record = {
        "benchmark": "seq2seq_train_step",
        "shapes": {"batch": BATCH, "steps": STEPS, "embedding": EMBEDDING, "units": UNITS},
        "ms_per_step": ms,
        "all_ms": times,
        "wall_time_s": round(time.perf_counter() - start, 1),
        **runs.provenance("jax"),
        "command": "python " + " ".join(sys.argv),
    }
    if args.output:
        runs.write_json(args.output, record)
        print(f"Record: {args.output}")


if __name__ == "__main__":
    main()
