"""rnnlab's recurrent layers: Keras' `SimpleRNN`, `LSTM` and `GRU` with a faster loop.

Import after the Keras backend is chosen (importing this imports Keras).
`FastRNN(units, cell=...)` makes one by cell name.
"""

from rnnlab.layers.attention import AdditiveAttention, LuongAttention
from rnnlab.layers.cell_step import CellStep
from rnnlab.layers.fast_rnn import GRU, LSTM, FastRNN, SimpleRNN
from rnnlab.layers.masking import EndMask
from rnnlab.layers.pooling import ConcatPooling
from rnnlab.layers.tied_embedding import TiedEmbedding

__all__ = [
    "GRU",
    "LSTM",
    "AdditiveAttention",
    "CellStep",
    "ConcatPooling",
    "EndMask",
    "FastRNN",
    "LuongAttention",
    "SimpleRNN",
    "TiedEmbedding",
]
