"""How fast training amplifies a rounding-sized perturbation: the translation model
(bidirectional GRU encoder, Luong attention, units 256) trained twice for `--steps` Adam
steps on the same batches, the second time from initial weights multiplied by
`1 + eps * N(0, 1)`; the largest relative difference of the final weights is reported,
with and without dropout, with rnnlab's native loops and with Keras' own.

    python benchmarks/perturbation_growth.py --output results/translation/perturbation-growth.json

A different CPU, kernel path or summation order perturbs training by about this much
(float32 rounding, ~1e-7 relative); where the difference grows to order one, two machines
follow different trajectories, and a full run's final score is a draw, not a fixed number.
"""

import argparse
import platform
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

import rnnlab  # noqa: E402, F401  (JAX by default)
from rnnlab import runs  # noqa: E402


def batches(steps, vocab=2000, seed=0):
    """`steps` batches of 64 or 37 rows and 8-40 steps, padded at the end, with a learnable target."""
    rng = np.random.default_rng(seed)
    out = []
    for i in range(steps):
        rows, length = (64 if i % 7 else 37), int(rng.choice([8, 12, 16, 20, 24, 32, 40]))
        source = rng.integers(1, vocab, (rows, length)).astype("int32")
        target = rng.integers(1, vocab, (rows, length)).astype("int32")
        for r in range(rows):
            source[r, rng.integers(3, length) :] = 0
            target[r, rng.integers(3, length) :] = 0
        labels = np.where(target > 0, (source * 7 + 3) % vocab, 0)
        out.append(({"source": source, "target_in": target}, labels))
    return out


def final_weights(data, fast, dropout, eps, units):
    import keras

    from rnnlab.models.seq2seq import build_seq2seq

    class Batches(keras.utils.PyDataset):
        def __len__(self):
            return len(data)

        def __getitem__(self, i):
            return data[i]

    keras.utils.set_random_seed(0)
    model = build_seq2seq(2000, 2000, embedding_dim=units, units=units, dropout=dropout, fast_layers=fast)
    if eps:
        rng = np.random.default_rng(1)
        model.set_weights(
            [w * (1 + eps * rng.standard_normal(w.shape)).astype("float32") for w in model.get_weights()]
        )
    model.compile(
        keras.optimizers.Adam(2e-3),
        keras.losses.SparseCategoricalCrossentropy(from_logits=True),
        steps_per_execution=32,
    )
    model.fit(Batches(), epochs=1, verbose=0, shuffle=False)
    return model.get_weights()


def main():
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--steps", type=int, default=64)
    parser.add_argument("--units", type=int, default=256)
    parser.add_argument("--eps", type=float, default=1e-6)
    parser.add_argument("--output", required=True)
    args = parser.parse_args()
    start = time.perf_counter()
    data = batches(args.steps)
    rows = []
    for fast, dropout in ((True, 0.3), (False, 0.3), (True, 0.0)):
        a = final_weights(data, fast, dropout, 0.0, args.units)
        b = final_weights(data, fast, dropout, args.eps, args.units)
        worst = max(float(np.max(np.abs(x - y)) / np.max(np.abs(y))) for x, y in zip(a, b, strict=True))
        rows.append(
            {"loops": "rnnlab" if fast else "keras", "dropout": dropout, "max_relative_difference": worst}
        )
        print(rows[-1], flush=True)
    runs.write_json(
        args.output,
        {
            "command": "python benchmarks/perturbation_growth.py " + " ".join(sys.argv[1:]),
            "steps": args.steps,
            "units": args.units,
            "eps": args.eps,
            "results": rows,
            "wall_time_s": round(time.perf_counter() - start, 1),
            **runs.provenance("jax"),
            "python": platform.python_version(),
        },
    )


if __name__ == "__main__":
    main()
