"""Where the time of one training batch goes: the recurrent layer alone and the whole step.

For each cell (article's shapes: batch 32, 100 steps, 32 features, 64 units)
it times, per batch, the forward and forward + backward of rnnlab's layer with
its native loop (the default on JAX) and of Keras' own layer (which is also
what rnnlab's layer runs where the native loop cannot); then the whole jitted train step (embedding,
layer, dense, loss, Adam) of the sentiment task's model with FastRNN and with
Keras' layers. Minimum over rounds that alternate between the variants.

    python benchmarks/profile_fast_rnn.py --output results/bench/profile-fast-rnn.json
"""

import argparse
import os
import sys
import time

os.environ.setdefault("KERAS_BACKEND", "jax")

import jax  # noqa: E402
import jax.numpy as jnp  # noqa: E402
import numpy as np  # noqa: E402

from rnnlab import runs  # noqa: E402
from rnnlab.bench.worker import rnnlab_model  # noqa: E402
from rnnlab.cells import CELLS, layer_class  # noqa: E402
from rnnlab.layers import FastRNN, native  # noqa: E402
from rnnlab.tasks.sentiment.config import SentimentConfig  # noqa: E402

BATCH, STEPS, FEATURES, UNITS = 32, 100, 32, 64


def layer_functions(layer, x):
    """Jitted forward and forward+backward (gradients of weights and inputs) of one layer."""
    layer.build(x.shape)
    values = [v.value for v in layer.trainable_variables]
    fixed = [v.value for v in layer.non_trainable_variables]

    def loss(values, x):
        return layer.stateless_call(values, fixed, x)[0].sum()

    forward = jax.jit(lambda values, x: layer.stateless_call(values, fixed, x)[0])
    backward = jax.jit(jax.grad(loss, argnums=(0, 1)))
    return (lambda: forward(values, x)), (lambda: backward(values, x))


def train_step_function(fast_layers):
    model = rnnlab_model(SentimentConfig(fast_layers=fast_layers), 10000)
    rng = np.random.default_rng(0)
    x = jnp.asarray(rng.integers(1, 10000, (BATCH, STEPS)).astype("int32"))
    y = jnp.asarray(rng.integers(0, 2, (BATCH,)).astype("float32"))
    model.train_on_batch(np.asarray(x), np.asarray(y))
    state = tuple(
        [v.value for v in variables]
        for variables in (
            model.trainable_variables,
            model.non_trainable_variables,
            model.optimizer.variables,
            model.metrics_variables,
        )
    )
    step = jax.jit(model.train_step)
    return lambda: step(state, (x, y))[0]


def best_of(functions, rounds, calls):
    """ms per call of each function: the minimum over `rounds`, alternating between functions."""
    for fn in functions.values():
        jax.block_until_ready(fn())
    best = dict.fromkeys(functions, float("inf"))
    for _ in range(rounds):
        for name, fn in functions.items():
            start = time.perf_counter()
            for _ in range(calls):
                out = fn()
            jax.block_until_ready(out)
            best[name] = min(best[name], (time.perf_counter() - start) / calls * 1e3)
    return {name: round(ms, 3) for name, ms in best.items()}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--calls", type=int, default=100)
    parser.add_argument("--output")
    args = parser.parse_args()
    if not native.available():
        raise SystemExit(f"the native loops are unavailable: {native.build_error()}")
    x = jnp.asarray(np.random.default_rng(0).normal(size=(BATCH, STEPS, FEATURES)).astype("float32"))
    functions = {}
    for cell in CELLS:
        variants = {
            "native": FastRNN(UNITS, cell=cell),
            "keras": layer_class(cell, fast=False)(UNITS),
        }
        for variant, layer in variants.items():
            forward, backward = layer_functions(layer, x)
            functions[f"{cell}/{variant}/forward"] = forward
            functions[f"{cell}/{variant}/forward_backward"] = backward
    functions["train_step/fast_layers"] = train_step_function(True)
    functions["train_step/keras_layers"] = train_step_function(False)
    result = {"ms_per_batch": best_of(functions, args.rounds, args.calls)}
    result.update({"shape": {"batch": BATCH, "timesteps": STEPS, "features": FEATURES, "units": UNITS}})
    result.update(runs.provenance("jax"))
    result["command"] = "python benchmarks/profile_fast_rnn.py " + " ".join(sys.argv[1:])
    for name, ms in result["ms_per_batch"].items():
        print(f"{name:40s} {ms:8.3f} ms")
    if args.output:
        runs.write_json(args.output, result)


if __name__ == "__main__":
    main()
