"""One-file runs (`rnnlab pack`): a run or an export as a `.rnnlab` zip that `predict`, `evaluate`,
`export` and `serve` read from a path or an http(s) URL with `--sha256`; damaged, tampered or
unexpected files are one-line errors and never unpacked."""

import hashlib
import json
import shutil
import zipfile

import pytest

from rnnlab import packs
from rnnlab.cli import main

SMALL = "--epochs 1 --units 8 --embedding-dim 8 --max-features 60 --maxlen 20".split()


@pytest.fixture(scope="module")
def packed(tmp_path_factory):
    """A small three-label run, its export, and both packed."""
    folder = tmp_path_factory.mktemp("packs")
    data = folder / "reviews.csv"
    rows = [f"{w} film {i},{label}" for i in range(20)
            for w, label in (("great", "good"), ("plain", "meh"), ("awful", "bad"))]  # fmt: skip
    data.write_text("text,label\n" + "\n".join(rows) + "\n", encoding="utf-8")
    run, export = folder / "run", folder / "export"
    assert main(["train", "sentiment", *SMALL, "--data", str(data), "--output", str(run)]) == 0
    assert main(["export", str(run), "--output", str(export)]) == 0
    assert main(["pack", str(run), "--output", str(folder / "run.rnnlab")]) == 0
    assert main(["pack", str(export), "--output", str(folder / "export.rnnlab")]) == 0
    return folder


def _sha256(path):
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _predictions(capsys, *target):
    capsys.readouterr()
    assert main(["predict", *target, "a great film", "an awful film", "--json"]) == 0
    return [json.loads(line) for line in capsys.readouterr().out.splitlines()]


def test_a_pack_predicts_and_evaluates_as_its_folder(packed, cache, capsys):
    expected = _predictions(capsys, str(packed / "run"))
    assert _predictions(capsys, str(packed / "run.rnnlab")) == expected
    exported = _predictions(capsys, str(packed / "export.rnnlab"))
    assert [r["label"] for r in exported] == [r["label"] for r in expected]
    with zipfile.ZipFile(packed / "run.rnnlab") as archive:
        assert sorted(archive.namelist()) == sorted(["pack.json", *packs.RUN_FILES])
    assert main(["evaluate", str(packed / "run.rnnlab")]) == 0
    unpacked = cache / "packs" / _sha256(packed / "run.rnnlab")  # the run's unpacking, by its sha256
    assert json.loads((unpacked / "evaluation.json").read_text())["test_accuracy"] == pytest.approx(
        json.loads((packed / "run" / "metrics.json").read_text())["test_accuracy"], abs=1e-6
    )
    assert main(["export", str(packed / "run.rnnlab"), "--output", str(cache / "again")]) == 0


def test_a_url_needs_its_sha256_and_downloads_once(packed, cache, http_server, capsys):
    served, url = http_server
    shutil.copy(packed / "run.rnnlab", served / "model.rnnlab")
    sha256 = _sha256(packed / "run.rnnlab")
    capsys.readouterr()
    assert main(["predict", f"{url}/model.rnnlab", "a great film"]) == 2
    assert "a URL needs --sha256 HEX" in capsys.readouterr().err
    assert main(["predict", f"{url}/model.rnnlab", "--sha256", "0" * 64, "a great film"]) == 2
    assert "Checksum mismatch" in capsys.readouterr().err
    assert not list((cache / "packs").glob("*.rnnlab")) if (cache / "packs").exists() else True
    expected = _predictions(capsys, str(packed / "run"))
    assert _predictions(capsys, f"{url}/model.rnnlab", "--sha256", sha256) == expected
    (served / "model.rnnlab").unlink()  # cached: no second download
    assert _predictions(capsys, f"{url}/model.rnnlab", f"--sha256={sha256}") == expected


def test_damaged_tampered_and_foreign_files_are_refused(packed, tmp_path, capsys):
    truncated = tmp_path / "truncated.rnnlab"
    truncated.write_bytes((packed / "run.rnnlab").read_bytes()[:-200])
    capsys.readouterr()
    assert main(["predict", str(truncated), "good"]) == 2
    assert "truncated, damaged or another kind of file" in capsys.readouterr().err
    tampered = tmp_path / "tampered.rnnlab"
    with zipfile.ZipFile(packed / "run.rnnlab") as source, zipfile.ZipFile(tampered, "w") as target:
        for name in source.namelist():
            data = source.read(name)
            target.writestr(
                name, data.replace(b'"maxlen": 20', b'"maxlen": 21') if name == "preprocessor.json" else data
            )
    assert main(["predict", str(tampered), "good"]) == 2
    assert "the member preprocessor.json is not the file that was packed" in capsys.readouterr().err
    evil = tmp_path / "evil.rnnlab"
    with zipfile.ZipFile(evil, "w") as archive:
        archive.writestr("pack.json", json.dumps({"rnnlab_pack": 1, "files": {"../escape.txt": "0" * 64}}))
        archive.writestr("../escape.txt", "x")
    assert main(["predict", str(evil), "good"]) == 2
    assert "expected paths inside the folder only" in capsys.readouterr().err
    assert not (tmp_path.parent / "escape.txt").exists()
    mine = tmp_path / "mine.rnnlab"
    mine.write_text("my notes")
    for extra in ([], ["--overwrite"]):
        assert main(["pack", str(packed / "run"), "--output", str(mine), *extra]) == 2
        assert mine.read_text() == "my notes"
    assert main(["pack", str(packed / "run"), "--output", str(tmp_path / "run.zip")]) == 2
    assert "Expected --output to end with .rnnlab" in capsys.readouterr().err
    assert main(["predict", str(tmp_path / "missing.rnnlab"), "good"]) == 2
    assert "missing.rnnlab is" in capsys.readouterr().err
