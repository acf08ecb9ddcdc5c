"""Run as `python native_in_process.py COORDINATOR N I`: one of N processes compiles a training
step of a model with rnnlab's GRU under Keras' DataParallel and prints the batch size each
native call receives and whether the inputs were gathered (one line of JSON)."""

import json
import os
import re
import sys

os.environ["KERAS_BACKEND"] = "jax"

from rnnlab.training.processes import join  # noqa: E402

coordinator, count, index = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
group = join(coordinator, count, index, timeout_s=60)

import keras  # noqa: E402
import numpy as np  # noqa: E402
from keras.src.backend.jax import trainer  # noqa: E402

from rnnlab.layers import GRU  # noqa: E402

keras.utils.set_random_seed(0)
keras.distribution.set_distribution(
    keras.distribution.DataParallel(devices=keras.distribution.list_devices(), auto_shard_dataset=False)
)
model = keras.Sequential([keras.Input((5, 3)), GRU(4), keras.layers.Dense(1)])
model.compile("adam", "mse")
x, y = np.zeros((16 // count, 5, 3), "float32"), np.zeros((16 // count, 1), "float32")
model.train_on_batch(x, y)
state = tuple(
    [v.value for v in variables]
    for variables in (model.trainable_variables, model.non_trainable_variables, model.optimizer.variables,
                      model.metrics_variables)
)  # fmt: skip
data = trainer._distribute_data((x, y))
hlo = __import__("jax").jit(model.train_step).lower(state, data).compile().as_text()
calls = [line for line in hlo.splitlines() if 'custom_call_target="rnnlab_gru_' in line]
batches = sorted({int(re.search(r"f32\[(\d+),5,", line).group(1)) for line in calls})
print(json.dumps({"process": group.index, "native_calls": len(calls), "batches": batches,
                  "gathers_inputs": "all-gather" in hlo and "f32[16,5,3]" in hlo}))  # fmt: skip
