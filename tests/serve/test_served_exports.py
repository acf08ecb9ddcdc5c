"""`rnnlab serve EXPORT_DIR`: ONNX exports of every task served through the same routes and page,
answered by ONNX Runtime as their runs answer."""

from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("onnxruntime")


@pytest.fixture(scope="module")
def export_client(served_runs, tmp_path_factory):
    from fastapi.testclient import TestClient

    from rnnlab.cli import main
    from rnnlab.serve import create_app

    folder = tmp_path_factory.mktemp("served-exports")
    exports = []
    for name, run in served_runs.items():
        assert main(["export", str(run), "--output", str(folder / name)]) == 0
        exports.append(folder / name)
    with TestClient(create_app(exports), raise_server_exceptions=False) as client:
        yield client


def test_every_task_is_served_from_its_export(export_client, predictors, fsdd_wavs):
    models = export_client.get("/v1/models").json()["models"]
    assert sorted(m["task"] for m in models) == ["lm", "sentiment", "speech", "translation"]
    assert {m["backend"] for m in models} == {"onnxruntime"}
    assert all("test_" in next(iter(m["test"]), "test_") for m in models)

    review = "A wonderful, moving film with a great cast."
    want = predictors["sentiment"].predict([review])[0]
    got = export_client.post("/v1/sentiment", json={"input": review}).json()
    assert got["label"] == want["label"] and got["probability"] == pytest.approx(
        want["probability"], abs=1e-4
    )

    sentence = "Ein Mann fährt Fahrrad."
    want = predictors["translation"].predict([sentence], beam_size=2)[0]
    got = export_client.post("/v1/translation", json={"input": sentence, "beam_size": 2}).json()
    assert got["translation"] == want["translation"]

    request = {"input": "this movie", "length": 20, "temperature": 0.8, "seed": 3}
    want = predictors["lm"].generate("this movie", length=20, temperature=0.8, seed=3)
    assert export_client.post("/v1/lm", json=request).json()["text"] == want

    path = Path(fsdd_wavs[0])
    want = predictors["speech"].predict([str(path)])[0]
    got = export_client.post("/v1/speech", files={"file": ("7.wav", path.read_bytes())}).json()
    assert got["text"] == want["text"]
    np.testing.assert_allclose(got["posteriors"], want["posteriors"], atol=2e-4)


def test_an_export_refuses_options_its_runtime_does_not_take(export_client):
    response = export_client.post("/v1/sentiment", json={"input": "a film", "explain": True})
    assert response.status_code == 422 and "explain" in response.json()["error"]
    page = export_client.get("/").text
    assert all(
        f'<section id="{name}" hidden>' in page for name in ("sentiment", "translation", "speech", "lm")
    )
