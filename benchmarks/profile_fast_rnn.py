"""Where the time of the SimpleRNN recurrence goes (article's model: T=100, batch 32, 64 units).

Compares, per batch: the native Numba loop called directly, the same loop
inside a jitted JAX function through `jax.pure_callback` (rnnlab's FastRNN
native path), and XLA's `lax.scan` (what stock Keras on JAX runs); forward,
and forward + backward.

    python benchmarks/profile_fast_rnn.py --output results/bench/profile-fast-simple.json
"""

import argparse
import json
import os
import sys
import time

os.environ.setdefault("KERAS_BACKEND", "jax")

import jax  # noqa: E402
import jax.numpy as jnp  # noqa: E402
import numpy as np  # noqa: E402

from rnnlab import runs  # noqa: E402
from rnnlab.layers import kernels  # noqa: E402
from rnnlab.layers.fast_rnn import _native_simple_scan  # noqa: E402


def timed(fn, repeats):
    fn()
    start = time.perf_counter()
    for _ in range(repeats):
        fn()
    return (time.perf_counter() - start) / repeats * 1e3


def lax_scan(xp, recurrent_kernel, mask):
    def step(h, inputs):
        x_t, m = inputs
        new = jnp.tanh(x_t + h @ recurrent_kernel)
        h = m[:, None] * new + (1 - m[:, None]) * h
        return h, h

    return jax.lax.scan(step, jnp.zeros(xp.shape[1:]), (xp, mask))[1]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=300)
    parser.add_argument("--output")
    args = parser.parse_args()
    T, B, H = 100, 32, 64
    rng = np.random.default_rng(0)
    xp_np = rng.normal(size=(T, B, H)).astype(np.float32)
    u_np = (rng.normal(size=(H, H)) * 0.1).astype(np.float32)
    mask_np = np.ones((T, B), np.float32)
    hs_np = kernels.simple_forward(xp_np, u_np, mask_np)
    xp, u, mask = jnp.asarray(xp_np), jnp.asarray(u_np), jnp.asarray(mask_np)
    result = {
        "numba_forward_ms": timed(lambda: kernels.simple_forward(xp_np, u_np, mask_np), args.repeats),
        "numba_backward_ms": timed(
            lambda: kernels.simple_backward(hs_np, hs_np, u_np, mask_np), args.repeats
        ),
    }
    for name, scan in (("callback", _native_simple_scan()), ("lax_scan", lax_scan)):
        forward = jax.jit(scan)
        grad = jax.jit(jax.grad(lambda xp, u, scan=scan: scan(xp, u, mask).sum(), argnums=(0, 1)))
        result[f"{name}_forward_ms"] = timed(
            lambda f=forward: f(xp, u, mask).block_until_ready(), args.repeats
        )
        result[f"{name}_forward_backward_ms"] = timed(
            lambda g=grad: jax.block_until_ready(g(xp, u)), args.repeats
        )
    result = {k: round(v, 3) for k, v in result.items()}
    result.update({"shape": {"timesteps": T, "batch": B, "units": H}, **runs.provenance("jax")})
    result["command"] = "python benchmarks/profile_fast_rnn.py " + " ".join(sys.argv[1:])
    print(json.dumps(result, indent=2))
    if args.output:
        runs.write_json(args.output, result)


if __name__ == "__main__":
    main()
