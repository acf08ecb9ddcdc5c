"""Labelled text the user brings: CSV, TSV, JSON Lines, or a folder with one subfolder per label.

- CSV (`.csv`) and TSV (`.tsv`, `.tab`): a header row naming the columns, then one example a row
  (quoted fields may hold commas, tabs and line breaks);
- JSON Lines (`.jsonl`, `.ndjson`): one object a line;
- a folder: each subfolder is a label, each `.txt` file inside it one text (IMDb's layout).

Labels are kept as strings (`1` and `"1"` are the same label). Every failure is one
`DatasetError` line naming the file and, where there is one, the line.

Example:
>>> texts, labels = read_labelled("reviews.csv", text_field="review", label_field="stars")  # doctest: +SKIP
>>> label_names(labels)  # doctest: +SKIP
['1', '2', '3', '4', '5']
"""

import csv
import io
import json
from pathlib import Path

from rnnlab.datasets import storage, user_text
from rnnlab.io import describe_path

TABLE_SUFFIXES = {".csv": ",", ".tsv": "\t", ".tab": "\t"}
JSONL_SUFFIXES = (".jsonl", ".ndjson")
MAX_LABELS = 1000  # more distinct values than this is a text column, not labels
MAX_FIELD_CHARS = 10_000_000  # one text of a CSV file


def label_names(labels):
    """The distinct labels in order: numerically when every label is an integer, else
    alphabetically.

    Example:
    >>> label_names(["10", "2", "2"]), label_names(["pos", "neg"])
    (['2', '10'], ['neg', 'pos'])
    """
    names = set(labels)
    if all(_is_integer(name) for name in names):
        return sorted(names, key=lambda name: (int(name), name))
    return sorted(names)


def _is_integer(text):
    try:
        int(text)
    except ValueError:
        return False
    return True


def read_labelled(path, text_field="text", label_field="label", encoding="utf-8"):
    """`(texts, labels)`: two lists of str, from a file or a folder (see the module docstring).

    Args:
        path: a `.csv`, `.tsv`, `.tab`, `.jsonl` or `.ndjson` file, or a folder.
        text_field: the column or key holding the text.
        label_field: the column or key holding the label.
        encoding: of the files; UTF-8 by default (with or without a byte-order mark).

    Raises:
        DatasetError: naming the file (and line) and what was expected.
    """
    texts, labels = [], []
    for text, label in iter_labelled(path, text_field, label_field, encoding):
        texts.append(text)
        labels.append(label)
    check_labels(path, label_field, labels)
    return texts, labels


def iter_labelled(path, text_field="text", label_field="label", encoding="utf-8", stream=False):
    """The checked `(text, label)` examples of `read_labelled`, one at a time.

    Args:
        stream: read a file as a stream (its size is not bounded by memory; `rnnlab prepare`),
            else whole (refused when larger than this machine's memory can train on).

    Raises:
        DatasetError: as `read_labelled` (the file's own errors; the label checks are `check_labels`).
    """
    path = Path(path)
    if text_field == label_field:
        raise ValueError(f"Expected two different fields. Received: text_field=label_field={text_field!r}")
    if path.is_dir():
        yield from _read_folder(path, encoding, stream)
        return
    if not path.is_file():
        raise storage.DatasetError(
            f"{path} is {describe_path(path)}. Expected a CSV, TSV or JSON Lines file, or a folder "
            "with one subfolder per label."
        )
    suffix = path.suffix.lower()
    if suffix not in TABLE_SUFFIXES and suffix not in JSONL_SUFFIXES:
        raise storage.DatasetError(
            f"{path}: cannot tell its format from the name. Expected a name ending in .csv, .tsv, .tab, "
            ".jsonl or .ndjson, or a folder with one subfolder per label."
        )
    newline = "" if suffix in TABLE_SUFFIXES else "\n"  # csv splits rows itself; JSON Lines at \n only
    if stream:
        text = _open(path, encoding, newline)
    else:
        user_text.check_size([path])
        text = io.StringIO(_decode(path, path.read_bytes(), encoding), newline=newline)
    where = [0]  # the line reached, for a stream's decoding error
    with text:
        try:
            if suffix in TABLE_SUFFIXES:
                yield from _read_table(
                    path, text, TABLE_SUFFIXES[suffix], text_field, label_field, where, stream
                )
            else:
                yield from _read_jsonl(path, text, text_field, label_field, where)
        except UnicodeDecodeError as error:  # a stream: bytes that are not `encoding`, found as read
            line = _undecodable_line(path, encoding)
            where = f"line {line}" if line else f"after line {where[0]}"
            raise storage.DatasetError(
                f"{path}, {where}: not {encoding} text ({error.reason}). Expected {encoding}: convert it, "
                "e.g. `iconv -f latin1 -t utf-8`."
            ) from None


def _undecodable_line(path, encoding):
    """The first line of `path` that does not decode (None when no single line fails: an encoding
    whose line breaks are not the byte `\n`). A stream decodes ahead of the line it parses."""
    with open(path, "rb") as stream:
        for number, raw in enumerate(stream, start=1):
            try:
                raw.decode(encoding)
            except (UnicodeDecodeError, LookupError):
                return number
    return None


def check_labels(path, label_field, labels):
    """Refuses no examples, or a label field of more distinct values than labels have."""
    if not labels:
        raise storage.DatasetError(f"{path} holds no examples. Expected at least one labelled text.")
    distinct = len(set(labels))
    if distinct > MAX_LABELS:
        raise storage.DatasetError(
            f"{path}: the label field {label_field!r} has {distinct:,} distinct values: it looks like text, "
            f"not labels. Expected at most {MAX_LABELS} labels (is --label-field the right column?)."
        )


def _open(path, encoding, newline):
    """A text stream of `path` (UTF-8: a byte-order mark dropped)."""
    utf8 = encoding.replace("-", "").replace("_", "").lower() == "utf8"
    try:
        return open(path, encoding="utf-8-sig" if utf8 else encoding, newline=newline)
    except LookupError:
        raise storage.DatasetError(
            f"Unknown encoding {encoding!r} for {path}. Expected e.g. 'utf-8' or 'latin-1'."
        ) from None


def _decode(path, data, encoding):
    if encoding.replace("-", "").replace("_", "").lower() == "utf8":
        return user_text.decode(path, data)
    try:
        return data.decode(encoding)
    except LookupError:
        raise storage.DatasetError(
            f"Unknown encoding {encoding!r} for {path}. Expected e.g. 'utf-8' or 'latin-1'."
        ) from None
    except UnicodeDecodeError as error:
        raise storage.DatasetError(
            f"{path} is not {encoding} text (byte {error.start}: {data[error.start : error.start + 1]!r})."
        ) from None


def _example(path, line, text, label):
    """The checked `(text, label)` of one example."""
    if label is None or (isinstance(label, str) and not label.strip()):
        raise storage.DatasetError(f"{path}, line {line}: no label. Expected a label on every example.")
    if isinstance(label, bool) or not isinstance(label, str | int):
        raise storage.DatasetError(
            f"{path}, line {line}: the label is {json.dumps(label)[:40]}. Expected a string or an integer."
        )
    if not isinstance(text, str):
        raise storage.DatasetError(
            f"{path}, line {line}: the text is {json.dumps(text)[:40]}. Expected a string."
        )
    if not text.strip():
        raise storage.DatasetError(f"{path}, line {line}: an empty text. Expected text on every example.")
    return text, str(label).strip()


def _read_table(path, text, delimiter, text_field, label_field, where, stream=False):
    limit = csv.field_size_limit(MAX_FIELD_CHARS)  # a long review is one field; restored below
    reader = csv.reader(text, delimiter=delimiter)
    try:
        header = next(reader, None)
        if header is None:
            return
        columns = [name.strip() for name in header]
        repeated = sorted({name for name in columns if columns.count(name) > 1} & {text_field, label_field})
        if repeated:
            raise storage.DatasetError(
                f"{path}, line 1: the column {repeated[0]!r} appears twice. Expected each column once."
            )
        missing = [field for field in (text_field, label_field) if field not in columns]
        if missing:
            raise storage.DatasetError(
                f"{path}, line 1: no column {missing[0]!r}. Found the columns {columns}: name the text and "
                "label columns with --text-field and --label-field."
            )
        text_at, label_at = columns.index(text_field), columns.index(label_field)
        for row in reader:
            where[0] = reader.line_num
            if not row:  # a blank line
                continue
            if len(row) != len(columns):
                raise storage.DatasetError(
                    f"{path}, line {reader.line_num}: {len(row)} fields. Expected {len(columns)}, as the "
                    f"header has (separated by {delimiter!r}; quote fields that hold it)."
                )
            if stream and any("\0" in field for field in row):  # read whole, UTF-8 is checked when decoded
                raise storage.DatasetError(
                    f"{path}, line {reader.line_num}: a NUL character: expected text, not binary data."
                )
            yield _example(path, reader.line_num, row[text_at], row[label_at])
    except csv.Error as error:
        raise storage.DatasetError(f"{path}, line {reader.line_num}: {error}.") from None
    finally:
        csv.field_size_limit(limit)


def _read_jsonl(path, text, text_field, label_field, where):
    for number, line in enumerate(text, start=1):
        where[0] = number
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except (ValueError, RecursionError) as error:  # JSONDecodeError, or an integer of 4,300+ digits
            message = error.msg if isinstance(error, json.JSONDecodeError) else str(error)[:80] or "too deep"
            raise storage.DatasetError(
                f"{path}, line {number}: not JSON ({message}). Expected one object a line."
            ) from None
        if not isinstance(record, dict):
            raise storage.DatasetError(
                f"{path}, line {number}: a JSON {type(record).__name__}. Expected an object."
            )
        missing = [field for field in (text_field, label_field) if field not in record]
        if missing:
            raise storage.DatasetError(
                f"{path}, line {number}: no key {missing[0]!r}. Found the keys {sorted(record)[:20]}: "
                "name the text and label keys with --text-field and --label-field."
            )
        yield _example(path, number, record[text_field], record[label_field])


def _read_folder(path, encoding, stream=False):
    folders = sorted(p for p in path.iterdir() if p.is_dir() and not p.name.startswith((".", "__")))
    if any(folder.name == "unsup" for folder in folders):
        raise storage.DatasetError(
            f"{path / 'unsup'}: IMDb's unlabelled reviews are not a label. Expected a folder whose "
            "subfolders are labels only (e.g. aclImdb/train without unsup/)."
        )
    if not folders:
        raise storage.DatasetError(
            f"{path} is a folder without subfolders. Expected one subfolder per label, holding .txt files."
        )
    for folder in folders:
        files = sorted(p for p in folder.glob("*.txt") if p.is_file())
        if not files:
            raise storage.DatasetError(
                f"{folder} holds no .txt files. Expected the texts of label {folder.name!r}."
            )
        if not stream:
            user_text.check_size(files)
        for file in files:
            text = _decode(file, file.read_bytes(), encoding)
            if not text.strip():
                raise storage.DatasetError(f"{file} is empty. Expected the text of one example.")
            yield text.strip(), folder.name
