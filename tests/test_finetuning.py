"""ULMFiT's fine-tuning tricks (`rnnlab.finetuning`): per-layer learning rates, gradual
unfreezing and the slanted triangular schedule, checked against plain Keras optimizers and
the paper's formula."""

import numpy as np
import pytest

keras = pytest.importorskip("keras")

from rnnlab.finetuning import (  # noqa: E402
    LayerwiseAdam,
    LayerwiseSGD,
    SlantedTriangular,
    layer_rates,
    layerwise_optimizer,
    rate_for,
)


def numpy(x):
    return np.asarray(keras.ops.convert_to_numpy(x))


def two_layer_classifier():
    from rnnlab.models import build_classifier

    model = build_classifier(vocab_size=20, embedding_dim=4, units=3, cell="lstm", num_layers=2)
    return model


def test_layer_rates_go_down_the_layers():
    model = two_layer_classifier()
    rates = layer_rates(model, discriminative=2.0, unfreeze_every=10)
    by_layer = {
        layer.name: {rate_for(rates, v.path) for v in layer.trainable_weights} for layer in model.layers
    }
    assert by_layer == {
        "output": {(1.0, 0)},
        "rnn_1": {(0.5, 10)},
        "rnn_0": {(0.25, 20)},
        "embedding": {(0.125, 30)},
    }
    assert len(rates) == len(model.trainable_weights)
    with pytest.raises(ValueError, match="Expected discriminative >= 1. Received: discriminative=0.5"):
        layer_rates(model, discriminative=0.5)
    with pytest.raises(ValueError, match="Expected unfreeze_every >= 0 steps"):
        layer_rates(model, unfreeze_every=-1)


def variables():
    return [keras.Variable(np.ones(3, "float32"), name=name) for name in ("top", "middle", "bottom")]


def test_sgd_steps_scale_each_variable_and_wait_for_its_start():
    top, middle, bottom = variables()
    rates = {"top": (1.0, 0), "middle": (0.5, 1), "bottom": (0.25, 2)}
    optimizer = LayerwiseSGD(learning_rate=0.1, layer_rates=rates)
    grads = [keras.ops.full((3,), 2.0)] * 3
    seen = []
    for _ in range(3):
        optimizer.apply(grads, [top, middle, bottom])
        seen.append([float(numpy(v)[0]) for v in (top, middle, bottom)])
    # each step moves a started variable by learning_rate * factor * gradient
    np.testing.assert_allclose(seen[0], [1 - 0.2, 1.0, 1.0], rtol=1e-6)
    np.testing.assert_allclose(seen[1], [1 - 0.4, 1 - 0.1, 1.0], rtol=1e-6)
    np.testing.assert_allclose(seen[2], [1 - 0.6, 1 - 0.2, 1 - 0.05], rtol=1e-6)


def test_adam_with_a_factor_equals_plain_adam_at_the_scaled_rate():
    rng = np.random.default_rng(0)
    grads = [keras.ops.convert_to_tensor(rng.normal(size=3).astype("float32")) for _ in range(4)]
    mine = keras.Variable(np.ones(3, "float32"), name="scaled")
    optimizer = LayerwiseAdam(learning_rate=0.01, layer_rates={"scaled": (1 / 2.6, 0)})
    theirs = keras.Variable(np.ones(3, "float32"), name="plain")
    plain = keras.optimizers.Adam(learning_rate=0.01 / 2.6)
    for g in grads:
        optimizer.apply([g], [mine])
        plain.apply([g], [theirs])
    np.testing.assert_allclose(numpy(mine), numpy(theirs), rtol=1e-6)
    assert not np.allclose(numpy(mine), 1.0)


def test_a_frozen_variable_does_not_move_but_its_moments_do():
    variable = keras.Variable(np.ones(2, "float32"), name="frozen")
    optimizer = LayerwiseAdam(learning_rate=0.1, layer_rates={"frozen": (1.0, 3)})
    gradient = keras.ops.convert_to_tensor(np.array([1.0, -1.0], "float32"))
    for _ in range(3):
        optimizer.apply([gradient], [variable])
    np.testing.assert_array_equal(numpy(variable), [1.0, 1.0])
    optimizer.apply([gradient], [variable])
    # Adam's step with moments of four equal gradients: the full learning rate, signed
    np.testing.assert_allclose(numpy(variable), [0.9, 1.1], rtol=1e-4)


def test_layerwise_optimizer_names_and_errors():
    assert layerwise_optimizer("adam") is LayerwiseAdam
    with pytest.raises(ValueError, match="Received: optimizer='lion'"):
        layerwise_optimizer("lion")


def ulmfit_rate(t, total, peak, cut_frac=0.1, ratio=32):
    """Howard & Ruder (2018), equation 3."""
    cut = int(total * cut_frac)
    p = t / cut if t < cut else 1 - (t - cut) / (cut * (1 / cut_frac - 1))
    return peak * (1 + p * (ratio - 1)) / ratio


def test_slanted_triangular_follows_the_paper():
    schedule = SlantedTriangular(0.01, total_steps=1000)
    for t in (0, 1, 50, 99, 100, 101, 400, 999, 1000):
        assert float(schedule(t)) == pytest.approx(ulmfit_rate(t, 1000, 0.01), rel=1e-5)
    short = SlantedTriangular(1.0, total_steps=25)  # cut = floor(2.5) = 2: the peak is reached
    # then the fall over 25 - 2 steps: (1 + (1 - 1/23) * 31) / 32 at t = 3
    assert [round(float(short(t)), 4) for t in range(4)] == [0.0312, 0.5156, 1.0, 0.9579]
    assert float(schedule(5000)) == pytest.approx(0.01 / 32)  # stays at the floor after the run
    for bad, message in (
        ({"total_steps": 0}, "total_steps >= 1"),
        ({"total_steps": 10, "cut_frac": 1.0}, "0 < cut_frac < 1"),
        ({"total_steps": 10, "ratio": 0.5}, "ratio >= 1"),
    ):
        with pytest.raises(ValueError, match=message):
            SlantedTriangular(0.01, **bad)


def test_a_model_compiled_with_them_saves_and_loads(tmp_path):
    from rnnlab.saving import load_model

    model = two_layer_classifier()
    rates = layer_rates(model, discriminative=2.6, unfreeze_every=5)
    optimizer = LayerwiseAdam(learning_rate=SlantedTriangular(0.01, 100), layer_rates=rates)
    model.compile(optimizer=optimizer, loss="binary_crossentropy")
    x = np.random.default_rng(0).integers(1, 20, (8, 5)).astype("int32")
    model.fit(x, np.ones((8, 1), "float32"), epochs=1, verbose=0)
    model.save(tmp_path / "model.keras")
    loaded = load_model(tmp_path / "model.keras")
    assert type(loaded.optimizer) is LayerwiseAdam
    assert loaded.optimizer.layer_rates == optimizer.layer_rates
    assert isinstance(loaded.optimizer._learning_rate, SlantedTriangular)
    np.testing.assert_allclose(numpy(loaded(x)), numpy(model(x)), rtol=1e-6)
    # the loaded model's variables (their paths lose the model's name) keep their rates:
    # training on at step 1, only the output layer may move
    before = {layer.name: [numpy(w) for w in layer.trainable_weights] for layer in loaded.layers}
    loaded.fit(x, np.zeros((8, 1), "float32"), epochs=1, verbose=0)
    for layer in loaded.layers:
        pairs = zip(before[layer.name], layer.trainable_weights, strict=True)
        moved = any(not np.array_equal(a, numpy(b)) for a, b in pairs)
        assert moved == (layer.name == "output"), layer.name


def test_an_optimizer_whose_rates_match_no_variable_says_so():
    optimizer = LayerwiseAdam(layer_rates={"other_model/dense/kernel": (0.5, 0)})
    with pytest.raises(ValueError, match="None of the 1 variables has a rate in layer_rates"):
        optimizer.build([keras.Variable(np.ones(2, "float32"), name="kernel")])


def test_sentiment_config_checks_the_settings():
    from rnnlab.tasks.sentiment.config import SentimentConfig

    with pytest.raises(ValueError, match="discriminative_lr"):
        SentimentConfig(discriminative_lr=0.5)
    with pytest.raises(ValueError, match="unfreeze_every"):
        SentimentConfig(unfreeze_every=-1.0)
    with pytest.raises(ValueError, match="lr_schedule"):
        SentimentConfig(lr_schedule="triangle")


def test_the_sentiment_task_warns_of_layers_that_never_train(capsys):
    from rnnlab.tasks import get_task
    from rnnlab.tasks.sentiment.config import SentimentConfig

    task, model = get_task("sentiment"), two_layer_classifier()
    assert task.layer_rates(SentimentConfig(), model, steps_per_epoch=10) is None
    rates = task.layer_rates(SentimentConfig(epochs=2, unfreeze_every=0.8), model, steps_per_epoch=10)
    assert rate_for(rates, model.get_layer("rnn_0").trainable_weights[0].path) == (1.0, 16)
    out, err = capsys.readouterr()
    assert "rnn_0: x1 of the learning rate, from epoch 1.60" in out
    assert "embedding never train" in err and "rnn_0" not in err
