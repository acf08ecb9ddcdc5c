"""The one place that maps a cell name to a recurrent layer: rnnlab's `SimpleRNN`/`LSTM`/`GRU`
(Keras' weights and equations, native loops on JAX) by default, Keras' own with `fast=False`.

Example:
>>> recurrent_layer("gru", 64, return_sequences=True).__class__.__name__
'GRU'
"""

import keras

from rnnlab.cells import LAYER_NAMES, check_cell
from rnnlab.layers import fast_rnn


def layer_class(cell, fast=True):
    """The layer class of `cell`: rnnlab's FastRNN-based class, or Keras' own (`fast=False`)."""
    check_cell(cell)
    return getattr(fast_rnn if fast else keras.layers, LAYER_NAMES[cell])


def recurrent_layer(cell, units, fast=True, **kwargs):
    """A `SimpleRNN`/`LSTM`/`GRU` layer with Keras' arguments (`kwargs`).

    Args:
        cell: 'simple', 'lstm' or 'gru'.
        units: size of the state.
        fast: rnnlab's layer (True) or Keras' (False).
        **kwargs: any argument of Keras' layer (`return_sequences`, `dropout`, ...).
    """
    return layer_class(cell, fast)(units, **kwargs)


def layers_by_depth(model, prefix):
    """The layers of `model` named `PREFIX0`, `PREFIX1`, ..., in the order of that number (`rnn_10`
    after `rnn_9`, where sorting names as text would not).

    Example:
    >>> [layer.name for layer in layers_by_depth(model, "rnn_")]  # doctest: +SKIP
    ['rnn_0', 'rnn_1']
    """
    numbered = [
        (int(layer.name[len(prefix) :]), layer)
        for layer in model.layers
        if layer.name.startswith(prefix) and layer.name[len(prefix) :].isdigit()
    ]
    return [layer for _, layer in sorted(numbered, key=lambda item: item[0])]
