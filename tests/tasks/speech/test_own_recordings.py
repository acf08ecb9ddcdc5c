"""`rnnlab train speech --data PATH --targets characters`: the user's recordings from a manifest or a
folder of pairs, the same run as the built-in path on the same FSDD recordings, and one clear line
for each kind of bad input."""

import json

import numpy as np
import pytest

from rnnlab.cli import main
from rnnlab.datasets.recordings import read_recordings
from rnnlab.datasets.storage import DatasetError

TINY = "--epochs 1 --units 8 --num-layers 1 --no-bucket --targets characters".split()


def _wav(path, seconds=0.5, rate=8000):
    import soundfile

    t = np.arange(int(seconds * rate)) / rate
    soundfile.write(path, (0.3 * np.sin(2 * np.pi * 440 * t)).astype("float32"), rate)
    return path


def test_manifests_and_folders_are_read_with_their_paths(tmp_path):
    (tmp_path / "clips").mkdir()
    _wav(tmp_path / "clips" / "a.wav")
    _wav(tmp_path / "b.flac")
    (tmp_path / "m.tsv").write_text(
        "transcript\tpath\nturn  left\tclips/a.wav\n\nstop\t" + str(tmp_path / "b.flac") + "\n"
    )
    items = read_recordings(tmp_path / "m.tsv")
    assert [(i.path.name, i.transcript) for i in items] == [("a.wav", "turn left"), ("b.flac", "stop")]
    assert items[1].where.endswith("m.tsv, line 4")
    (tmp_path / "clips" / "a.txt").write_text("go\n")
    assert [(i.path.name, i.transcript) for i in read_recordings(tmp_path / "clips")] == [("a.wav", "go")]


@pytest.mark.parametrize(
    "content, message",
    [
        ("file,text\na.wav,go\n", "m.csv, line 1: no column 'path'"),
        ("path,transcript\nmissing.wav,go\n", "m.csv, line 2: the audio"),
        ("path,transcript\na.wav,   \n", "m.csv, line 2: an empty transcript"),
        ("path,transcript\n,go\n", "m.csv, line 2: no path"),
        ("path,transcript\na.wav,go,extra\n", "m.csv, line 2: 3 fields. Expected 2"),
        ("path,transcript\n", "lists no recordings"),
    ],
)
def test_bad_manifests_are_one_line_naming_file_and_line(tmp_path, content, message):
    _wav(tmp_path / "a.wav")
    (tmp_path / "m.csv").write_text(content)
    with pytest.raises(DatasetError, match=message):
        read_recordings(tmp_path / "m.csv")


def test_bad_folders_and_names_are_refused(tmp_path):
    _wav(tmp_path / "a.wav")
    with pytest.raises(DatasetError, match=r"a.wav has no transcript: expected a.txt beside it"):
        read_recordings(tmp_path)
    (tmp_path / "notes.json").write_text("{}")
    with pytest.raises(DatasetError, match="expected a manifest ending in .csv, .tsv or .tab"):
        read_recordings(tmp_path / "notes.json")
    (tmp_path / "empty").mkdir()
    with pytest.raises(DatasetError, match="without sound files"):
        read_recordings(tmp_path / "empty")


def _write_manifest(path, recordings, files):
    """A manifest of FSDD recordings (their original files written beside it) and their words."""
    rows = ["path,transcript"]
    for r in recordings:
        (path.parent / r.name).write_bytes(files[r.name])
        rows.append(f"{r.name},{WORDS[r.digit]}")
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    return path


WORDS = ("zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine")


def test_a_manifest_of_fsdd_files_gives_the_built_in_runs_results(real_fsdd, tmp_path):
    """The built-in path with --limit 40 and a manifest of the same recordings, listed so that the
    same seeded order comes out: the same training history and test metrics to every digit."""
    from rnnlab.datasets import fsdd
    from rnnlab.tasks.speech import task
    from rnnlab.tasks.speech.config import SpeechConfig

    files = fsdd.read_archive(fsdd.path(allow_download=False))
    built_in = tmp_path / "built-in"
    assert main(["train", "speech", *TINY, "--limit", "40", "--output", str(built_in)]) == 0
    train, validation, test = task.recording_pools(SpeechConfig(targets="characters", limit=40))
    chosen = train + validation  # the seeded order the built-in path trains and validates on
    order = np.random.default_rng(0).permutation(len(chosen))  # what --data's seeded shuffle does
    listed = [None] * len(chosen)
    for position, index in enumerate(order):
        listed[index] = chosen[position]
    (tmp_path / "wavs").mkdir()
    data = _write_manifest(tmp_path / "wavs" / "train.csv", listed, files)
    tests = _write_manifest(tmp_path / "wavs" / "test.csv", test, files)
    mine = tmp_path / "mine"
    flags = ["--data", str(data), "--test-data", str(tests)]
    assert main(["train", "speech", *TINY, *flags, "--output", str(mine)]) == 0
    a, b = (json.loads((run / "metrics.json").read_text()) for run in (built_in, mine))
    assert a["history"] == b["history"]
    assert {k: v for k, v in a.items() if k.startswith("test_")} == {
        k: v for k, v in b.items() if k.startswith("test_")
    }
    assert (a["num_train"], a["num_validation"], a["num_test"]) == (
        b["num_train"],
        b["num_validation"],
        b["num_test"],
    )


def test_own_recordings_train_evaluate_and_fail_clearly(real_fsdd, tmp_path, capsys):
    from rnnlab.datasets import fsdd

    files = fsdd.read_archive(fsdd.path(allow_download=False))
    folder = tmp_path / "pairs"
    folder.mkdir()
    for name in [n for n in sorted(files) if "_theo_" in n and int(n.split("_")[2][:-4]) < 6]:  # 6 takes
        (folder / name).write_bytes(files[name])
        (folder / name.replace(".wav", ".txt")).write_text(f"the word {WORDS[int(name[0])]}\n")
    run = tmp_path / "run"
    assert main(["train", "speech", *TINY, "--data", str(folder), "--output", str(run)]) == 0
    metrics = json.loads((run / "metrics.json").read_text())
    assert metrics["num_test"] == 6 and "test_cer" in metrics
    odd = tmp_path / "odd.csv"
    (tmp_path / "7.wav").write_bytes(files["7_theo_1.wav"])
    odd.write_text("path,transcript\n7.wav,the word sieben ß\n", encoding="utf-8")
    capsys.readouterr()
    assert main(["evaluate", str(run), "--test-data", str(odd)]) == 2
    assert (
        "odd.csv, line 2: The transcript 'the word sieben ß' has characters outside the run's alphabet"
        in (capsys.readouterr().err)
    )
    _wav(tmp_path / "short.wav", seconds=0.05)
    (tmp_path / "short.csv").write_text("path,transcript\nshort.wav," + "the word seven " * 4 + "\n")
    assert main(["evaluate", str(run), "--test-data", str(tmp_path / "short.csv")]) == 2
    err = capsys.readouterr().err
    assert "short.csv, line 2" in err and "CTC needs" in err
    (tmp_path / "text.wav").write_text("not audio")
    (tmp_path / "bad.csv").write_text("path,transcript\n" + "text.wav,go\n" * 20)
    bad_run = tmp_path / "bad-run"
    assert (
        main(["train", "speech", *TINY, "--data", str(tmp_path / "bad.csv"), "--output", str(bad_run)]) == 2
    )
    err = capsys.readouterr().err
    assert "bad.csv, line " in err and "text.wav" in err and not bad_run.exists()
    assert main(["train", "speech", "--data", str(folder), "--output", str(bad_run)]) == 2
    assert "add --targets characters" in capsys.readouterr().err
