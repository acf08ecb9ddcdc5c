"""`rnnlab.saving.load_model`: loads `.keras` files, and says clearly what is wrong with a bad one."""

import os
import subprocess
import sys
import zipfile

import numpy as np
import pytest

from rnnlab import saving


@pytest.fixture(scope="module")
def saved(tmp_path_factory):
    """A tiny Dense model saved as `model.keras`, and its output on a fixed input."""
    import keras

    model = keras.Sequential(
        [keras.Input((3,)), keras.layers.Dense(2, kernel_initializer="ones", bias_initializer="zeros")]
    )
    path = tmp_path_factory.mktemp("saved") / "model.keras"
    model.save(path)
    return path


def _copy(saved, folder, data):
    path = folder / "model.keras"
    path.write_bytes(data)
    return path


def _rewrite_config(saved, folder, change):
    path = folder / "model.keras"
    with zipfile.ZipFile(saved) as source, zipfile.ZipFile(path, "w") as out:
        for info in source.infolist():
            data = source.read(info.filename)
            if info.filename == "config.json":
                data = change(data)
            out.writestr(info, data)
    return path


def test_round_trip(saved):
    model = saving.load_model(saved)
    np.testing.assert_allclose(model.predict(np.array([[1.0, 2.0, 3.0]]), verbose=0), [[6.0, 6.0]])


def test_missing_file_says_it_is_missing(tmp_path):
    with pytest.raises(ValueError, match=f"{tmp_path / 'model.keras'} is missing"):
        saving.load_model(tmp_path / "model.keras")


def test_folder_is_not_a_model_file(tmp_path):
    with pytest.raises(ValueError, match=f"{tmp_path} is a folder, not a Keras model file"):
        saving.load_model(tmp_path)


@pytest.mark.parametrize(
    "damage",
    [lambda data: data[: len(data) // 2], lambda data: b"", lambda data: b"not a zip file" * 20],
    ids=["truncated", "empty", "garbage"],
)
def test_damaged_file_is_not_a_valid_keras_model_file(saved, tmp_path, damage):
    path = _copy(saved, tmp_path, damage(saved.read_bytes()))
    with pytest.raises(ValueError) as error:
        saving.load_model(path)
    message = str(error.value)
    assert message.startswith(f"{path} is not a valid Keras model file (")
    assert "File not found" not in message


def test_damaged_weights_inside_the_zip(saved, tmp_path):
    data = bytearray(saved.read_bytes())
    with zipfile.ZipFile(saved) as archive:
        info = archive.getinfo("model.weights.h5")
    start = info.header_offset + 30 + len(info.filename) + len(info.extra) + 100
    data[start : start + 200] = bytes(200)  # CRC no longer matches
    path = _copy(saved, tmp_path, bytes(data))
    with pytest.raises(ValueError, match=f"{path} is not a valid Keras model file .*model.weights.h5"):
        saving.load_model(path)


def test_invalid_json_config_names_the_file(saved, tmp_path):
    path = _rewrite_config(saved, tmp_path, lambda data: data[:40])
    with pytest.raises(ValueError, match=f"{path} is not a valid Keras model file .*config.json"):
        saving.load_model(path)


def test_unknown_layer_class_names_the_file_and_the_class(saved, tmp_path):
    path = _rewrite_config(saved, tmp_path, lambda data: data.replace(b'"Dense"', b'"Densely"'))
    with pytest.raises(ValueError, match=f"{path} is not a valid Keras model file .*Densely"):
        saving.load_model(path)


def test_invalid_layer_argument_names_the_file(saved, tmp_path):
    path = _rewrite_config(saved, tmp_path, lambda data: data.replace(b'"units": 2', b'"units": "two"'))
    with pytest.raises(ValueError, match=f"{path} is not a valid Keras model file"):
        saving.load_model(path)


def test_missing_member_is_named(saved, tmp_path):
    path = tmp_path / "model.keras"
    with zipfile.ZipFile(saved) as source, zipfile.ZipFile(path, "w") as out:
        for info in source.infolist():
            if info.filename != "config.json":
                out.writestr(info, source.read(info.filename))
    with pytest.raises(ValueError, match=f"{path} is not a valid Keras model file .*no config.json"):
        saving.load_model(path)


def test_wrong_extension(saved, tmp_path):
    path = _copy(saved, tmp_path, saved.read_bytes()).rename(tmp_path / "model.h5")
    with pytest.raises(ValueError, match=r"Expected a \.keras model file. Received: .*model.h5"):
        saving.load_model(path)


def test_rnnlab_layers_are_registered_in_a_fresh_process(tmp_path, monkeypatch):
    import keras

    monkeypatch.setenv("RNNLAB_NATIVE", "0")  # no C++ build for this

    from rnnlab.layers import FastRNN

    model = keras.Sequential([keras.Input((5,), dtype="int32"), keras.layers.Embedding(10, 4), FastRNN(3)])
    model.save(tmp_path / "fast.keras")
    code = (
        "import sys; from rnnlab.saving import load_model; "
        "print(type(load_model(sys.argv[1]).layers[-1]).__name__)"
    )
    env = {**os.environ, "RNNLAB_NATIVE": "0", "KERAS_BACKEND": "jax"}
    done = subprocess.run(
        [sys.executable, "-c", code, str(tmp_path / "fast.keras")], capture_output=True, text=True, env=env
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip().splitlines()[-1] == "FastRNN"
