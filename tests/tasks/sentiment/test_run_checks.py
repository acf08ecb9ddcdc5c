"""A sentiment run folder's parts must agree, and predictions say when a text
has no known words (found when tried as a hostile new user would)."""

import json

import pytest

from rnnlab.cli import main

SMALL = ["--epochs", "1", "--units", "4", "--embedding-dim", "4", "--max-features", "40", "--maxlen", "20"]


@pytest.fixture
def run(small_imdb, tmp_path):
    out = tmp_path / "run"
    assert main(["train", "sentiment", *SMALL, "--limit", "40", "--output", str(out)]) == 0
    return out


def _edit_json(path, change):
    data = json.loads(path.read_text())
    change(data)
    path.write_text(json.dumps(data))


@pytest.mark.parametrize(
    "change, message",
    [
        (lambda d: d.update(maxlen=50), "preprocessor.json pads to maxlen=50 but config.toml says maxlen=20"),
        (lambda d: d.update(num_words=400), "produces ids up to 399 but the model's embedding has 40 rows"),
    ],
)
def test_a_preprocessor_that_disagrees_with_the_run_is_an_error(run, capsys, change, message):
    _edit_json(run / "preprocessor.json", change)
    assert main(["predict", str(run), "a good film"]) == 2
    assert message in capsys.readouterr().err
    assert main(["evaluate", str(run)]) == 2
    assert message in capsys.readouterr().err


@pytest.mark.parametrize(
    "content, message",
    [
        ("[1, 2, 3]", "expected a JSON object. Received: list"),
        ('"word"', "expected a JSON object. Received: str"),
        ("{broken", "is not valid JSON"),
        ('{"kind": "letters"}', "expected kind in"),
        ('{"kind": "word", "maxlen": 20}', "KeyError"),
        ('{"kind": "subword", "maxlen": 20, "tokenizer": "not a tokenizer"}', "Cannot read a sentiment"),
        ("", "is not valid JSON"),
    ],
)
def test_malformed_preprocessor_json_is_a_clear_error(run, capsys, content, message):
    (run / "preprocessor.json").write_text(content)
    assert main(["predict", str(run), "a good film"]) == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err and str(run / "preprocessor.json") in err


def test_a_changed_model_config_is_a_clear_error(run, capsys):
    import zipfile

    model = run / "model.keras"
    with zipfile.ZipFile(model) as archive:
        files = {name: archive.read(name) for name in archive.namelist()}
    files["config.json"] = files["config.json"].replace(b'"Embedding"', b'"Embedd1ng"')
    with zipfile.ZipFile(model, "w") as archive:
        for name, data in files.items():
            archive.writestr(name, data)
    assert main(["predict", str(run), "a good film"]) == 2
    err = capsys.readouterr().err
    assert "not a valid Keras model file" in err and str(model) in err


def test_texts_without_known_words_get_a_warning_and_a_count(run, capsys):
    from rnnlab.tasks.sentiment.task import SentimentPredictor

    texts = ["这部电影很好看", "🎬🍿👍", "wonderful film"]
    predictions = SentimentPredictor(run).classify(texts)
    assert [p.known_words for p in predictions][:2] == [0, 0]
    assert predictions[2].known_words >= 1  # 'film' is among the small data's 40 most frequent words
    capsys.readouterr()
    assert main(["predict", str(run), *texts]) == 0
    captured = capsys.readouterr()
    assert len(captured.out.strip().splitlines()) == 3
    warnings = [line for line in captured.err.splitlines() if "none of the words" in line]
    assert len(warnings) == 2 and "这部电影很好看" in warnings[0]
