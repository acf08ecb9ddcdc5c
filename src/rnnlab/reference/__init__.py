"""The article's RNN math in NumPy: forward passes and backpropagation through time.

Everything here is plain NumPy so a reader can follow each equation of the
article ("Implementing a basic RNN with Keras", sections 3.1, 3.2, 4.1-4.3):

- `embedding`: the lookup `e_w = W_embed[i_w, :]` and its gradient.
- `simple_rnn`, `lstm`, `gru`: one time step and its backward step, with the
  same equations, gate order and weight layout as Keras, so Keras weights load
  unchanged (`keras_check.build_keras_model` loads them into Keras).
- `recurrent`: the loop over time (forward, and BPTT backward) for any cell.
- `losses`: sigmoid + binary cross-entropy, softmax + categorical
  cross-entropy, each with its gradient.
- `model`: Embedding -> RNN -> Dense, many-to-one or many-to-many, with the
  loss and the gradient of every parameter and of the embedded inputs.
- `gradcheck`: central finite differences in float64.
- `keras_check`: the same weights in Keras, outputs and autodiff gradients
  compared with the reference; not imported here: run it as
  `python -m rnnlab.reference.keras_check`, one Keras backend per process.

Conventions: row vectors, as Keras computes them. The article writes
`h_t = tanh(W_xh x_t + W_hh h_{t-1} + b_h)`; with a batch of row vectors
this is `h_t = tanh(x_t @ W_xh + h_{t-1} @ W_hh + b_h)`, where `W_xh` has
shape `(input_dim, units)` exactly like Keras' `kernel`.
"""

from rnnlab.reference import embedding, gradcheck, gru, losses, lstm, model, recurrent, simple_rnn
from rnnlab.reference.model import (
    CELLS,
    forward,
    init_params,
    loss_and_gradients,
)

__all__ = [
    "CELLS",
    "embedding",
    "forward",
    "gradcheck",
    "gru",
    "init_params",
    "loss_and_gradients",
    "losses",
    "lstm",
    "model",
    "recurrent",
    "simple_rnn",
]
