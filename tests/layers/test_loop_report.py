"""Which loop each recurrent layer runs, said plainly: the reason for Keras' loop, printed by
`rnnlab train` and recorded in `metrics.json`."""

import json

import keras
import pytest

from rnnlab.cli import main
from rnnlab.layers import GRU, LSTM, SimpleRNN
from rnnlab.layers.fast_rnn import native_unavailable_reason
from rnnlab.layers.loop_report import recurrent_loops


def _native():
    reason = native_unavailable_reason()
    return "native loop" if reason is None else f"Keras loop ({reason})"


def test_each_layer_says_which_loop_it_runs_and_why():
    inputs = keras.Input((None, 4))
    x = keras.layers.Bidirectional(LSTM(3, return_sequences=True, name="lstm"), name="bi")(inputs)
    x = GRU(3, reset_after=False, return_sequences=True, name="gru_v1")(x)
    x = SimpleRNN(3, activation="relu", return_sequences=True, name="relu_rnn")(x)
    x = LSTM(3, native=False, return_sequences=True, name="opted_out")(x)
    x = keras.layers.GRU(3, name="stock")(x)
    loops = recurrent_loops(keras.Model(inputs, x))
    assert loops == {
        "bi/forward_lstm": _native(),
        "bi/backward_lstm": _native(),
        "gru_v1": "Keras loop (reset_after=False)",
        "relu_rnn": "Keras loop (activation=relu)",
        "opted_out": "Keras loop (native=False)",
        "stock": "Keras loop (Keras' own layer)",
    }


def test_switching_the_native_loops_off_is_named(monkeypatch):
    monkeypatch.setenv("RNNLAB_NATIVE", "0")
    inputs = keras.Input((None, 4))
    model = keras.Model(inputs, LSTM(3, name="lstm")(inputs))
    expected = native_unavailable_reason() or "RNNLAB_NATIVE=0"  # another backend is named first
    assert recurrent_loops(model) == {"lstm": f"Keras loop ({expected})"}


@pytest.mark.parametrize("dropout, expected", [(0.0, None), (0.2, "Keras loop (recurrent_dropout=0.2)")])
def test_training_prints_and_records_each_layers_loop(tmp_path, capsys, dropout, expected):
    rows = [f"{w} film {i}\t{label}" for i in range(15) for label, w in (("pos", "great"), ("neg", "dull"))]
    (tmp_path / "r.tsv").write_text("text\tlabel\n" + "\n".join(rows) + "\n", encoding="utf-8")
    args = ["--epochs", "1", "--units", "4", "--embedding-dim", "4", "--cell", "lstm",
            "--recurrent-dropout", str(dropout)]  # fmt: skip
    assert (
        main(
            [
                "train",
                "sentiment",
                *args,
                "--data",
                str(tmp_path / "r.tsv"),
                "--output",
                str(tmp_path / "run"),
            ]
        )
        == 0
    )
    loops = json.loads((tmp_path / "run" / "metrics.json").read_text())["recurrent_loops"]
    assert loops == {"rnn": expected or _native()}
    assert f"rnn: {expected or _native()}" in capsys.readouterr().out
