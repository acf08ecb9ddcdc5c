"""Every recipe file is a valid config of its task."""

from pathlib import Path

import pytest

from rnnlab import config as configs
from rnnlab.tasks import get_task

RECIPES = sorted(Path(__file__).parents[1].joinpath("recipes").glob("*/*.toml"))


def test_recipes_exist():
    assert any(path.stem == "article" for path in RECIPES)


@pytest.mark.parametrize("path", RECIPES, ids=[f"{p.parent.name}/{p.stem}" for p in RECIPES])
def test_recipe_resolves(path):
    config = configs.resolve(get_task(path.parent.name).Config, path)
    if path.stem == "article":
        assert config == get_task("sentiment").Config()  # the article's settings are the defaults
