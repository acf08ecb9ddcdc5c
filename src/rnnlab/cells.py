"""The recurrent cells rnnlab knows, and the one place that maps a cell name
to a Keras layer.

`rnnlab.layers.SimpleRNN`/`LSTM`/`GRU` (FastRNN: Keras' weights and
equations, native loops on JAX) are the default; `fast=False` gives Keras'
own layers. Importing this module does not import Keras.

Example:
>>> check_cell("lstm")
'lstm'
>>> recurrent_layer("gru", 64, return_sequences=True).__class__.__name__  # doctest: +SKIP
'GRU'
"""

CELLS = ("simple", "lstm", "gru")
LAYER_NAMES = {"simple": "SimpleRNN", "lstm": "LSTM", "gru": "GRU"}


def check_cell(cell):
    """Returns `cell` if it names a cell; raises ValueError otherwise."""
    if cell not in CELLS:
        raise ValueError(f"Expected cell in {set(CELLS)}. Received: cell={cell!r}")
    return cell


def layer_class(cell, fast=True):
    """The layer class of `cell`: rnnlab's FastRNN-based class, or Keras' own (`fast=False`)."""
    check_cell(cell)
    if fast:
        import rnnlab.layers as module
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
