"""Long runs on the real IMDb (run with `pytest -m slow`): the article's model
reaches its recorded accuracy, and training killed at random moments resumes to
the uninterrupted weights."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

from rnnlab.cli import main

ROOT = Path(__file__).resolve().parents[3]


@pytest.mark.slow
def test_article_run_reproduces_its_record(real_imdb, tmp_path):
    record = json.loads((ROOT / "results" / "sentiment" / "article-simple.json").read_text())
    run = tmp_path / "article"
    assert main(["train", "sentiment", "--cell", "simple", "--output", str(run)]) == 0
    metrics = json.loads((run / "metrics.json").read_text())
    # Same seed, same data order and kernels: the recorded numbers, up to float32 rounding across machines.
    assert metrics["test_accuracy"] == pytest.approx(record["test_accuracy"], abs=0.01)
    assert metrics["best_val_accuracy"] == pytest.approx(record["best_val_accuracy"], abs=0.01)
    assert metrics["test_accuracy"] > 0.74  # far above chance (0.5) on 25,000 reviews


@pytest.mark.slow
def test_random_kills_resume_to_the_same_weights(real_imdb, tmp_path):
    output = tmp_path / "kill-resume.json"
    done = subprocess.run(
        [
            sys.executable,
            str(ROOT / "benchmarks" / "kill_resume.py"),
            "--trials",
            "3",
            "--output",
            str(output),
        ],
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    record = json.loads(output.read_text())
    assert record["num_bitwise_equal"] == record["num_trials"] == 3
