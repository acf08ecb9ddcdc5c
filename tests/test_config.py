"""Config resolution: defaults < TOML file < flags, with clear errors."""

import pytest

from rnnlab import config as configs
from rnnlab.tasks.sentiment.config import SentimentConfig


def test_defaults_are_the_articles():
    c = SentimentConfig()
    assert (c.cell, c.max_features, c.maxlen, c.embedding_dim, c.units, c.batch_size, c.epochs) == (
        "simple",
        10000,
        100,
        32,
        64,
        32,
        10,
    )
    assert c.learning_rate == 0.001


def test_flags_override_file_override_defaults(tmp_path):
    recipe = tmp_path / "r.toml"
    recipe.write_text('cell = "gru"\nunits = 128\nlearning_rate = 1\n')
    c = configs.resolve(SentimentConfig, recipe, {"units": 16, "epochs": None})
    assert (c.cell, c.units, c.learning_rate, c.epochs) == ("gru", 16, 1.0, 10)


def test_unknown_key_lists_valid_keys(tmp_path):
    recipe = tmp_path / "r.toml"
    recipe.write_text("hidden_units = 3\n")
    with pytest.raises(
        ValueError, match=r"Unknown key 'hidden_units' in .*Expected keys: backend, batch_size"
    ):
        configs.resolve(SentimentConfig, recipe)


def test_wrong_type_and_bad_toml(tmp_path):
    recipe = tmp_path / "r.toml"
    recipe.write_text('units = "many"\n')
    with pytest.raises(ValueError, match="Key 'units' in .* must be int. Received: 'many'"):
        configs.resolve(SentimentConfig, recipe)
    recipe.write_text("units = = 3\n")
    with pytest.raises(ValueError, match="is not valid TOML"):
        configs.resolve(SentimentConfig, recipe)
    with pytest.raises(ValueError, match="Config file not found"):
        configs.resolve(SentimentConfig, tmp_path / "missing.toml")


@pytest.mark.parametrize(
    "values, message",
    [
        ({"cell": "rnn"}, "Expected cell in"),
        ({"units": 0}, "Expected units >= 1. Received: units=0"),
        ({"units": 2.5}, "Expected units to be int. Received: units=2.5"),
        ({"units": True}, "Expected units to be int. Received: units=True"),
        ({"validation_split": 1.0}, "Expected validation_split < 1. Received: validation_split=1.0"),
        ({"validation_split": 0.0}, "Expected validation_split > 0"),
        ({"max_features": 3}, "Expected max_features >= 4"),
        ({"epochs": 10**6}, "Expected epochs <= 100000. Received: epochs=1000000"),
        ({"learning_rate": float("nan")}, "Expected a finite learning_rate"),
        ({"learning_rate": 0.0}, "Expected learning_rate > 0"),
        ({"dropout": 1.0}, "Expected dropout < 1.0"),
        ({"limit": 5}, "Expected limit >= 10. Received: limit=5"),
        ({"optimizer": "adagrad"}, "Expected optimizer in"),
        ({"bucket": True}, "bucket=True needs mask=True"),
        ({"steps_per_execution": 0}, "Expected steps_per_execution >= 1"),
    ],
)
def test_invalid_values(values, message):
    with pytest.raises(ValueError, match=message):
        SentimentConfig(**values)


def test_the_same_checks_apply_to_toml_recipes(tmp_path):
    # One declaration, applied to Python, TOML and flags alike.
    recipe = tmp_path / "r.toml"
    recipe.write_text("epochs = 0\n")
    with pytest.raises(ValueError, match="Expected epochs >= 1. Received: epochs=0"):
        configs.resolve(SentimentConfig, recipe)
    with pytest.raises(ValueError, match="Expected epochs >= 1. Received: epochs=0"):
        configs.resolve(SentimentConfig, overrides={"epochs": 0})


def test_steps_per_execution_default_depends_on_the_backend():
    from rnnlab.tasks.config import TrainConfig

    assert [TrainConfig().steps_per_execution_for(b) for b in ("jax", "tensorflow", "torch")] == [32, 32, 1]
    assert TrainConfig(steps_per_execution=4).steps_per_execution_for("torch") == 4


def test_toml_round_trip(tmp_path):
    c = SentimentConfig(cell="lstm", limit=100, learning_rate=0.01)
    path = tmp_path / "c.toml"
    path.write_text(configs.to_toml(c))
    assert configs.resolve(SentimentConfig, path) == c


def _compiled(config, steps):
    """The sentiment model of `config`, compiled as training compiles it, for `steps` per epoch."""
    from rnnlab.tasks.sentiment.task import TASK
    from rnnlab.training.setup import compiled_model

    stand_in = type("P", (), {"vocab_size": 20, "labels": ("negative", "positive")})()
    return compiled_model(TASK, config, stand_in, None, "jax", steps=steps)


def test_cosine_schedule_spans_the_whole_run():
    import keras

    config = SentimentConfig(lr_schedule="cosine", warmup_steps=10, epochs=3, learning_rate=0.01)
    model = _compiled(config, steps=50)
    lr = keras.optimizers.schedules.deserialize(model.optimizer.get_config()["learning_rate"])
    assert isinstance(lr, keras.optimizers.schedules.CosineDecay)
    assert (lr.decay_steps, lr.warmup_steps) == (140, 10)
    assert [float(lr(s)) for s in (0, 10, 150)] == pytest.approx([0.0, 0.01, 0.0], abs=1e-7)
    with pytest.raises(ValueError, match="warmup_steps needs lr_schedule='cosine'"):
        SentimentConfig(warmup_steps=5)


def test_step_schedule_decays_after_each_epoch_from_the_start_epoch():
    import keras

    config = SentimentConfig(lr_schedule="step", lr_decay=0.5, lr_decay_start=2, epochs=4, learning_rate=1.0)
    model = _compiled(config, steps=10)
    lr = keras.optimizers.schedules.deserialize(model.optimizer.get_config()["learning_rate"])
    # epochs 1-2 (steps 0-19) at 1.0, epoch 3 at 0.5, epoch 4 at 0.25
    assert [float(lr(s)) for s in (0, 19, 20, 29, 30, 39)] == pytest.approx([1, 1, 0.5, 0.5, 0.25, 0.25])
    with pytest.raises(ValueError, match="warmup_steps needs lr_schedule='cosine'.*'step'"):
        SentimentConfig(lr_schedule="step", warmup_steps=5)


def test_none_switches_off_an_optional_setting_a_recipe_sets(tmp_path):
    import argparse

    from rnnlab.tasks.lm.config import LMConfig
    from rnnlab.tasks.translation.config import TranslationConfig

    recipe = tmp_path / "r.toml"
    recipe.write_text("clipnorm = 1.0\n")
    parser = argparse.ArgumentParser()
    configs.add_arguments(parser, TranslationConfig)
    given = vars(parser.parse_args(["--clipnorm", "none"]))
    assert configs.resolve(TranslationConfig, recipe, given).clipnorm is None
    not_given = vars(parser.parse_args([]))
    assert configs.resolve(TranslationConfig, recipe, not_given).clipnorm == 1.0
    assert (
        configs.resolve(TranslationConfig, recipe, vars(parser.parse_args(["--clipnorm", "2"]))).clipnorm
        == 2.0
    )
    with pytest.raises(SystemExit):
        parser.parse_args(["--clipnorm", "nothing"])  # argparse: invalid float value: 'nothing'
    # In TOML too; and a run's config.toml keeps None where the default is not None (lm clips by default).
    recipe.write_text('clipnorm = "none"\n')
    assert configs.resolve(LMConfig, recipe).clipnorm is None
    saved = tmp_path / "config.toml"
    saved.write_text(configs.to_toml(LMConfig(clipnorm=None)))
    assert 'clipnorm = "none"' in saved.read_text() and configs.resolve(LMConfig, saved).clipnorm is None
    recipe.write_text('clipnorm = "off"\n')
    with pytest.raises(ValueError, match="Key 'clipnorm' in .* must be float. Received: 'off'"):
        configs.resolve(LMConfig, recipe)
