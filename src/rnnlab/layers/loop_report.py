"""Which loop over time each recurrent layer of a model runs: rnnlab's native loop, or Keras' own
loop and why (`rnnlab train` prints it and records it in `metrics.json`). A fast path silently not
taken is the commonest speed surprise with Keras' recurrent layers.

Example:
>>> import keras
>>> from rnnlab.layers import LSTM
>>> inputs = keras.Input((None, 4))
>>> model = keras.Model(inputs, LSTM(3, recurrent_dropout=0.2, name="lstm_1")(inputs))
>>> recurrent_loops(model)
{'lstm_1': 'Keras loop (recurrent_dropout=0.2)'}
"""

import keras


def _loop(layer):
    if not hasattr(layer, "keras_loop_reason"):
        return "Keras loop (Keras' own layer)"
    reason = layer.keras_loop_reason(layer.compute_dtype)
    return "native loop" if reason is None else f"Keras loop ({reason})"


def recurrent_loops(model):
    """`{layer name: 'native loop' or 'Keras loop (why)'}` for every recurrent layer of `model`
    (both directions of a `Bidirectional` layer as `NAME/forward_...`, `NAME/backward_...`; layers
    of nested models included)."""
    found = {}

    def visit(layer, prefix=""):
        if isinstance(layer, keras.layers.Bidirectional):
            for inner in (layer.forward_layer, layer.backward_layer):
                visit(inner, f"{prefix}{layer.name}/")
        elif isinstance(layer, keras.layers.RNN):
            found[prefix + layer.name] = _loop(layer)
        elif isinstance(layer, keras.Model):
            for inner in layer.layers:
                visit(inner, f"{prefix}{layer.name}/")

    for layer in model.layers:
        visit(layer)
    return found
