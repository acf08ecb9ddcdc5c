"""Every sentiment recipe loads into `SentimentConfig` with exactly its file's values, and builds a model.

Recipes that name an `embeddings` file (best.toml, bigru-word2vec.toml) are checked as configs only:
their model needs the word2vec file, which `rnnlab embeddings train` writes and the tests do not have.
"""

import dataclasses
import os
import tomllib
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest

from rnnlab import config as configs
from rnnlab.tasks.sentiment.config import SentimentConfig

FOLDER = Path(__file__).parents[1] / "recipes" / "sentiment"
RECIPES = sorted(FOLDER.glob("*.toml"))
VOCAB_SIZE = 50  # a tiny vocabulary: the model's shape, not its size, is under test


def build_model(config, vocab_size):
    """The sentiment task's model (imported here: the builder may move)."""
    from rnnlab.tasks import get_task

    return get_task("sentiment").build_model(config, SimpleNamespace(vocab_size=vocab_size))


def test_recipes_exist():
    assert {"article", "article-lstm", "article-gru", "bigru-mean"} <= {path.stem for path in RECIPES}


def test_article_recipe_is_the_defaults():
    assert configs.resolve(SentimentConfig, FOLDER / "article.toml") == SentimentConfig()


@pytest.mark.parametrize("path", RECIPES, ids=[p.stem for p in RECIPES])
def test_recipe_loads_with_its_values(path):
    values = tomllib.loads(path.read_text(encoding="utf-8"))
    config = configs.resolve(SentimentConfig, path)
    fields = {field.name for field in dataclasses.fields(SentimentConfig)}
    assert sorted(set(values) - fields) == []
    assert {key: getattr(config, key) for key in values} == values


@pytest.mark.parametrize("path", RECIPES, ids=[p.stem for p in RECIPES])
def test_recipe_builds_a_model(path):
    config = configs.resolve(SentimentConfig, path)
    if config.embeddings:
        pytest.skip(f"needs the embeddings file {config.embeddings}; the config is checked above")
    model = build_model(config, VOCAB_SIZE)
    embedding = model.get_layer("embedding")
    assert (embedding.input_dim, embedding.output_dim) == (VOCAB_SIZE, config.embedding_dim)
    assert model.input_shape == (None, None if config.bucket else config.maxlen)
    wrappers = [type(layer).__name__ for layer in model.layers].count("Bidirectional")
    assert wrappers == (config.num_layers if config.bidirectional else 0)
    timesteps = 7 if config.bucket else config.maxlen  # bucketed models take any length
    ids = np.random.default_rng(0).integers(1, VOCAB_SIZE, (2, timesteps)).astype("int32")
    probabilities = np.asarray(model(ids))
    assert probabilities.shape == (2, 1)
    assert np.all((probabilities > 0) & (probabilities < 1))


TRANSLATION = sorted((FOLDER.parent / "translation").glob("*.toml"))


@pytest.mark.parametrize("path", TRANSLATION, ids=[p.stem for p in TRANSLATION])
def test_translation_recipe_loads_with_its_values_and_builds(path):
    from rnnlab.tasks import get_task

    task = get_task("translation")
    values = tomllib.loads(path.read_text(encoding="utf-8"))
    config = configs.resolve(task.config_cls, path)
    assert {key: getattr(config, key) for key in values} == values
    model = task.build_model(config, SimpleNamespace(source_vocab=60, target_vocab=70))
    logits = model({"source": np.ones((2, 5), "int32"), "target_in": np.ones((2, 4), "int32")})
    assert tuple(logits.shape) == (2, 4, 70)


OTHER_RECIPES = sorted(
    path for task in ("lm", "translation", "speech") for path in (FOLDER.parent / task).glob("*.toml")
)


@pytest.mark.parametrize("path", OTHER_RECIPES, ids=lambda p: f"{p.parent.name}/{p.stem}")
def test_every_other_task_recipe_loads_with_its_values(path):
    from rnnlab.tasks import get_task

    config = configs.resolve(get_task(path.parent.name).config_cls, path)
    for key, value in tomllib.loads(path.read_text()).items():
        if key in ("data", "valid_data", "test_data", "lexicon"):  # files: read from any folder later
            value = os.path.abspath(value)
            assert os.path.isfile(value), f"{path.name}: {key} = {value} is not in the checkout"
        assert getattr(config, key) == (tuple(value) if isinstance(value, list) else value), key
