"""dL/dh_t with a Keras backend's autodiff, for the gradient lab.

Keras gives gradients with respect to variables and inputs, not with respect to a
layer's internal states. Adding a perturbation e_t to every h_t (as an extra input,
all zeros) changes nothing in the forward pass, and dL/de_t = dL/dh_t: the
gradient with respect to the perturbation input is the hidden-state gradient.
"""

import keras
import numpy as np


class PerturbedCell(keras.layers.Layer):
    """Wraps a built cell: the last `units` input features are added to h_t (output and state).

    Args:
        cell: a built `SimpleRNNCell`, `LSTMCell` or `GRUCell` (its weights are used as they are).

    Example:
    >>> cell = keras.layers.SimpleRNNCell(3)
    >>> cell.build((None, 2))
    >>> rnn = keras.layers.RNN(PerturbedCell(cell), return_sequences=True)
    >>> tuple(rnn(np.zeros((4, 5, 2 + 3), "float32")).shape)
    (4, 5, 3)
    """

    def __init__(self, cell, **kwargs):
        super().__init__(**kwargs)
        self.cell = cell
        self.units = cell.units
        self.state_size = cell.state_size
        self.output_size = cell.units
        self.built = True

    def call(self, inputs, states, training=False):
        x, perturbation = inputs[:, : -self.units], inputs[:, -self.units :]
        states = list(states) if isinstance(states, (list, tuple)) else [states]
        h, new_states = self.cell(x, states if len(states) > 1 else states[0], training=False)
        h = h + perturbation
        new_states = list(new_states) if isinstance(new_states, (list, tuple)) else [new_states]
        return h, [h, *new_states[1:]]


def input_gradient(loss_of, value):
    """d loss_of(value) / d value as a NumPy array, with the active backend's autodiff.

    Args:
        loss_of: a function of one tensor returning a scalar.
        value: a NumPy array.
    """
    backend = keras.backend.backend()
    if backend == "jax":
        import jax

        gradient = jax.grad(lambda v: loss_of(v))(keras.ops.convert_to_tensor(value))
    elif backend == "tensorflow":
        import tensorflow as tf

        tensor = tf.convert_to_tensor(value)
        with tf.GradientTape() as tape:
            tape.watch(tensor)
            loss = loss_of(tensor)
        gradient = tape.gradient(loss, tensor)
    elif backend == "torch":
        import torch

        tensor = torch.tensor(value, requires_grad=True, device=keras.ops.convert_to_tensor(value).device)
        loss_of(tensor).backward()
        gradient = tensor.grad
    else:
        raise ValueError(f"Expected backend in {{'jax', 'tensorflow', 'torch'}}. Received: {backend!r}")
    return np.asarray(keras.ops.convert_to_numpy(gradient), dtype=np.float64)
