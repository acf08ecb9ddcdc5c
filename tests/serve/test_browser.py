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
