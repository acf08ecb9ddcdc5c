"""The tutorial (docs/tutorial/): every block of it runs and prints what it shows; the Chinese and
English versions hold the same blocks; and the runner itself fails when it should."""

import re
from pathlib import Path

import pytest

from rnnlab import tutorial
from rnnlab.datasets import imdb

ROOT = Path(__file__).resolve().parents[1]
TUTORIALS = [ROOT / "docs" / "tutorial" / "en.md", ROOT / "docs" / "tutorial" / "zh.md"]


def fences(path):
    return [m.group(0) for m in tutorial.FENCE.finditer(path.read_text(encoding="utf-8"))]


def test_both_languages_hold_the_same_blocks_in_the_same_order():
    english, chinese = (fences(path) for path in TUTORIALS)
    assert len(english) >= 30
    assert english == chinese


@pytest.mark.parametrize("path", TUTORIALS, ids=["en", "zh"])
def test_links_and_images_point_at_files(path):
    assert tutorial.check_links(path) == []
    images = re.findall(r"!\[[^\]]*\]\(([^)]+)\)", path.read_text(encoding="utf-8"))
    assert len(images) >= 4


def test_the_readme_links_both_tutorials():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert "docs/tutorial/en.md" in readme and "docs/tutorial/zh.md" in readme


def test_every_block_of_the_tutorial_runs_and_prints_what_it_shows(real_imdb, real_tinyshakespeare, tmp_path):
    # zh.md holds the same blocks (checked above), so running en.md runs every block of both.
    # The output blocks show a second run: prepare the IMDb cache first (a fresh cache prints
    # "Preparing IMDb ... once" before the first block's output).
    imdb.get_word_index()
    assert tutorial.run(TUTORIALS[0], workdir=tmp_path, log=lambda _: None) >= 15
    assert (tmp_path / "runs" / "article" / "model.keras").exists()
    assert (tmp_path / "states" / "states-sentiment.png").exists()


@pytest.mark.parametrize(
    ("expected", "actual", "fits"),
    [
        ("a\n...\nc", "a\nb\nb\nc", True),
        ("a\n...\nc", "a\nc", True),
        ("a\nc", "a\nb\nc", False),
        ("accuracy ...% (n=...)", "accuracy 78.3% (n=25000)", True),
        ("accuracy ...%", "loss 0.3", False),
        ("x = 1", "x = 1  \n\n", True),
        ("x = 1", "x = 2", False),
    ],
)
def test_output_matching(expected, actual, fits):
    assert tutorial.matches(expected, actual) is fits


def test_parse_attaches_output_blocks_and_refuses_stray_ones():
    text = "```python\nprint(1)\n```\n\n```output\n1\n```\n\n```console\n$ rnnlab --help\n```\n"
    blocks = tutorial.parse(text)
    assert [b.kind for b in blocks] == ["python", "console"]
    assert blocks[0].output.code == "1\n" and blocks[1].output is None
    with pytest.raises(tutorial.TutorialError, match="must follow a python or console block"):
        tutorial.parse("text\n\n```output\n1\n```\n")
    with pytest.raises(tutorial.TutorialError, match="text between"):
        tutorial.parse("```python\nprint(1)\n```\nsome words\n```output\n1\n```\n")


def test_console_blocks_run_only_rnnlab():
    assert tutorial.commands("$ rnnlab train lm \\\n    --epochs 1\n") == [["train", "lm", "--epochs", "1"]]
    with pytest.raises(tutorial.TutorialError, match="start with `\\$ rnnlab`"):
        tutorial.commands("$ rm -rf /\n")


@pytest.fixture
def checkout(tmp_path):
    """A folder shaped like a checkout: pyproject.toml, results/, recipes/ and a doc."""
    for name in ("results", "recipes", "docs"):
        (tmp_path / name).mkdir()
    (tmp_path / "pyproject.toml").write_text("[project]\nname = 'x'\n")
    (tmp_path / "results" / "r.txt").write_text("recorded 42\n")
    return tmp_path


def test_a_wrong_output_fails_and_update_rewrites_it(checkout):
    doc = checkout / "docs" / "t.md"
    doc.write_text("```python\nprint(open('results/r.txt').read())\n```\n\n```output\nrecorded 41\n```\n")
    with pytest.raises(tutorial.TutorialError, match="printed something else"):
        tutorial.run(doc, log=lambda _: None)
    tutorial.run(doc, update=True, log=lambda _: None)
    assert "recorded 42" in doc.read_text()
    assert tutorial.run(doc, log=lambda _: None) == 1


def test_a_failing_block_says_where(checkout):
    doc = checkout / "docs" / "t.md"
    doc.write_text("# t\n\n```python\nx = 1\n```\n\n```python\n1 / 0\n```\n")
    with pytest.raises(tutorial.TutorialError, match="line 7: ZeroDivisionError"):
        tutorial.run(doc, log=lambda _: None)
    doc.write_text("```console\n$ rnnlab evaluate no-such-run\n```\n")
    with pytest.raises(tutorial.TutorialError, match="exited with 2"):
        tutorial.run(doc, log=lambda _: None)
    assert tutorial.main([str(doc)]) == 1


def test_missing_link_is_reported(checkout, capsys):
    doc = checkout / "docs" / "t.md"
    doc.write_text("![plot](../results/missing.png) [ok](../results/r.txt) [web](https://example.org)\n")
    assert tutorial.check_links(doc) == ["../results/missing.png"]
    assert tutorial.main([str(doc)]) == 1
    assert "missing.png" in capsys.readouterr().err
