"""Inputs built to break a reader: each is one line of error, never a traceback."""

import json
import os
import signal
import subprocess
import sys
import time
import zipfile

import pytest

from rnnlab import runs, saving
from rnnlab.cli import main

DEEP_JSON = "[" * 100_000 + "]" * 100_000


def test_a_deeply_nested_run_json_is_one_line(tmp_path, capsys):
    (tmp_path / "run").mkdir()
    (tmp_path / "run" / "run.json").write_text(DEEP_JSON)
    assert main(["evaluate", str(tmp_path / "run")]) == 2
    err = capsys.readouterr().err
    assert "run.json is not valid JSON (nested too deeply)" in err and "Traceback" not in err


def test_a_deeply_nested_preprocessor_json_is_a_clear_error(tmp_path):
    from rnnlab.tasks.sentiment.preprocessor import load_preprocessor

    path = tmp_path / "preprocessor.json"
    path.write_text(DEEP_JSON)
    with pytest.raises(ValueError, match="preprocessor.json is not valid JSON \\(nested too deeply\\)"):
        runs.read_preprocessor_config(path, "translation", "translation")
    with pytest.raises(ValueError, match="nested too deeply"):
        load_preprocessor(path)


def test_a_deeply_nested_toml_recipe_is_one_line(tmp_path, capsys):
    recipe = tmp_path / "deep.toml"
    recipe.write_text("units = " + "[" * 3000 + "]" * 3000 + "\n")
    assert main(["train", "sentiment", "--config", str(recipe), "--output", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err
    assert "deep.toml is not valid TOML: nested too deeply" in err and "Traceback" not in err
    assert not (tmp_path / "out.partial").exists()


def _keras_file(path, config):
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("config.json", config)
        archive.writestr("metadata.json", json.dumps({"keras_version": "3"}))
        archive.writestr("model.weights.h5", b"")


def test_a_deeply_nested_model_config_is_refused(tmp_path):
    _keras_file(tmp_path / "model.keras", DEEP_JSON)
    with pytest.raises(ValueError, match="config.json is nested too deeply"):
        saving.check_model_file(tmp_path / "model.keras")


def test_an_embedding_of_a_trillion_rows_is_refused_not_allocated(tmp_path):
    import keras

    model = keras.Sequential([keras.Input((3,), dtype="int32"), keras.layers.Embedding(10, 2)])
    model.save(tmp_path / "small.keras")
    with zipfile.ZipFile(tmp_path / "small.keras") as archive:
        members = {name: archive.read(name) for name in archive.namelist()}
    members["config.json"] = members["config.json"].replace(b'"input_dim": 10', b'"input_dim": 1000000000000')
    with zipfile.ZipFile(tmp_path / "edited.keras", "w") as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    with pytest.raises(ValueError, match="edited.keras"):
        saving.load_model(tmp_path / "edited.keras")


@pytest.mark.parametrize("delay", [0.15, 0.3, 0.6])
def test_ctrl_c_while_the_command_starts_is_one_line(delay):
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    process = subprocess.Popen(
        [sys.executable, "-m", "rnnlab", "predict", "no-such-run", "a film"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
    )  # fmt: skip
    time.sleep(delay)
    process.send_signal(signal.SIGINT)
    _, err = process.communicate(timeout=60)
    assert "Traceback" not in err
    # 130: our line; 2: the run was already found missing; -2: Python had not started its handler
    assert process.returncode in (130, 2, -signal.SIGINT), (process.returncode, err)


@pytest.fixture
def tiny_run(tmp_path, small_imdb):
    run = tmp_path / "run"
    assert (
        main(["train", "sentiment", "--limit", "20", "--epochs", "1", "--units", "4", "--output", str(run)])
        == 0
    )
    return run


def _predict(run, stdin):
    return subprocess.run(
        [sys.executable, "-m", "rnnlab", "predict", str(run)], input=stdin, capture_output=True, timeout=300
    )


def test_predict_never_echoes_control_bytes_to_the_terminal(tiny_run):
    done = _predict(tiny_run, b"a fine film\x1b[2J\x07\n")
    assert done.returncode == 0, done.stderr
    out = done.stdout.decode()
    assert "\x1b" not in out and "\x07" not in out
    assert "a fine film\\x1b[2J\\x07" in out


def test_predict_names_the_stdin_line_that_is_not_utf8(tiny_run):
    done = _predict(tiny_run, b"a fine film\n\xff\xfe bad\n")
    assert done.returncode == 2
    err = done.stderr.decode()
    assert "stdin line 2 is not UTF-8 text (byte 0xff at position 0)" in err and "Traceback" not in err


def test_a_review_file_that_is_not_utf8_is_named(small_imdb):
    from rnnlab.datasets import DatasetError, imdb

    (small_imdb / "aclImdb" / "train" / "neg" / "98_1.txt").write_bytes(b"caf\xe9 latin-1")
    with pytest.raises(DatasetError, match=r"aclImdb/train/neg/98_1\.txt is not UTF-8 text \(byte 0xe9"):
        imdb.load_texts("train")


def test_a_model_too_big_for_memory_is_refused_before_the_data_loads(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("RNNLAB_DATASETS", str(tmp_path / "nothing-here"))  # loading would fail differently
    args = [
        "train",
        "sentiment",
        "--units",
        "100000",
        "--embedding-dim",
        "100000",
        "--output",
        str(tmp_path / "o"),
    ]
    assert main(args) == 2
    err = capsys.readouterr().err
    assert "need at least" in err and "GiB" in err and "Expected smaller --units" in err
    assert not (tmp_path / "o.partial").exists()
