"""Sentiment from a pretrained language model: `--init-from RUN` takes the LM's subword
tokenizer, embedding and recurrent weights; concat pooling."""

import json

import numpy as np
import pytest

from rnnlab.cli import main
from rnnlab.tasks.sentiment.config import SentimentConfig


def numpy(x):
    from keras import ops

    return np.asarray(ops.convert_to_numpy(x))


def test_the_classifier_starts_from_the_language_model(imdb_lm):
    from rnnlab.tasks import get_task
    from rnnlab.tasks.base import load_run_model

    task = get_task("sentiment")
    config = SentimentConfig(init_from=str(imdb_lm), limit=50, maxlen=30, pooling="concat")
    preprocessor = task.make_preprocessor(config)
    prepared = task.prepare(config, preprocessor)
    config = prepared.config
    assert (config.cell, config.embedding_dim, config.units, config.num_layers) == ("lstm", 8, 8, 2)
    assert config.tokenizer == "subword" and config.max_features == preprocessor.vocab_size
    model = task.build_model(config, preprocessor, prepared.start)
    lm = load_run_model(imdb_lm)
    np.testing.assert_array_equal(
        numpy(model.get_layer("embedding").embeddings), numpy(lm.get_layer("embedding").embeddings)
    )
    for depth in range(2):
        for mine, theirs in zip(model.get_layer(f"rnn_{depth}").cell.weights,
                                lm.get_layer(f"rnn_{depth}").cell.weights, strict=True):  # fmt: skip
            np.testing.assert_array_equal(numpy(mine), numpy(theirs))
    ids = preprocessor(["A wonderful film."])
    assert ids[0, -1] != 2 and model(ids).shape == (1, 1)  # known subwords; one probability


def test_init_from_trains_and_refuses_other_runs(imdb_lm, tmp_path):
    run = tmp_path / "sentiment"
    args = ["train", "sentiment", "--init-from", str(imdb_lm), "--limit", "64", "--maxlen", "40",
            "--epochs", "1", "--pooling", "concat", "--output", str(run)]  # fmt: skip
    assert main(args) == 0
    metrics = json.loads((run / "metrics.json").read_text())
    assert metrics["config"]["units"] == 8 and metrics["config"]["tokenizer"] == "subword"
    assert 0.0 <= metrics["test_accuracy"] <= 1.0
    assert main(["train", "sentiment", "--init-from", str(run), "--output", str(tmp_path / "x")]) == 2
    with pytest.raises(ValueError, match="cannot be combined with bidirectional"):
        SentimentConfig(init_from=str(imdb_lm), bidirectional=True)


def test_concat_pooling_skips_masked_steps():
    from rnnlab.layers import ConcatPooling

    x = np.array([[[1.0], [5.0], [3.0], [2.0]], [[4.0], [-1.0], [-2.0], [0.0]]], "float32")
    mask = np.array([[0, 1, 1, 0], [1, 0, 0, 0]], bool)
    assert numpy(ConcatPooling()(x, mask=mask)).tolist() == [[3.0, 5.0, 4.0], [4.0, 4.0, 4.0]]
    assert numpy(ConcatPooling()(x)).tolist() == [[2.0, 5.0, 2.75], [0.0, 4.0, 0.25]]
    assert numpy(ConcatPooling()(x, mask=np.zeros((2, 4), bool))).tolist() == [[0.0] * 3] * 2


def test_gradual_unfreezing_keeps_the_lower_layers_until_their_turn(imdb_lm, tmp_path):
    from rnnlab.finetuning import LayerwiseAdam
    from rnnlab.tasks.base import load_run_model

    run = tmp_path / "ulmfit"
    args = ["train", "sentiment", "--init-from", str(imdb_lm), "--limit", "80", "--maxlen", "40",
            "--epochs", "1", "--batch-size", "32", "--unfreeze-every", "0.5", "--discriminative-lr", "2.6",
            "--lr-schedule", "slanted", "--output", str(run)]  # fmt: skip
    assert main(args) == 0  # 64 training reviews: 2 steps; rnn_1 joins at step 1, rnn_0 at step 2
    model, lm = load_run_model(run), load_run_model(imdb_lm)
    assert type(model.optimizer) is LayerwiseAdam

    def same(name):
        mine, theirs = model.get_layer(name).trainable_weights, lm.get_layer(name).trainable_weights
        return all(np.array_equal(numpy(a), numpy(b)) for a, b in zip(mine, theirs, strict=True))

    assert same("embedding") and same("rnn_0")
    assert not same("rnn_1")
    metrics = json.loads((run / "metrics.json").read_text())
    assert metrics["config"]["unfreeze_every"] == 0.5 and metrics["config"]["discriminative_lr"] == 2.6
