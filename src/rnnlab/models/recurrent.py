"""The one place that maps a cell name to a recurrent layer: rnnlab's `SimpleRNN`/`LSTM`/`GRU`
(Keras' weights and equations, native loops on JAX) by default, Keras' own with `fast=False`.

Importing this module does not import Keras (the model builders import it before the backend is
chosen); the layer classes are imported when first asked for.

Example:
>>> recurrent_layer("gru", 64, return_sequences=True).__class__.__name__
'GRU'
"""

from rnnlab.cells import LAYER_NAMES, check_cell


def layer_class(cell, fast=True):
    """The layer class of `cell`: rnnlab's FastRNN-based class, or Keras' own (`fast=False`)."""
    check_cell(cell)
    if fast:
        from rnnlab.layers import fast_rnn as module  # Keras: only once the backend is chosen
    else:
        import keras

        module = keras.layers
    return getattr(module, LAYER_NAMES[cell])


def recurrent_layer(cell, units, fast=True, **kwargs):
    """A `SimpleRNN`/`LSTM`/`GRU` layer with Keras' arguments (`kwargs`).

    Args:
        cell: 'simple', 'lstm' or 'gru'.
        units: size of the state.
        fast: rnnlab's layer (True) or Keras' (False).
        **kwargs: any argument of Keras' layer (`return_sequences`, `dropout`, ...).
    """
    return layer_class(cell, fast)(units, **kwargs)
