"""`CellStep`: one step of a trained recurrent layer's cell, as a layer of its own.

Decoding and sampling run a trained model step by step. Building that step as a
Keras model lets it run compiled (`predict_on_batch`), but a functional model
needs unique layer names, and the cells of stacked layers share theirs
(`lstm_cell`, `lstm_cell`, ...). `CellStep` gives each cell a name of its own
and shares its weights.
"""

import keras


class CellStep(keras.layers.Layer):
    """Calls `cell(inputs, states)` and returns `[output, *new_states]`.

    Args:
        cell: a built Keras cell (`SimpleRNNCell`, `LSTMCell`, `GRUCell`), weights shared.

    Example:
    >>> cell = keras.layers.GRUCell(4)
    >>> _ = cell(keras.ops.zeros((1, 3)), [keras.ops.zeros((1, 4))])
    >>> output, state = CellStep(cell)(keras.ops.ones((2, 3)), [keras.ops.zeros((2, 4))])
    >>> tuple(output.shape), tuple(state.shape)
    ((2, 4), (2, 4))
    """

    def __init__(self, cell, **kwargs):
        super().__init__(**kwargs)
        self.cell = cell

    @property
    def state_sizes(self):
        size = self.cell.state_size
        return list(size) if isinstance(size, (list, tuple)) else [size]

    def call(self, inputs, states):
        states = list(states)
        output, new_states = self.cell(inputs, states if len(states) > 1 else states[0], training=False)
        new_states = list(new_states) if isinstance(new_states, (list, tuple)) else [new_states]
        return [output, *new_states]
