"""The translation recipe's model trains the same with rnnlab's native loops as with
Keras' own: per-step losses and the weights after several compiled multi-step calls
(dropout on, masks, batches of different shapes, units 256 so that the products
take their blocked path), with the AVX-512 build and with the AVX2 one."""

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

SCRIPT = r"""
import json, sys
import numpy as np
import rnnlab  # noqa: F401
import keras
from rnnlab.layers import native
from rnnlab.models.seq2seq import build_seq2seq

cell = sys.argv[1]
rng = np.random.default_rng(0)
batches = []
for rows, steps in [(64, 24), (37, 12)] * 4:  # two shapes: the 4-step call compiles once
    source = rng.integers(1, 500, (rows, steps)).astype("int32")
    target = rng.integers(1, 500, (rows, steps)).astype("int32")
    for r in range(rows):
        source[r, rng.integers(2, steps):] = 0
        target[r, rng.integers(2, steps):] = 0
    labels = np.where(target > 0, (source * 7 + 3) % 500, 0)
    batches.append(({"source": source, "target_in": target}, labels))


class Batches(keras.utils.PyDataset):
    def __len__(self):
        return len(batches)

    def __getitem__(self, i):
        return batches[i]


result = {"native": native.available()}
for fast in (True, False):
    keras.utils.set_random_seed(0)
    model = build_seq2seq(500, 500, embedding_dim=64, units=256, cell=cell, dropout=0.3,
                          output_dropout=0.3, embedding_dropout=0.1, fast_layers=fast)
    if fast:
        weights = model.get_weights()
    else:
        model.set_weights(weights)
    model.compile(keras.optimizers.Adam(2e-3), keras.losses.SparseCategoricalCrossentropy(from_logits=True),
                  steps_per_execution=4)
    losses = []
    def log_loss(batch, logs):
        losses.append(float(logs["loss"]))

    log = keras.callbacks.LambdaCallback(on_train_batch_end=log_loss)
    model.fit(Batches(), epochs=1, verbose=0, shuffle=False, callbacks=[log])
    result["native_loops" if fast else "keras_loops"] = {
        "losses": losses, "weights": [w.tolist() for w in model.get_weights()]
    }
print("RESULT " + json.dumps(result))
"""


def _train_both(cell, tmp_path, extra_flags=""):
    env = {**os.environ, "KERAS_BACKEND": "jax", "RNNLAB_NATIVE_FLAGS": extra_flags}
    if extra_flags:  # its own build, in its own cache
        env["RNNLAB_CACHE"] = str(tmp_path / "cache")
    done = subprocess.run(
        [sys.executable, "-c", SCRIPT, cell], capture_output=True, text=True, env=env, timeout=900,
        cwd=Path(__file__).parents[2],
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    line = [text for text in done.stdout.splitlines() if text.startswith("RESULT ")][-1]
    return json.loads(line[len("RESULT ") :])


def _assert_same_training(result):
    assert result["native"], "the native loops did not build"
    native, keras_loops = result["native_loops"], result["keras_loops"]
    np.testing.assert_allclose(native["losses"], keras_loops["losses"], rtol=2e-5)
    for a, b in zip(native["weights"], keras_loops["weights"], strict=True):
        a, b = np.asarray(a), np.asarray(b)
        assert np.max(np.abs(a - b)) <= 1e-4 * max(1.0, np.max(np.abs(b)))


@pytest.mark.parametrize("cell", ["gru", pytest.param("lstm", marks=pytest.mark.slow)])
def test_native_and_keras_loops_train_the_recipe_model_alike_with_dropout(cell, tmp_path):
    _assert_same_training(_train_both(cell, tmp_path))


@pytest.mark.slow  # 35 s: a second native build; `-m slow` runs it
def test_the_avx2_build_trains_alike_too(tmp_path):
    _assert_same_training(_train_both("gru", tmp_path, extra_flags="-mno-avx512f"))
