"""Run folders: recognised by run.json, never replacing what rnnlab did not make,
and never left without a complete run by an interrupted swap."""

import json
import os

import pytest

from rnnlab import runs
from rnnlab.cli import main


def make_run(folder, finished="2026-01-01T00:00:00+00:00", marker="old"):
    folder.mkdir(parents=True)
    info = {"task": "sentiment", "status": "finished", "created": finished, "finished": finished}
    (folder / "run.json").write_text(json.dumps(info))
    (folder / "marker.txt").write_text(marker)
    return folder


@pytest.mark.parametrize("content", ["notes.txt", None])
def test_overwrite_refuses_a_folder_that_is_not_a_run(tmp_path, small_imdb, capsys, content):
    target = tmp_path / "mine"
    target.mkdir()
    if content:
        (target / content).write_text("precious")
    assert main(["train", "sentiment", "--limit", "20", "--output", str(target), "--overwrite"]) == 2
    assert "is not an rnnlab run folder" in capsys.readouterr().err
    assert sorted(p.name for p in target.iterdir()) == ([content] if content else [])
    assert not (tmp_path / "mine.partial").exists()


def test_overwrite_refuses_a_plain_file_and_a_path_under_one(tmp_path, small_imdb, capsys):
    plain = tmp_path / "file.txt"
    plain.write_text("precious")
    assert main(["train", "sentiment", "--limit", "20", "--output", str(plain), "--overwrite"]) == 2
    assert "is a file (or link), not a run folder" in capsys.readouterr().err
    assert main(["train", "sentiment", "--limit", "20", "--output", str(plain / "run")]) == 2
    assert "which is a file, not a folder" in capsys.readouterr().err
    assert plain.read_text() == "precious"


def test_output_that_is_or_contains_the_working_directory_is_refused(
    tmp_path, small_imdb, capsys, monkeypatch
):
    work = tmp_path / "project"
    work.mkdir()
    monkeypatch.chdir(work)
    for output in (".", str(tmp_path), "./"):
        assert main(["train", "sentiment", "--limit", "20", "--output", output, "--overwrite"]) == 2
        assert "is the working directory or contains it" in capsys.readouterr().err
    assert list(work.iterdir()) == []


def test_recover_restores_the_previous_run_when_killed_between_renames(tmp_path):
    output = tmp_path / "run"
    make_run(tmp_path / "run.old-1a2b", marker="previous")
    messages = []
    runs.recover(output, log=messages.append)
    assert (output / "marker.txt").read_text() == "previous"
    assert not (tmp_path / "run.old-1a2b").exists() and "restored" in messages[0]


def test_recover_finishes_an_interrupted_swap_with_the_newer_run(tmp_path):
    output = tmp_path / "run"
    make_run(tmp_path / "run.old-1a2b", marker="previous")  # moved aside, then killed
    make_run(tmp_path / "run.partial", finished="2026-02-01T00:00:00+00:00", marker="new")
    runs.recover(output, log=lambda _: None)
    # the previous run comes back first, then the newer finished run replaces it
    assert (output / "marker.txt").read_text() == "new"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["run"]


def test_recover_drops_an_older_finished_partial_left_by_an_exchange(tmp_path):
    output = make_run(tmp_path / "run", finished="2026-02-01T00:00:00+00:00", marker="new")
    make_run(tmp_path / "run.partial", marker="previous")  # what the exchange left behind
    runs.recover(output, log=lambda _: None)
    assert (output / "marker.txt").read_text() == "new"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["run"]


def test_recover_cleans_temporary_folders_of_earlier_versions_and_keeps_unrelated_ones(tmp_path):
    (tmp_path / "run.partial-x1y2").mkdir()
    (tmp_path / "run.partial-x1y2" / "model.keras").write_text("half")
    (tmp_path / "other.partial-zz").mkdir()
    messages = []
    runs.recover(tmp_path / "run", log=messages.append)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["other.partial-zz"]
    assert "removed" in messages[0]


@pytest.mark.parametrize("exchange", [True, False])
def test_swap_replaces_a_run_and_always_leaves_a_complete_one(tmp_path, monkeypatch, exchange):
    output = make_run(tmp_path / "run", marker="previous")
    new = make_run(tmp_path / "run.partial", finished="2026-03-01T00:00:00+00:00", marker="new")
    real_replace = os.replace
    calls = []

    def killed_after_first_rename(src, dst):
        calls.append((src, dst))
        real_replace(src, dst)
        if len(calls) == 1:
            raise KeyboardInterrupt  # killed between the renames

    monkeypatch.setattr(runs.os, "replace", killed_after_first_rename)
    with pytest.raises(KeyboardInterrupt):
        runs.swap_into_place(new, output, exchange=exchange)
    monkeypatch.setattr(runs.os, "replace", real_replace)
    if exchange:
        assert (output / "marker.txt").read_text() == "new"  # the exchange itself was atomic
    runs.recover(output, log=lambda _: None)
    assert (output / "marker.txt").read_text() == "new"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["run"]


def test_an_interrupted_run_needs_resume_or_overwrite(tmp_path):
    first = runs.RunWriter(tmp_path / "run", "sentiment", log=lambda _: None)
    first.close()  # as if the process had died
    with pytest.raises(runs.RunFolderError, match="interrupted run is at .*--resume.*--overwrite"):
        runs.RunWriter(tmp_path / "run", "sentiment", log=lambda _: None)
    resumed = runs.RunWriter(tmp_path / "run", "sentiment", resume=True, log=lambda _: None)
    assert resumed.resumed
    resumed.close()
    with pytest.raises(runs.RunFolderError, match="not 'speech'"):
        runs.RunWriter(tmp_path / "run", "speech", resume=True, log=lambda _: None)


def test_two_processes_never_write_the_same_run(tmp_path):
    first = runs.RunWriter(tmp_path / "run", "sentiment", log=lambda _: None)
    with pytest.raises(runs.RunFolderError, match="Another rnnlab process is writing"):
        runs.RunWriter(tmp_path / "run", "sentiment", resume=True, log=lambda _: None)
    first.finish()
    assert runs.open_run(tmp_path / "run")[1]["status"] == "finished"
    assert not (tmp_path / "run" / ".lock").exists()


@pytest.mark.parametrize(
    "content, message",
    [
        ("{not json", "is not valid JSON"),
        ("[1, 2]", "expected a JSON object with a 'task' name"),
        ('{"task": 3}', "expected a JSON object with a 'task' name"),
    ],
)
def test_a_damaged_run_json_is_a_clear_error(tmp_path, content, message, capsys):
    folder = tmp_path / "run"
    folder.mkdir()
    (folder / "run.json").write_text(content)
    with pytest.raises(runs.RunFolderError, match=message):
        runs.open_run(folder)
    assert main(["evaluate", str(folder)]) == 2
    assert message in capsys.readouterr().err


def test_an_unfinished_or_foreign_folder_is_not_a_run(tmp_path):
    (tmp_path / "empty").mkdir()
    with pytest.raises(runs.RunFolderError, match="is not an rnnlab run folder"):
        runs.open_run(tmp_path / "empty")
    writer = runs.RunWriter(tmp_path / "run", "sentiment", log=lambda _: None)
    with pytest.raises(runs.RunFolderError, match="An unfinished run is at .*run.partial"):
        runs.open_run(tmp_path / "run")
    with pytest.raises(runs.RunFolderError, match="unfinished run"):
        runs.open_run(writer.folder)
