"""The docs site's parts: the generated results page, the link rewriting for `results/`, the
doctest sections of the API reference, and the README as a front page."""

import json
import re
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "docs"))
pytest.importorskip("mkdocs")

import griffe_examples  # noqa: E402
import hooks  # noqa: E402
import results_page  # noqa: E402


def test_the_results_page_lists_every_record_with_its_command_and_numbers(tmp_path):
    (tmp_path / "translation").mkdir()
    (tmp_path / "translation" / "run.json").write_text(json.dumps({
        "command": "rnnlab train translation --output runs/x", "git_commit": "0123456789abcdef-dirty",
        "backend": "jax", "machine": {"cpu": "AMD EPYC", "cpu_count": 2}, "wall_time_s": 1844.7,
        "test": {"bleu": 23.719, "loss": 3.1, "accuracy": 0.5},
    }))  # fmt: skip
    (tmp_path / "bench.json").write_text(json.dumps({"what": "a benchmark", "wall_time_s": 64.2}))
    page = results_page.render(tmp_path)
    row = "| [`run`](results/translation/run.json) | bleu 23.72, accuracy 50.00% | `0123456-dirty` | jax |"
    assert f"{row} AMD EPYC, 2 cores | 31 min |" in page
    assert "- **run**: `rnnlab train translation --output runs/x`" in page
    assert "- **bench**: a benchmark" in page and "| 64 s |" in page


def test_the_real_results_page_names_every_json_record():
    page = results_page.render(ROOT / "results")
    records = sorted((ROOT / "results").rglob("*.json"))
    assert len(records) > 50
    linked = re.findall(r"\]\(results/([^)]+\.json)\)", page)
    assert sorted(linked) == sorted(path.relative_to(ROOT / "results").as_posix() for path in records)


@pytest.mark.parametrize(
    ("target", "page_folder", "expected"),
    [
        ("../../results/lab/x.png", "tutorial", "../results/lab/x.png"),
        ("../../results", "tutorial", "../results.md"),
        ("../results/serve/page.png", "", "results/serve/page.png"),
        ("../../results/a.json#top", "guide", "../results/a.json#top"),
        ("../reliability.md", "guide", "../reliability.md"),  # inside docs/: unchanged
        ("../../src/rnnlab/cli.py", "guide", "../../src/rnnlab/cli.py"),  # outside: --strict fails on it
        ("https://example.org/results/x", "guide", "https://example.org/results/x"),
    ],
)
def test_links_into_results_are_rewritten_for_the_site(target, page_folder, expected):
    assert hooks._site_link(target, page_folder) == expected


def test_example_sections_become_indented_examples_sections():
    text = "Sums.\n\nArgs:\n    x: a list.\n\nExample:\n>>> sum([1, 2])\n3\n\n>>> 1\n1"
    assert griffe_examples.indent_examples(text) == (
        "Sums.\n\nArgs:\n    x: a list.\n\nExamples:\n    >>> sum([1, 2])\n    3\n\n    >>> 1\n    1"
    )
    assert griffe_examples.indent_examples("Example:\n>>> f()\nReturns:\n    y") == (
        "Examples:\n    >>> f()\nReturns:\n    y"
    )


def test_the_readme_is_a_front_page_whose_test_command_is_what_ci_runs():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert len(readme.splitlines()) <= 300
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    test_command = [line for line in readme.splitlines() if line.endswith(".venv/bin/python -m pytest")]
    assert len(test_command) == 1 and test_command[0] in ci
    for link in re.findall(r"\]\((docs/[^)#]+)", readme):
        assert (ROOT / link).is_file(), link
