"""Recordings the user brings, with their transcripts:

- a CSV or TSV manifest (`.csv`, `.tsv`, `.tab`) whose header names the columns `path` and
  `transcript`; a path is absolute or relative to the manifest's folder;
- a folder of `NAME.wav` (or any sound format libsndfile reads) + `NAME.txt` pairs, anywhere inside.

Only the names are read here; the audio is read (and checked) by `rnnlab.audio.read_audio` when
the examples are made. Every failure is one `DatasetError` line naming the file and, for a
manifest, the line.

Example:
>>> items = read_recordings("my_recordings.csv")  # doctest: +SKIP
>>> items[0]  # doctest: +SKIP
Recorded(path=PosixPath('/data/clips/0001.wav'), transcript='turn left', where='my_recordings.csv, line 2')
"""

import csv
import io
from dataclasses import dataclass
from pathlib import Path

from rnnlab.datasets import storage, user_text
from rnnlab.io import describe_path

TABLE_SUFFIXES = {".csv": ",", ".tsv": "\t", ".tab": "\t"}
AUDIO_SUFFIXES = (".wav", ".flac", ".ogg", ".oga", ".aiff", ".aif", ".au", ".mp3")
COLUMNS = ("path", "transcript")


@dataclass(frozen=True)
class Recorded:
    """One recording: its file, its transcript, and where it was listed (for messages)."""

    path: Path
    transcript: str
    where: str


def read_recordings(path):
    """The recordings a manifest or a folder lists, in its order (a folder's: sorted by path; hidden
    files and folders, such as macOS's `._x.wav`, skipped).

    Args:
        path: a `.csv`, `.tsv` or `.tab` manifest, or a folder.

    Raises:
        DatasetError: no such file or folder, a manifest without the columns, a row without a
            transcript or whose audio file is missing, a folder without pairs, or a sound file
            without its transcript.
    """
    path = Path(path)
    if path.is_dir():
        items = _read_folder(path)
    elif not path.is_file():
        raise storage.DatasetError(
            f"{path} is {describe_path(path)}. Expected a CSV or TSV manifest (columns path, transcript) "
            "or a folder of NAME.wav + NAME.txt pairs."
        )
    elif path.suffix.lower() not in TABLE_SUFFIXES:
        raise storage.DatasetError(
            f"{path}: expected a manifest ending in .csv, .tsv or .tab (columns path, transcript), or a "
            "folder of NAME.wav + NAME.txt pairs."
        )
    else:
        items = _read_manifest(path)
    if not items:
        raise storage.DatasetError(f"{path} lists no recordings. Expected at least one.")
    return items


def _read_manifest(path):
    user_text.check_size([path])
    text = user_text.decode(path, path.read_bytes())
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=TABLE_SUFFIXES[path.suffix.lower()])
    try:
        header = next(reader, None)
        columns = [name.strip() for name in header or []]
        missing = [name for name in COLUMNS if name not in columns]
        if missing:
            raise storage.DatasetError(
                f"{path}, line 1: no column {missing[0]!r}. Found the columns {columns}. Expected a header "
                "naming the columns path and transcript."
            )
        at = [columns.index(name) for name in COLUMNS]
        items = []
        for row in reader:
            if not row or not any(field.strip() for field in row):
                continue
            where = f"{path}, line {reader.line_num}"
            if len(row) != len(columns):
                raise storage.DatasetError(
                    f"{where}: {len(row)} fields. Expected {len(columns)}, as the header has."
                )
            audio, transcript = row[at[0]].strip(), " ".join(row[at[1]].split())
            items.append(_item(path.parent / audio if audio else None, transcript, where))
    except csv.Error as error:
        raise storage.DatasetError(f"{path}, line {reader.line_num}: {error}.") from None
    return items


def _read_folder(path):
    sounds = sorted(
        (
            p
            for p in path.rglob("*")
            if p.suffix.lower() in AUDIO_SUFFIXES
            and p.is_file()
            and not any(part.startswith(".") for part in p.relative_to(path).parts)
        ),  # not ._x.wav
        key=lambda p: p.relative_to(path).parts,
    )
    if not sounds:
        raise storage.DatasetError(
            f"{path} is a folder without sound files ({', '.join(AUDIO_SUFFIXES)}). Expected NAME.wav + "
            "NAME.txt pairs."
        )
    items = []
    for sound in sounds:
        text_file = sound.with_suffix(".txt")
        if not text_file.is_file():
            raise storage.DatasetError(f"{sound} has no transcript: expected {text_file.name} beside it.")
        transcript = user_text.decode(text_file, text_file.read_bytes())
        items.append(_item(sound, " ".join(transcript.split()), str(text_file)))
    return items


def _item(audio, transcript, where):
    if audio is None:
        raise storage.DatasetError(f"{where}: no path. Expected the path of a sound file.")
    if not transcript:
        raise storage.DatasetError(f"{where}: an empty transcript. Expected the words spoken.")
    if not audio.is_file():
        raise storage.DatasetError(
            f"{where}: the audio {audio} is {describe_path(audio)}. Expected a sound file (a path is "
            "absolute or relative to the manifest's folder)."
        )
    return Recorded(audio.resolve(), transcript, where)
