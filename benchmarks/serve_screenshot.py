"""A screenshot of `rnnlab serve`'s page with every loaded task used once (for the README).

Starts `rnnlab serve RUN_DIR ...` on a free loopback port, drives Debian's Chromium with
Playwright (the flags the browser test uses), fills each section, and saves a full-page PNG.

Usage:
    python benchmarks/serve_screenshot.py runs/gru-fast runs/de-en-luong-3ep runs/imdb-lm \
        --wav 7_theo_1.wav --output results/serve/page.png
"""

import argparse
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from serve_load import free_port, wait_until_up  # noqa: E402

FLAGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--no-first-run",
]  # fmt: skip
REVIEW = (
    "The story drags in the middle, but the acting is wonderful and the ending moved me. "
    "One of the best films I have seen this year."
)


def click_and_wait(page, button, result):
    page.click(f"#{button}")
    page.wait_for_function(f"document.querySelector('#{result}').textContent.length > 0")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("runs", nargs="+", metavar="RUN_DIR")
    parser.add_argument("--wav", default=None, help="a WAV file for the speech section")
    parser.add_argument("--output", default="results/serve/page.png")
    args = parser.parse_args(argv)
    from playwright.sync_api import sync_playwright

    port = free_port()
    url = f"http://127.0.0.1:{port}"
    server = subprocess.Popen(
        [sys.executable, "-m", "rnnlab", "serve", *args.runs, "--port", str(port)],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        wait_until_up(url, server)
        with sync_playwright() as playwright, tempfile.TemporaryDirectory() as profile:
            context = playwright.chromium.launch_persistent_context(
                profile, executable_path=shutil.which("chromium"), headless=True, args=FLAGS,
                viewport={"width": 1000, "height": 1200},
            )  # fmt: skip
            page = context.new_page()
            page.goto(url)
            page.wait_for_selector("body[data-ready=true]")
            if not page.is_hidden("#sentiment"):
                page.fill("#sentiment-text", REVIEW)
                click_and_wait(page, "sentiment-submit", "sentiment-result")
            if not page.is_hidden("#translation"):
                click_and_wait(page, "translate-submit", "translate-result")
            if not page.is_hidden("#speech") and args.wav:
                page.set_input_files("#transcribe-file", args.wav)
                click_and_wait(page, "transcribe-submit", "transcribe-result")
            if not page.is_hidden("#lm"):
                page.fill("#generate-length", "60")
                click_and_wait(page, "generate-submit", "generate-result")
            Path(args.output).parent.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=args.output, full_page=True)
            context.close()
    finally:
        server.terminate()
        server.wait(timeout=30)
    print(f"Wrote {args.output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
