"""Cross-check of the NumPy reference against Keras on the current backend.

The same weights are loaded into Keras' `Embedding -> SimpleRNN/LSTM/GRU ->
Dense`; outputs are compared in float32 and gradients are taken with the
backend's own autodiff (`jax.grad`, `tf.GradientTape`, `torch.autograd`).
Run one backend per process (Keras picks its backend at import):

    KERAS_BACKEND=torch python -m rnnlab.reference.keras_check
"""

import json
import sys

import keras
import numpy as np

from rnnlab.reference import gradcheck, losses, model

OUTPUT_ATOL = 1e-5  # float32 forward pass
GRADIENT_ATOL = 1e-4  # float32 autodiff vs float64 BPTT
LAYER_CLASSES = {"simple": "SimpleRNN", "lstm": "LSTM", "gru": "GRU"}


def build_keras_model(cell, params, timesteps, return_sequences):
    """Keras model holding the reference `params` (float32)."""
    vocab_size, embedding_dim = params["W_embed"].shape
    units = params["W_hh"].shape[0]
    output_dim = params["W_hy"].shape[1]
    activation = "softmax" if return_sequences else "sigmoid"
    rnn = getattr(keras.layers, LAYER_CLASSES[cell])(units, return_sequences=return_sequences)
    keras_model = keras.Sequential(
        [
            keras.Input((timesteps,), dtype="int32"),
            keras.layers.Embedding(vocab_size, embedding_dim),
            rnn,
            keras.layers.Dense(output_dim, activation=activation),
        ]
    )
    weights = [params[name].astype(np.float32) for name in model.PARAM_ORDER]
    keras_model.set_weights(weights)
    return keras_model


def keras_gradients(keras_model, ids, targets, loss_fn):
    """Gradients of `loss_fn(targets, keras_model(ids))` w.r.t. the trainable
    variables, with the active backend's autodiff, as float64 NumPy arrays."""
    backend = keras.backend.backend()
    variables = keras_model.trainable_variables
    if backend == "jax":
        import jax

        non_trainable = [v.value for v in keras_model.non_trainable_variables]

        def loss_of(values):
            predictions, _ = keras_model.stateless_call(values, non_trainable, ids)
            return loss_fn(targets, predictions)

        grads = jax.grad(loss_of)([v.value for v in variables])
    elif backend == "tensorflow":
        import tensorflow as tf

        with tf.GradientTape() as tape:
            loss = loss_fn(targets, keras_model(ids))
        grads = [tf.convert_to_tensor(g) for g in tape.gradient(loss, variables)]
    elif backend == "torch":
        for variable in variables:
            variable.value.grad = None
        loss_fn(targets, keras_model(ids)).backward()
        grads = [variable.value.grad for variable in variables]
    else:
        raise ValueError(f"Expected backend in {{'jax', 'tensorflow', 'torch'}}. Received: {backend!r}")
    return [np.asarray(keras.ops.convert_to_numpy(g), dtype=np.float64) for g in grads]


def compare(cell, return_sequences):
    """Max absolute differences between the reference and Keras.

    Returns:
        dict with `"outputs"` and one entry per parameter (gradient error).
    """
    config = gradcheck.CheckConfig()
    params, ids, targets, loss = gradcheck.problem(cell, return_sequences, config)
    ref_loss, ref_grads = model.loss_and_gradients(params, ids, targets, cell, loss, return_sequences)
    logits = model.forward(params, ids, cell, return_sequences)
    ref_outputs = losses.softmax(logits) if return_sequences else losses.sigmoid(logits)

    keras_model = build_keras_model(cell, params, config.timesteps, return_sequences)
    ids32 = ids.astype("int32")
    if return_sequences:
        loss_fn = keras.losses.SparseCategoricalCrossentropy()
        keras_targets = targets.astype("int32")
    else:
        loss_fn = keras.losses.BinaryCrossentropy()
        keras_targets = targets.astype("float32")
    keras_outputs = keras.ops.convert_to_numpy(keras_model(ids32))
    errors = {"outputs": float(np.abs(keras_outputs - ref_outputs).max())}
    grads = keras_gradients(keras_model, ids32, keras_targets, loss_fn)
    for name, grad in zip(model.PARAM_ORDER, grads, strict=True):
        errors[name] = float(np.abs(grad - ref_grads[name]).max())
    keras_loss = float(keras.ops.convert_to_numpy(loss_fn(keras_targets, keras_model(ids32))))
    errors["loss"] = abs(keras_loss - float(ref_loss))
    return errors


def main():
    """Prints a JSON object `{backend, results: {cell/kind: errors}}`."""
    results = {}
    for cell in model.CELLS:
        for return_sequences in (False, True):
            kind = "many_to_many" if return_sequences else "many_to_one"
            results[f"{cell}/{kind}"] = compare(cell, return_sequences)
    json.dump({"backend": keras.backend.backend(), "results": results}, sys.stdout)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
