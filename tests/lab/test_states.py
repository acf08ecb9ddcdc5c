"""`rnnlab lab states`: replayed states equal the layers' own outputs; the sentiment trace
equals the model's predictions; unit search and text features on known inputs; bad input."""

import json
import shutil
import types

import keras
import numpy as np
import pytest

from rnnlab.cli import main
from rnnlab.lab import states
from rnnlab.layers import GRU as FastGRU
from rnnlab.layers import LSTM as FastLSTM
from rnnlab.tasks import get_task
from rnnlab.tasks.base import implementing
from rnnlab.tasks.sentiment.states import sentiment_trace

SENTIMENT = "--epochs 1 --units 8 --embedding-dim 8 --max-features 300 --maxlen 40 --limit 200 --mask"
REVIEW = "A wonderful film with a terrible ending, but I loved the music."


@pytest.mark.parametrize(
    "make",
    [
        lambda: keras.layers.SimpleRNN(5, return_sequences=True),
        lambda: keras.layers.GRU(5, return_sequences=True),
        lambda: FastLSTM(5, return_sequences=True),
        lambda: FastGRU(5, return_sequences=True),
        lambda: keras.layers.Bidirectional(keras.layers.LSTM(4, return_sequences=True)),
    ],
    ids=["simple", "gru", "fast-lstm", "fast-gru", "bi-lstm"],
)
def test_replayed_outputs_equal_the_layer(make):
    layer = make()
    x = np.random.default_rng(0).normal(size=(3, 7, 6)).astype("float32")
    expected = keras.ops.convert_to_numpy(layer(x))
    replayed = states.step_layer(layer, x)
    np.testing.assert_allclose(replayed.outputs, expected, atol=2e-5)
    first = next(iter(replayed.states.values()))
    assert first.shape[:2] == (3, 7)


def test_lstm_memory_state_equals_keras_final_state():
    layer = keras.layers.LSTM(4, return_state=True)
    x = np.random.default_rng(1).normal(size=(2, 9, 3)).astype("float32")
    _, h, c = (keras.ops.convert_to_numpy(v) for v in layer(x))
    replayed = states.step_layer(layer, x)
    assert set(replayed.states) == {"h", "c"}
    np.testing.assert_allclose(replayed.states["h"][:, -1], h, atol=2e-5)
    np.testing.assert_allclose(replayed.states["c"][:, -1], c, atol=2e-5)


def test_a_model_without_recurrent_layers_is_refused():
    embedding = keras.layers.Embedding(10, 3, name="embedding")
    model = keras.Sequential([keras.Input((4,), dtype="int32"), embedding, keras.layers.Dense(1)])
    with pytest.raises(ValueError, match="followed by recurrent layers"):
        states.recurrent_layers(model)


def test_text_features_of_a_known_text():
    tokens = list('AB: "hi (x)"\nok')
    features = states.text_features(tokens)
    assert features["line_position"].tolist() == [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 0, 1, 2]
    assert features["word_position"].tolist() == [1, 2, 3, 0, 1, 2, 3, 0, 1, 2, 3, 4, 0, 1, 2]
    assert features["in_quotes"].tolist() == [0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0]
    assert features["in_parentheses"].tolist() == [0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 0, 0, 0, 0, 0]
    assert features["caps_line"].tolist() == [1, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]


def test_unit_search_finds_the_planted_unit_and_skips_constant_features():
    rng = np.random.default_rng(0)
    steps = 2000
    feature = np.sin(np.arange(steps) / 7.0)
    values = rng.normal(size=(1, steps, 6))
    values[0, :, 4] = -feature + 0.3 * rng.normal(size=steps)  # unit 4 tracks it, with the sign flipped
    layer = states.LayerStates("rnn_0", {"h": values}, values)
    found = states.unit_correlations([layer], {"wave": feature, "flat": np.ones(steps)})
    assert found["flat"] == {"varies": False}
    assert (found["wave"]["layer"], found["wave"]["state"], found["wave"]["unit"]) == ("rnn_0", "h", 4)
    expected = np.corrcoef(values[0, steps // 2 :, 4], feature[steps // 2 :])[0, 1]
    assert found["wave"]["held_out_r"] == pytest.approx(expected, abs=1e-9)
    assert found["wave"]["held_out_r"] < -0.9


def test_the_states_lab_is_a_task_hook_whose_default_names_the_tasks_that_have_it():
    assert implementing("states_lab") == ["sentiment", "lm"]
    predictor = types.SimpleNamespace(folder="runs/digits")  # the default reads nothing of it
    with pytest.raises(ValueError) as refused:
        get_task("speech").states_lab(predictor, "out", text="seven")
    expected = "`rnnlab lab states` reads sentiment or lm runs; runs/digits is a speech run."
    assert str(refused.value) == expected


@pytest.fixture(scope="module")
def sentiment_run(real_imdb, tmp_path_factory):
    run = tmp_path_factory.mktemp("states-sentiment") / "run"
    assert main(["train", "sentiment", *SENTIMENT.split(), "--output", str(run)]) == 0
    return run


def test_sentiment_trace_ends_at_the_prediction_and_steps_like_the_model(sentiment_run):
    from rnnlab.tasks.base import load_predictor

    predictor = load_predictor(sentiment_run)
    trace = sentiment_trace(predictor, REVIEW)
    tokens, _ = predictor.preprocessor.tokens_and_ids(REVIEW)
    assert trace.tokens == ["[START]", *tokens]
    assert trace.probabilities.shape == (len(tokens) + 1,)
    assert trace.probabilities[-1] == pytest.approx(predictor.classify([REVIEW])[0].probability, abs=1e-6)
    # A masked SimpleRNN with its last state answers sigmoid(W h_t + b): so does each prefix.
    kernel, bias = predictor.model.get_layer("output").get_weights()
    h = trace.layers[-1].states["h"][0]
    np.testing.assert_allclose(1 / (1 + np.exp(-(h @ kernel + bias)))[:, 0], trace.probabilities, atol=1e-5)


def test_lab_states_writes_record_and_figures(sentiment_run, imdb_lm, tmp_path):
    out = tmp_path / "lab"
    assert main(["lab", "states", str(sentiment_run), "--output", str(out), "--text", REVIEW]) == 0
    record = json.loads((out / "states-sentiment.json").read_text())
    assert record["lab"] == "states" and record["figures"] == ["states-sentiment.png"]
    assert len(record["probabilities"]) == len(record["tokens"])
    assert (out / "states-sentiment.png").stat().st_size > 10_000
    assert main(["lab", "states", str(imdb_lm), "--output", str(out), "--chars", "3000"]) == 0
    record = json.loads((out / "states-lm.json").read_text())
    assert record["level"] == "subword" and set(record["layers"]) == {"rnn_0", "rnn_1"}
    assert set(record["units"]) == {"in_quotes", "in_parentheses", "line_position", "word_position",
                                    "caps_line"}  # fmt: skip
    for unit in record["units"].values():
        assert not unit["varies"] or -1 <= unit["held_out_r"] <= 1


def test_lab_states_bad_input(sentiment_run, tmp_path, capsys):
    out = tmp_path / "lab"
    assert main(["lab", "states", str(sentiment_run), "--output", str(out)]) == 2
    assert "Expected --text" in capsys.readouterr().err
    out.mkdir()
    (out / "states-sentiment.json").write_text('{"mine": true}')
    assert main(["lab", "states", str(sentiment_run), "--output", str(out), "--text", REVIEW]) == 2
    assert "was not written by `rnnlab lab states`" in capsys.readouterr().err
    assert (out / "states-sentiment.json").read_text() == '{"mine": true}'
    assert main(["lab", "states", str(tmp_path), "--output", str(out), "--text", REVIEW]) == 2
    other = tmp_path / "translation-run"  # a run of another task: refused before anything is loaded
    shutil.copytree(sentiment_run, other)
    info = json.loads((other / "run.json").read_text())
    (other / "run.json").write_text(json.dumps({**info, "task": "translation"}))
    assert main(["lab", "states", str(other), "--output", str(tmp_path / "y"), "--text", REVIEW]) == 2
    assert f"`rnnlab lab states` reads sentiment or lm runs; {other} is a translation run." in (
        capsys.readouterr().err
    )
    assert main(["lab", "states", str(sentiment_run), "--output", str(tmp_path / "x"), "--text", "!!!"]) == 2
    assert "at least one word" in capsys.readouterr().err
    elsewhere = ["lab", "states", str(sentiment_run), "--output", str(tmp_path / "x")]
    assert main([*elsewhere, "--text", "这部电影很好。"]) == 2
    assert "the run's tokenizer reads" in capsys.readouterr().err
    assert main([*elsewhere, "--text", REVIEW, "--chars", "10"]) == 2
    assert "Expected 1000 <= --chars" in capsys.readouterr().err
    huge = "word " * 50_000
    assert main(["lab", "states", str(sentiment_run), "--output", str(tmp_path / "x"), "--text", huge]) == 2
    assert "at most 200000 characters" in capsys.readouterr().err
