"""rnnlab's recurrent layers: a drop-in fast path for SimpleRNN, LSTM and GRU.

Import after the Keras backend is chosen (importing this imports Keras).
"""

from rnnlab.layers.fast_rnn import FastRNN

__all__ = ["FastRNN"]
