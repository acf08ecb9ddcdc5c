"""The names of the recurrent cells rnnlab knows (configs check them without importing Keras;
`rnnlab.models.recurrent` maps a name to its layer).

Example:
>>> check_cell("lstm")
'lstm'
"""

CELLS = ("simple", "lstm", "gru")
LAYER_NAMES = {"simple": "SimpleRNN", "lstm": "LSTM", "gru": "GRU"}


def check_cell(cell):
    """Returns `cell` if it names a cell; raises ValueError otherwise."""
    if cell not in CELLS:
        raise ValueError(f"Expected cell in {set(CELLS)}. Received: cell={cell!r}")
    return cell
