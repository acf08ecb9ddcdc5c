"""Run folders: recognised by run.json, never replacing what rnnlab did not make,
and never left without a complete run by an interrupted swap."""

import json
import os
from pathlib import Path

import pytest

from rnnlab import runs
from rnnlab.cli import main


def make_run(folder, finished="2026-01-01T00:00:00+00:00", marker="old", replaces=None, status="finished"):
    """A run folder as rnnlab writes it: run.json with a run id, and only a run's files."""
    folder.mkdir(parents=True)
    info = {"task": "sentiment", "status": status, "run_id": runs.new_run_id(), "created": finished}
    if status == "finished":
        info["finished"] = finished
    if replaces:
        info["replaces"] = replaces
    (folder / "run.json").write_text(json.dumps(info))
    (folder / "metrics.json").write_text(json.dumps({"marker": marker}))
    return folder


def marker(folder):
    return json.loads((folder / "metrics.json").read_text())["marker"]


def run_id(folder):
    return json.loads((folder / "run.json").read_text())["run_id"]


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
    previous = make_run(tmp_path / "previous", marker="previous")
    aside = runs.aside_path(output, run_id(previous))
    previous.rename(aside)
    messages = []
    runs.recover(output, log=messages.append)
    assert marker(output) == "previous"
    assert not aside.exists() and "restored" in messages[0]


def test_recover_finishes_an_interrupted_swap_with_the_newer_run(tmp_path):
    output = tmp_path / "run"
    previous = make_run(tmp_path / "previous", marker="previous")
    previous_id = run_id(previous)
    previous.rename(runs.aside_path(output, previous_id))  # moved aside, then killed
    make_run(tmp_path / "run.partial", marker="new", replaces=previous_id)
    runs.recover(output, log=lambda _: None)
    assert marker(output) == "new"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["run"]


def test_recover_drops_the_previous_run_left_at_partial_by_an_exchange(tmp_path):
    previous = make_run(tmp_path / "run.partial", marker="previous")  # what the exchange left behind
    output = make_run(tmp_path / "run", marker="new", replaces=run_id(previous))
    runs.recover(output, log=lambda _: None)
    assert marker(output) == "new"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["run"]


def test_recover_swaps_in_a_finished_run_killed_before_its_swap(tmp_path):
    output = make_run(tmp_path / "run", marker="previous")
    make_run(tmp_path / "run.partial", marker="new", finished="2026-02-01T00:00:00+00:00")
    runs.recover(output, log=lambda _: None)
    assert marker(output) == "new"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["run"]


def test_recover_never_touches_folders_it_cannot_prove_it_made(tmp_path):
    output = tmp_path / "results"
    user = {
        "results.old-keep": "thesis.txt",  # the report: these were deleted
        "results.partial-mine": "data.csv",
        "results.old-0123456789abcdef": "notes.txt",
    }
    for name, file in user.items():
        (tmp_path / name).mkdir()
        (tmp_path / name / file).write_text("precious")
    # a folder named like an aside, with a run.json, but not the run id its name says
    forged = make_run(tmp_path / "results.old-ffffffffffffffff")
    # a real run moved aside, but no run says it replaced it: kept as well
    stray = make_run(tmp_path / "stray")
    stray_aside = runs.aside_path(output, run_id(stray))
    stray.rename(stray_aside)
    make_run(output, marker="current")
    messages = []
    runs.recover(output, log=messages.append)
    assert messages == []
    for name, file in user.items():
        assert (tmp_path / name / file).read_text() == "precious"
    assert forged.exists() and stray_aside.exists()


def test_recover_with_a_missing_output_restores_nothing_foreign(tmp_path):
    output = tmp_path / "results"
    user = tmp_path / "results.old-x"
    (user / "run").mkdir(parents=True)  # earlier versions kept the run in old/run: not any more
    (user / "run" / "mine.txt").write_text("precious")
    runs.recover(output, log=lambda _: None)
    assert not output.exists() and (user / "run" / "mine.txt").read_text() == "precious"


@pytest.mark.parametrize("exchange", [True, False])
def test_swap_replaces_a_run_and_always_leaves_a_complete_one(tmp_path, monkeypatch, exchange):
    output = make_run(tmp_path / "run", marker="previous")
    new = make_run(tmp_path / "run.partial", finished="2026-03-01T00:00:00+00:00", marker="new")
    real_replace = os.replace

    def killed_after_first_rename(src, dst):
        real_replace(src, dst)
        if Path(src) == output:
            raise KeyboardInterrupt  # killed between the renames of the two folders

    def killed_before_cleaning_up(folder):
        raise KeyboardInterrupt

    monkeypatch.setattr(runs.os, "replace", killed_after_first_rename)
    monkeypatch.setattr(runs, "remove_run", killed_before_cleaning_up)
    with pytest.raises(KeyboardInterrupt):
        runs.swap_into_place(new, output, exchange=exchange)
    monkeypatch.undo()
    if exchange:
        assert marker(output) == "new"  # the exchange itself was atomic
    runs.recover(output, log=lambda _: None)
    assert marker(output) == "new"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["run"]


def test_swap_refuses_to_replace_a_run_holding_foreign_files(tmp_path):
    output = make_run(tmp_path / "run")
    (output / "thesis.txt").write_text("precious")
    new = make_run(tmp_path / "run.partial", marker="new")
    with pytest.raises(runs.RunFolderError, match=r"thesis\.txt"):
        runs.swap_into_place(new, output)
    assert (output / "thesis.txt").read_text() == "precious" and new.exists()


@pytest.mark.parametrize(
    "run_json, files, message",
    [
        ({"task": "sentiment"}, ["notes.txt"], "has no run id"),
        ({"task": "lm", "status": "training"}, [], "has no run id"),
        (
            {"task": "sentiment", "status": "finished", "run_id": "0" * 32},
            ["data.csv", "model.keras"],
            "data.csv",
        ),
    ],
)
def test_overwrite_needs_proof_that_the_folder_is_a_run(
    tmp_path, small_imdb, capsys, run_json, files, message
):
    target = tmp_path / "mine"
    target.mkdir()
    (target / "run.json").write_text(json.dumps(run_json))
    for name in files:
        (target / name).write_text("precious")
    assert main(["train", "sentiment", "--limit", "20", "--output", str(target), "--overwrite"]) == 2
    assert message in capsys.readouterr().err
    assert sorted(p.name for p in target.iterdir()) == sorted(["run.json", *files])
    assert not (tmp_path / "mine.partial").exists()


def test_a_foreign_partial_folder_is_never_discarded(tmp_path, small_imdb, capsys):
    partial = tmp_path / "out.partial"
    partial.mkdir()
    (partial / "run.json").write_text(json.dumps({"task": "sentiment", "status": "training"}))
    (partial / "mine.txt").write_text("precious")
    assert (
        main(["train", "sentiment", "--limit", "20", "--output", str(tmp_path / "out"), "--overwrite"]) == 2
    )
    assert "cannot prove it is its own partial run" in capsys.readouterr().err
    assert sorted(p.name for p in partial.iterdir()) == ["mine.txt", "run.json"]


def test_a_training_that_fails_before_its_first_checkpoint_leaves_nothing(tmp_path, monkeypatch, capsys):
    datasets = tmp_path / "datasets"
    datasets.mkdir()
    (datasets / "aclImdb_v1_text.tar.gz").write_bytes(b"not a tar file")
    monkeypatch.setenv("RNNLAB_DATASETS", str(datasets))
    monkeypatch.setenv("RNNLAB_CACHE", str(tmp_path / "cache"))
    mine = tmp_path / "o" / "results.old-keep"
    mine.mkdir(parents=True)
    (mine / "thesis.txt").write_text("thesis")
    output = tmp_path / "o" / "results"
    assert main(["train", "sentiment", "--limit", "50", "--epochs", "1", "--output", str(output)]) == 2
    assert "removed" not in capsys.readouterr().out
    assert sorted(p.name for p in output.parent.iterdir()) == ["results.old-keep"]
    assert (mine / "thesis.txt").read_text() == "thesis"


@pytest.mark.parametrize("output", ["", "  "])
def test_an_empty_output_is_refused(small_imdb, capsys, output):
    assert main(["train", "sentiment", "--limit", "20", "--output", output]) == 2
    assert "--output is empty" in capsys.readouterr().err


def test_an_output_inside_the_datasets_folder_is_refused(tmp_path, small_imdb, capsys):
    output = small_imdb / "runs" / "article"
    assert main(["train", "sentiment", "--limit", "20", "--output", str(output)]) == 2
    assert "never writes to" in capsys.readouterr().err
    assert not (small_imdb / "runs").exists()


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
    info = json.loads((first.folder / "run.json").read_text())
    assert runs.RUN_ID.fullmatch(info["run_id"]) and info["pid"] == os.getpid()
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


def test_a_real_run_is_provably_rnnlabs_and_overwrite_replaces_it(tmp_path, small_imdb):
    output = tmp_path / "run"
    args = ["train", "sentiment", "--limit", "20", "--epochs", "1", "--units", "4", "--output", str(output)]
    assert main(args) == 0
    assert main(["evaluate", str(output)]) == 0  # evaluation.json joins the run
    first = runs.owned_run(output)
    assert runs.foreign_entries(output) == []
    assert main([*args, "--overwrite"]) == 0
    second = runs.owned_run(output)
    assert second["run_id"] != first["run_id"] and second["replaces"] == first["run_id"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["datasets", "run"]


def test_a_run_of_an_older_rnnlab_says_to_retrain(tmp_path):
    for name in ("model.keras", "preprocessor.json", "config.toml"):
        (tmp_path / name).write_text("x")
    with pytest.raises(runs.RunFolderError, match="made by an older rnnlab .no run.json.; retrain it"):
        runs.open_run(tmp_path)


def test_what_evaluate_writes_belongs_to_the_run_and_nothing_else_does(tmp_path):
    folder = make_run(tmp_path / "run")
    ours = [
        "confusion_matrix.png",
        "evaluation-beam_size-5.json",
        "evaluation-test_data-test_2017.tsv-262ee326.json",
        "confusion_matrix-test_data-test_2017.tsv-262ee326.png",
        "evaluation-beam_size-5.json.ab12_d9z.tmp.json",  # atomic_path's temp file, left by a kill
        "confusion_matrix.png.0a1b2c3d.tmp.png",
    ]
    theirs = ["notes.txt", "confusion_matrix.pdf", "evaluation.json.bak", "model.keras.mine.tmp.keras"]
    for name in ours + theirs:
        (folder / name).write_text("x")
    assert runs.foreign_entries(folder) == sorted(theirs)
