"""The HTTP API (`rnnlab serve`): answers equal the Predictors', and every error has its status."""

import asyncio
import io
import json
import logging
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("fastapi")

from fastapi.testclient import TestClient  # noqa: E402

from rnnlab.serve import Limits, create_app  # noqa: E402
from rnnlab.serve.app import SECTIONS, demo_page, is_loopback, serve  # noqa: E402

REVIEWS = ["A wonderful film with a moving story.", "Boring, badly acted and far too long.", "电影很好看"]


def _wav(seconds, rate=8000):
    import soundfile

    samples = 0.1 * np.sin(np.arange(int(seconds * rate)) * 0.3).astype(np.float32)
    buffer = io.BytesIO()
    soundfile.write(buffer, samples, rate, format="WAV", subtype="PCM_16")
    return buffer.getvalue()


def test_health_and_models_list_every_task(client):
    assert client.get("/health").json() == {
        "status": "ok",
        "tasks": ["lm", "sentiment", "speech", "translation"],
    }
    models = client.get("/v1/models").json()
    endpoints = {m["task"]: m["endpoint"] for m in models["models"]}
    assert endpoints == {name: f"/v1/{name}" for name in ("sentiment", "translation", "speech", "lm")}
    assert models["limits"]["max_input_chars"] == Limits().max_input_chars
    paths = client.get("/openapi.json").json()["paths"]
    assert {"/v1/sentiment", "/v1/translation", "/v1/speech", "/v1/lm", "/health"} <= set(paths)
    schema = client.get("/openapi.json").json()["components"]["schemas"]
    assert set(schema["TranslationRequest"]["properties"]) == {
        "input",
        "beam_size",
    }  # the predictor's options
    # no page that would load Swagger's or ReDoc's scripts from a CDN
    assert client.get("/docs").status_code == 404 and client.get("/redoc").status_code == 404


def test_page_is_served_with_every_section(client):
    page = client.get("/")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    for section in ('id="sentiment"', 'id="translation"', 'id="speech"', 'id="lm"'):
        assert section in page.text


def test_sentiment_equals_the_predictor(client, predictors):
    expected = predictors["sentiment"].classify(REVIEWS)
    for text, want in zip(REVIEWS, expected, strict=True):
        got = client.post("/v1/sentiment", json={"input": text}).json()
        assert got["label"] == want.label and got["known_words"] == want.known_words
        assert got["probability"] == pytest.approx(want.probability, abs=1e-6)
        assert "tokens" not in got


def test_sentiment_explanation_equals_occlusion(client, predictors):
    want = predictors["sentiment"].explain([REVIEWS[0]])[0]
    got = client.post("/v1/sentiment", json={"input": REVIEWS[0], "explain": True}).json()
    assert got["tokens"] == list(want.tokens)
    np.testing.assert_allclose(got["contributions"], want.contributions, atol=1e-6)


def test_concurrent_sentiment_requests_are_batched_with_the_same_answers(app, predictors):
    import httpx

    texts = [f"{REVIEWS[i % 2]} {'really ' * (i % 7)}" for i in range(48)]
    expected = [p.probability for p in predictors["sentiment"].classify(texts)]
    batcher = app.state.batchers["sentiment"]

    async def run():
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as http:
            replies = await asyncio.gather(*(http.post("/v1/sentiment", json={"input": t}) for t in texts))
        return [r.json()["probability"] for r in replies]

    before = len(batcher.batch_sizes)
    got = asyncio.run(run())
    np.testing.assert_allclose(got, expected, atol=1e-6)
    sizes = list(batcher.batch_sizes)[before:]
    assert sum(sizes) == len(texts) and max(sizes) > 1


def test_translation_equals_the_predictor_with_attention(client, predictors):
    sentence = "Ein Mann fährt Fahrrad."
    want = predictors["translation"].translate([sentence], beam_size=2)[0]
    got = client.post("/v1/translation", json={"input": sentence, "beam_size": 2}).json()
    assert got["translation"] == want.text and got["target_tokens"] == list(want.target_tokens)
    assert got["source_tokens"] == list(want.source_tokens)
    if want.attention is not None and len(want.target_tokens):
        assert np.asarray(got["attention"]).shape == np.asarray(want.attention).shape
        np.testing.assert_allclose(got["attention"], want.attention, atol=1e-4)


def test_transcription_of_an_upload_and_of_a_raw_wav_equal_the_predictor(client, predictors, fsdd_wavs):
    path = Path(fsdd_wavs[0])
    want = predictors["speech"].transcribe([str(path)])[0]
    uploaded = client.post("/v1/speech", files={"file": ("../../etc/passwd", path.read_bytes())}).json()
    raw = client.post("/v1/speech", content=path.read_bytes(), headers={"content-type": "audio/wav"}).json()
    for got in (uploaded, raw):
        assert got["text"] == want.text
        assert got["probability"] == pytest.approx(want.probability, abs=1e-6)
        assert got["duration_s"] == pytest.approx(len(want.audio) / 8000, abs=1e-3)


def test_generation_with_a_seed_equals_the_predictor(client, predictors):
    want = predictors["lm"].generate("this movie", length=20, temperature=0.8, seed=3)
    request = {"input": "this movie", "length": 20, "temperature": 0.8, "seed": 3}
    assert client.post("/v1/lm", json=request).json()["text"] == want


@pytest.mark.parametrize(
    "path, body, fragment",
    [
        ("/v1/sentiment", {"input": "x" * 20_001}, "at most 20000 characters"),
        ("/v1/sentiment", {"txt": "a film"}, "input: Field required"),
        ("/v1/sentiment", {"input": 3}, "input: Input should be a valid string"),
        ("/v1/sentiment", ["a film"], "valid dictionary"),
        ("/v1/sentiment", {"input": ""}, "at least 1 character"),
        ("/v1/sentiment", {"input": " \n\t"}, "should match pattern"),
        ("/v1/sentiment", {"input": "a film", "explain": "yes"}, "explain: Input should be a valid boolean"),
        ("/v1/lm", {"input": "a", "length": "30"}, "length: Input should be a valid integer"),
        ("/v1/translation", {"input": ""}, "at least 1 character"),
        ("/v1/translation", {"input": "ein Hund", "beam_size": 17}, "less than or equal to 16"),
        ("/v1/lm", {"input": "a", "length": 1001}, "less than or equal to 1000"),
        ("/v1/lm", {"input": "a", "temperature": 0}, "greater than 0"),
        ("/v1/lm", {"input": "a", "seed": -1}, "greater than or equal to 0"),
    ],
)
def test_out_of_range_values_are_422_with_what_is_expected(client, path, body, fragment):
    reply = client.post(path, json=body)
    assert reply.status_code == 422
    assert fragment in reply.json()["error"]


def test_invalid_json_is_422(client):
    reply = client.post("/v1/sentiment", content=b'{"input": ', headers={"content-type": "application/json"})
    assert reply.status_code == 422 and "invalid JSON at character" in reply.json()["error"]


@pytest.mark.parametrize("path", ["/v1/sentiment", "/v1/translation", "/v1/lm"])
def test_a_body_that_is_not_declared_json_is_415(client, path):
    reply = client.post(path, content=b'{"input": "a"}', headers={"content-type": "text/plain"})
    assert reply.status_code == 415
    assert reply.json()["error"] == "Expected Content-Type: application/json. Received: text/plain"


def test_transcription_errors(client):
    form = client.post("/v1/speech", files={"other": ("a.wav", _wav(1))})
    assert form.status_code == 422 and "form field 'file'" in form.json()["error"]
    wrong_type = client.post("/v1/speech", content=_wav(1), headers={"content-type": "text/plain"})
    assert wrong_type.status_code == 415
    not_audio = client.post("/v1/speech", files={"file": ("a.wav", b"RIFF....not a wav at all")})
    assert not_audio.status_code == 422 and "the audio" in not_audio.json()["error"]
    empty = client.post("/v1/speech", content=b"", headers={"content-type": "audio/wav"})
    assert empty.status_code == 422 and "empty" in empty.json()["error"]
    too_long = client.post("/v1/speech", files={"file": ("long.wav", _wav(11))})  # digits: 10 s
    assert too_long.status_code == 422 and "at most 10 s" in too_long.json()["error"]
    options = {"content": _wav(1), "headers": {"content-type": "audio/wav"}}
    zero_beam = client.post(
        "/v1/speech?beam_size=0", **options
    )  # the predictor's options, as query parameters
    assert zero_beam.status_code == 422 and "beam_size" in zero_beam.json()["error"]
    digits_beam = client.post("/v1/speech?beam_size=4", **options)  # a digits run has no beam search
    assert digits_beam.status_code == 422 and "this run classifies digits" in digits_beam.json()["error"]


def test_the_page_is_made_of_the_served_tasks_sections_in_order():
    from rnnlab.tasks import get_task
    from rnnlab.tasks.base import Task

    class Pageless(Task):
        name = "pageless"

    page = demo_page([get_task("lm"), Pageless(), get_task("sentiment")])
    assert page.index('<section id="lm" hidden>') < page.index('<section id="sentiment" hidden>')
    assert 'id="generate-submit"' in page and 'id="sentiment-words"' in page
    assert 'id="speech"' not in page and 'id="translation"' not in page and "pageless" not in page
    assert SECTIONS not in page and page.count("<section") == 2
    assert page.index("function guard(") < page.index("<section")  # the sections' scripts call it


def test_a_served_run_gets_its_section_and_no_other(predictors):
    with TestClient(create_app([predictors["sentiment"]])) as client:
        page = client.get("/").text
    assert '<section id="sentiment" hidden>' in page and 'id="sentiment-submit"' in page
    assert 'id="speech"' not in page and "/v1/speech" not in page and "/v1/translation" not in page


def test_bodies_over_the_cap_are_413_declared_or_chunked(predictors):
    app = create_app([predictors["sentiment"]], limits=Limits(max_body_bytes=1000))
    with TestClient(app) as client:
        body = json.dumps({"input": "a" * 2000}).encode()
        declared = client.post("/v1/sentiment", content=body, headers={"content-type": "application/json"})
        assert declared.status_code == 413
        assert declared.json()["error"] == (
            f"request body too large: {len(body)} bytes. Expected at most 1000 bytes."
        )
        chunked = client.post(
            "/v1/sentiment",
            content=iter([b'{"input": "', b"a" * 1500, b'"}']),
            headers={"content-type": "application/json"},
        )
        assert chunked.status_code == 413
        small = client.post(
            "/v1/sentiment",
            content=iter([b'{"input": ', b'"a film"}']),
            headers={"content-type": "application/json"},
        )
        assert small.status_code == 200 and small.json()["label"] in ("positive", "negative")


def test_a_model_failure_is_500_with_an_id_and_no_traceback(predictors, monkeypatch, caplog):
    app = create_app([predictors["translation"]])

    def broken(*args, **kwargs):  # a bug's ValueError is a server failure too, not the client's
        raise ValueError("secret internal detail")

    monkeypatch.setattr(predictors["translation"], "translate", broken)
    with TestClient(app, raise_server_exceptions=False) as client, caplog.at_level(logging.ERROR):
        reply = client.post("/v1/translation", json={"input": "ein Hund"})
    assert reply.status_code == 500
    body = reply.json()
    assert body["error"] == "internal error" and len(body["id"]) == 12
    assert "secret" not in reply.text and "Traceback" not in reply.text
    assert any(body["id"] in record.getMessage() for record in caplog.records)


def test_the_token_is_checked_on_every_request(predictors):
    app = create_app([predictors["sentiment"]], token="s3cret")
    with TestClient(app) as client:
        for path in ("/", "/health", "/v1/models", "/openapi.json"):
            assert client.get(path).status_code == 401
        assert client.get("/health", headers={"Authorization": "Bearer wrong"}).status_code == 401
        assert client.get("/health", headers={"Authorization": "Bearer s3cret"}).status_code == 200
        assert client.get("/?token=s3cret").status_code == 200
        assert client.get("/health?token=s3cret").status_code == 401  # the query form is for the page only
        refused = client.post("/v1/sentiment", json={"input": "a film"})
        assert refused.status_code == 401 and "token" in refused.json()["error"]
        ok = client.post(
            "/v1/sentiment", json={"input": "a film"}, headers={"Authorization": "Bearer s3cret"}
        )
        assert ok.status_code == 200


def test_binding_beyond_loopback_needs_a_token(monkeypatch):
    monkeypatch.delenv("RNNLAB_TOKEN", raising=False)
    assert is_loopback("127.0.0.1") and is_loopback("::1") and is_loopback("localhost")
    assert not is_loopback("0.0.0.0") and not is_loopback("192.168.1.2") and not is_loopback("example.org")
    with pytest.raises(ValueError, match="Binding to 0.0.0.0 exposes the models.*--token"):
        serve(["no-such-run"], host="0.0.0.0")


def test_the_cli_refuses_a_public_host_without_a_token(monkeypatch, capsys):
    from rnnlab.cli import main

    monkeypatch.delenv("RNNLAB_TOKEN", raising=False)
    assert main(["serve", "runs/x", "--host", "0.0.0.0"]) == 2
    assert "Expected an access token" in capsys.readouterr().err


def test_runs_to_serve_are_checked(predictors, tmp_path):
    with pytest.raises(ValueError, match="at most one run per task. Received two 'sentiment' runs"):
        create_app([predictors["sentiment"], predictors["sentiment"]])
    with pytest.raises(ValueError, match="at least one run folder"):
        create_app([])
    with pytest.raises(ValueError):
        create_app([tmp_path])  # not a run folder


def test_head_requests_and_trusted_hosts(predictors):
    app = create_app([predictors["sentiment"]], allowed_hosts=["127.0.0.1", "localhost"])
    with TestClient(app, base_url="http://127.0.0.1") as client:
        assert client.head("/health").status_code == 200 and client.head("/").status_code == 200
        assert client.get("/health").json()["tasks"] == ["sentiment"]
        rebound = client.get("/health", headers={"host": "attacker.example"})  # DNS rebinding
        assert rebound.status_code == 400
        assert rebound.json()["error"].startswith("invalid Host header 'attacker.example'")


def test_the_batcher_fails_every_request_of_a_broken_call_and_recovers():
    from rnnlab.serve.batching import MicroBatcher

    async def direct(function, *args):
        return function(*args)

    calls = []

    def function(items):
        calls.append(list(items))
        if "bad" in items:
            return items[:-1]  # one result short: a bug
        return [item.upper() for item in items]

    async def run():
        batcher = MicroBatcher(function, direct, max_batch=8)
        broken = await asyncio.gather(*(batcher.submit(x) for x in ["a", "bad", "c"]), return_exceptions=True)
        fine = await asyncio.gather(*(batcher.submit(x) for x in ["d", "e"]))
        return broken, fine

    broken, fine = asyncio.run(run())
    assert all(isinstance(b, RuntimeError) and "3 items gave 2 results" in str(b) for b in broken)
    assert fine == ["D", "E"] and calls[-1] == ["d", "e"]


def test_padding_for_few_compiled_shapes_changes_no_answer(predictors, fsdd_wavs, monkeypatch):
    import keras

    from rnnlab.tasks.base import predict_padded
    from rnnlab.tasks.speech import task as speech
    from rnnlab.tasks.translation import records as translation_records

    sentiment = predictors["sentiment"]
    x = sentiment.preprocessor(REVIEWS + REVIEWS[:2])  # 5 rows: padded to 8
    want = np.asarray(keras.ops.convert_to_numpy(sentiment.model(x, training=False)))
    np.testing.assert_allclose(predict_padded(sentiment.model, x, chunk=4), want, atol=1e-6)

    sentences = ["Ein Mann fährt Fahrrad.", "Zwei Hunde spielen im Schnee auf einer Wiese."]
    padded = predictors["translation"].translate(sentences, beam_size=2)
    heard = predictors["speech"].transcribe(fsdd_wavs)
    monkeypatch.setattr(translation_records, "padded_source_length", lambda steps: steps)
    monkeypatch.setattr(speech, "padded_frames", lambda steps: steps)
    exact = predictors["translation"].translate(sentences, beam_size=2)
    for a, b in zip(padded, exact, strict=True):
        assert a.text == b.text
        if b.attention is not None:
            np.testing.assert_allclose(a.attention, b.attention, atol=1e-5)
    for a, b in zip(heard, predictors["speech"].transcribe(fsdd_wavs), strict=True):
        assert a.text == b.text
        np.testing.assert_allclose(a.probabilities, b.probabilities, atol=1e-5)
