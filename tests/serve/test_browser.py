"""The demo page in a real browser: Playwright driving headless Chromium (Debian's package)
against `rnnlab serve`'s app on a loopback port. Saves a screenshot in `test-artifacts/`
(or `$RNNLAB_TEST_ARTIFACTS`)."""

import os
import shutil
from pathlib import Path

import pytest

from helpers import free_port, running

pytest.importorskip("fastapi")
uvicorn = pytest.importorskip("uvicorn")

# Chromium on a machine with a closed network: no sandbox (containers), no GPU, no background traffic.
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


def _chromium():
    sync_api = pytest.importorskip("playwright.sync_api", reason="the playwright wheel is not installed")
    for name in ("chromium", "chromium-browser"):
        path = shutil.which(name)
        if path:
            return sync_api, path
    pytest.skip("no Chromium found (install Debian's package: apt-get install chromium); .ci/run installs it")


@pytest.fixture
def server(app):
    port = free_port()
    with running(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning")):
        yield f"http://127.0.0.1:{port}"


def test_the_page_classifies_translates_transcribes_and_generates(server, predictors, fsdd_wavs, tmp_path):
    sync_api, chromium = _chromium()
    review = "A wonderful film with a moving story and great acting."
    verdict = predictors["sentiment"].classify([review])[0]
    translation = predictors["translation"].translate(["Ein Mann fährt Fahrrad."])[0]
    digit = predictors["speech"].transcribe([fsdd_wavs[0]])[0]
    artifacts = Path(os.environ.get("RNNLAB_TEST_ARTIFACTS", Path(__file__).parents[2] / "test-artifacts"))
    artifacts.mkdir(parents=True, exist_ok=True)

    with sync_api.sync_playwright() as playwright:
        context = playwright.chromium.launch_persistent_context(
            str(tmp_path / "profile"),  # an empty user-data dir
            executable_path=chromium,
            headless=True,
            args=CHROMIUM_FLAGS,
            viewport={"width": 1000, "height": 1400},
        )
        try:
            page = context.new_page()
            page.goto(server + "/")
            page.wait_for_selector("body[data-ready=true]", timeout=30_000)

            page.fill("#sentiment-text", review)
            page.click("#sentiment-submit")
            page.wait_for_function("document.querySelector('#sentiment-result').textContent.length > 0")
            shown = page.text_content("#sentiment-result")
            assert shown.startswith(verdict.label) and f"{verdict.probability:.3f}" in shown
            assert page.locator("#sentiment-words span").count() == len(
                predictors["sentiment"].explain([review])[0].tokens
            )

            page.click("#translate-submit")
            page.wait_for_function("document.querySelector('#translate-result').textContent.length > 0")
            assert page.text_content("#translate-result") == translation.text
            if translation.attention is not None and len(translation.target_tokens):
                cells = page.locator("#translate-attention td").count()
                assert cells == len(translation.target_tokens) * len(translation.source_tokens)

            page.set_input_files("#transcribe-file", fsdd_wavs[0])
            page.click("#transcribe-submit")
            page.wait_for_function("document.querySelector('#transcribe-result').textContent.length > 0")
            assert page.text_content("#transcribe-result").startswith(digit.text + " (P = ")

            page.fill("#generate-length", "15")
            page.click("#generate-submit")
            page.wait_for_function("document.querySelector('#generate-result').textContent.length > 0")
            expected = predictors["lm"].generate("This movie was", length=15, temperature=0.8, seed=1)
            assert page.text_content("#generate-result") == "This movie was" + expected

            page.fill("#translate-text", "")
            page.click("#translate-submit")
            page.wait_for_function("document.querySelector('#translate-error').textContent.length > 0")
            assert "at least 1 character" in page.text_content("#translate-error")

            page.screenshot(path=str(artifacts / "serve-page.png"), full_page=True)
        finally:
            context.close()
    assert (artifacts / "serve-page.png").stat().st_size > 10_000


PLAYBACK = """async () => {
  const response = await fetch(document.querySelector('#transcribe-playback').src);
  const data = new Uint8Array(await response.arrayBuffer());
  let text = '';
  for (let i = 0; i < data.length; i += 8192) text += String.fromCharCode(...data.subarray(i, i + 8192));
  return btoa(text);
}"""  # the WAV the page recorded (and sent), as base64


def test_the_microphone_box_transcribes_what_the_microphone_heard(server, predictors, fsdd_wavs, tmp_path):
    """Chromium's fake microphone plays a dataset recording (looped); the page records 2 s, the
    server transcribes it, and the page shows the transcript of exactly the audio it recorded (its
    playback), with a plot of the posteriors."""
    import base64

    import librosa
    import soundfile

    sync_api, chromium = _chromium()
    audio, rate = soundfile.read(fsdd_wavs[0], dtype="float32")
    microphone = tmp_path / "microphone.wav"  # 16-bit PCM at 48 kHz, what a sound card gives
    soundfile.write(
        microphone, librosa.resample(audio, orig_sr=rate, target_sr=48_000), 48_000, subtype="PCM_16"
    )
    flags = [*CHROMIUM_FLAGS, "--use-fake-ui-for-media-stream", "--use-fake-device-for-media-stream",
             f"--use-file-for-fake-audio-capture={microphone}"]  # fmt: skip
    with sync_api.sync_playwright() as playwright:
        context = playwright.chromium.launch_persistent_context(
            str(tmp_path / "profile"), executable_path=chromium, headless=True, args=flags
        )
        try:
            context.grant_permissions(["microphone"], origin=server)
            page = context.new_page()
            page.goto(server + "/")
            page.wait_for_selector("body[data-ready=true]", timeout=30_000)
            page.click("#transcribe-record")
            page.wait_for_function(
                "document.querySelector('#transcribe-result').textContent.includes(' s')", timeout=30_000
            )
            shown = page.text_content("#transcribe-result")
            recorded = base64.b64decode(page.evaluate(PLAYBACK))
            heard = predictors["speech"].predict([recorded])[0]
            assert shown.startswith(heard["text"] + " (P = ") and 1.8 <= heard["duration_s"] <= 2.3
            assert page.locator("#transcribe-plot rect").count() == len(heard["labels"]) == 10
            assert page.locator("#transcribe-error").text_content() == ""
        finally:
            context.close()
