"""Readers for the official WMT file formats: newstest SGML, plain parallel text, TSV.

WMT data is not downloaded by rnnlab: get it from statmt.org and point rnnlab
at it, either

- by path: `read_sgm_pair("/data/wmt14/test-full/newstest2014-deen-src.de.sgm", ...)`, or
- by name: put the files in a `wmt/` folder inside a folder listed in
  `RNNLAB_DATASETS` (e.g. `RNNLAB_DATASETS=/data` and `/data/wmt/newstest2014-deen-src.de.sgm`)
  and pass the bare file name. A name that is not an existing path and has no
  folder part is looked for in `<folder>/wmt/` over the search path (then in
  the cache's `downloads/wmt/`).

The formats, with an official example of each:

- newstest SGML (`.sgm`), a source file and a reference file, e.g.
  `test-full/newstest2014-deen-src.de.sgm` and `test-full/newstest2014-deen-ref.en.sgm`
  from https://www.statmt.org/wmt14/test-full.tgz. Sentences are
  `<seg id="N">text</seg>` inside `<doc docid="...">`; XML entities
  (`&amp;`, `&lt;`, `&quot;`, `&#39;`, ...) are unescaped and surrounding
  spaces stripped. Source and reference are aligned by `(docid, seg id)`.
- plain parallel text, two files with one sentence per line, e.g.
  `europarl-v7.de-en.de` / `europarl-v7.de-en.en` from
  https://www.statmt.org/wmt13/training-parallel-europarl-v7.tgz.
- TSV, one pair per line separated by tabs, e.g.
  https://data.statmt.org/news-commentary/v16/training/news-commentary-v16.de-en.tsv.gz.
  Fields are split on tabs only: no CSV quoting, since sentences hold quotes.

Every reader takes UTF-8 files, plain or gzipped (a name ending in `.gz`),
drops a leading byte-order mark, splits lines on `\\n` only (a `\\r` just before
it is dropped too) and returns `(sources, targets)`, two lists of str of equal
length. Unreadable or inconsistent files raise `DatasetError` (from
`rnnlab.datasets.storage`) naming the file and what was expected.

The newer WMT XML test sets (`.xml`, from 2021 on) are not read here; sacreBLEU
converts them.
"""

import gzip
import html
import re
import zlib
from pathlib import Path
from typing import NamedTuple

from rnnlab.datasets import storage

SUBDIR = "wmt"  # folder looked for inside each RNNLAB_DATASETS folder
FORMATS = ("auto", "sgm", "parallel", "tsv")


class Segment(NamedTuple):
    """One `<seg>` of a newstest SGML file."""

    doc_id: str
    seg_id: str
    text: str
    line: int  # line of the file where the <seg> starts, for error messages


def resolve(path):
    """The file `path` names: itself if it exists, else a bare name looked up in `wmt/` on the search path.

    Args:
        path: a path, or a bare file name such as `"newstest2014-deen-src.de.sgm"`.

    Raises:
        DatasetNotFoundError: the file is nowhere; the message lists where rnnlab looked.

    Example:
    >>> resolve("newstest2014-deen-src.de.sgm")  # doctest: +SKIP
    PosixPath('/data/wmt/newstest2014-deen-src.de.sgm')
    """
    path = Path(path)
    if path.is_file():
        return path
    if path.exists():
        raise storage.DatasetError(f"Expected a file. Received: {path}, which is not a regular file.")
    looked = [str(path)]
    if path.name == str(path):
        found = storage.find([path.name], SUBDIR)
        if found is not None:
            return found
        looked.append(storage.searched_places([path.name], SUBDIR))
    raise storage.DatasetNotFoundError(
        f"WMT file not found: {path}. Looked in: {', '.join(looked)}. rnnlab does not download WMT data: "
        "get it from https://www.statmt.org and pass its path, or put it in a wmt/ folder inside a "
        "folder listed in RNNLAB_DATASETS."
    )


def read_text(path):
    """The text of a UTF-8 file, gunzipped when its name ends in `.gz`, without a byte-order mark.

    Args:
        path: a path or a bare name (see `resolve`).

    Example:
    >>> read_text("europarl-v7.de-en.en")[:10]  # doctest: +SKIP
    'Resumption'
    """
    path = resolve(path)
    try:
        data = gzip.decompress(path.read_bytes()) if path.name.endswith(".gz") else path.read_bytes()
    except (OSError, EOFError, zlib.error) as error:
        raise storage.DatasetError(f"Cannot read {path}: {error}. Expected a readable file.") from error
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        line = data.count(b"\n", 0, error.start) + 1
        raise storage.DatasetError(
            f"{path} is not UTF-8: undecodable byte at line {line} (byte offset {error.start}). "
            "Expected UTF-8 text; convert it with e.g. `iconv -t UTF-8`."
        ) from error


def read_lines(path):
    """The lines of a text file, without their `\\n` (or `\\r\\n`); a final newline adds no empty line.

    Lines are split on `\\n` only, so a stray `\\r` or Unicode line separator
    inside a sentence never splits it.

    Example:
    >>> read_lines("europarl-v7.de-en.en")[0]  # doctest: +SKIP
    'Resumption of the session'
    """
    text = read_text(path)
    if not text:
        return []
    lines = text.split("\n")
    if lines[-1] == "":
        lines.pop()
    return [line[:-1] if line.endswith("\r") else line for line in lines]


def read_parallel(src_path, tgt_path):
    """Sentence pairs from two plain text files, one sentence per line.

    Args:
        src_path: source side, e.g. `"europarl-v7.de-en.de"` (plain or `.gz`).
        tgt_path: target side, line i translating line i of `src_path`.

    Returns:
        `(sources, targets)`: two lists of str.

    Raises:
        DatasetError: the files have different numbers of lines.

    Example:
    >>> de, en = read_parallel("europarl-v7.de-en.de", "europarl-v7.de-en.en")  # doctest: +SKIP
    """
    sources, targets = read_lines(src_path), read_lines(tgt_path)
    if len(sources) != len(targets):
        raise storage.DatasetError(
            f"Parallel files differ in length: {resolve(src_path)} has {len(sources)} lines, "
            f"{resolve(tgt_path)} has {len(targets)}. Expected the same number of lines, "
            "line i of one translating line i of the other."
        )
    return sources, targets


def _check_column(name, value):
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ValueError(f"Expected {name} to be a column index >= 0. Received: {name}={value!r}")


def read_tsv(path, src_column=0, tgt_column=1):
    """Sentence pairs from a tab-separated file, one pair per line.

    Args:
        path: the TSV file (plain or `.gz`).
        src_column: index of the source column (0 = first).
        tgt_column: index of the target column.

    Returns:
        `(sources, targets)`: two lists of str.

    Raises:
        DatasetError: a line has too few columns; the message gives its number.

    Example:
    >>> de, en = read_tsv("news-commentary-v16.de-en.tsv.gz")  # doctest: +SKIP
    """
    _check_column("src_column", src_column)
    _check_column("tgt_column", tgt_column)
    if src_column == tgt_column:
        raise ValueError(
            f"Expected two different columns. Received: src_column={src_column}, tgt_column={tgt_column}"
        )
    needed = max(src_column, tgt_column) + 1
    sources, targets = [], []
    for number, line in enumerate(read_lines(path), start=1):
        fields = line.split("\t")
        if len(fields) < needed:
            raise storage.DatasetError(
                f"{resolve(path)}, line {number}: expected at least {needed} tab-separated columns "
                f"(src_column={src_column}, tgt_column={tgt_column}). Received {len(fields)}: {line[:80]!r}"
            )
        sources.append(fields[src_column])
        targets.append(fields[tgt_column])
    return sources, targets


_TAG = re.compile(
    r"<doc\b(?P<doc>[^>]*)>|</doc\s*>|<seg\b(?P<seg>[^>]*)>(?P<text>.*?)</seg\s*>",
    re.DOTALL | re.IGNORECASE,
)
_SEG_START = re.compile(r"<seg\b", re.IGNORECASE)
_ATTRIBUTE = re.compile(r"""([\w:-]+)\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s"'>]+))""")


def _attributes(text):
    return {m[1].lower(): html.unescape(m[2] or m[3] or m[4] or "") for m in _ATTRIBUTE.finditer(text)}


def read_sgm(path):
    """The segments of one newstest SGML file, in file order.

    Args:
        path: an `.sgm` file (plain or `.gz`).

    Returns:
        A list of `Segment(doc_id, seg_id, text, line)`, text unescaped and stripped.

    Raises:
        DatasetError: no `<seg>` at all, a `<seg>` outside a `<doc>` or without
            an id, a `<doc>` without a docid, or an id used twice in one document.

    Example:
    >>> read_sgm("newstest2014-deen-ref.en.sgm")[0].text  # doctest: +SKIP
    'Gutach: Increased safety for pedestrians'
    """
    path = resolve(path)
    text = read_text(path)

    def error(line, message):
        return storage.DatasetError(f"{path}, line {line}: {message}")

    segments, seen, doc_id = [], {}, None
    line, counted = 1, 0  # line number at offset `counted`, advanced as matches come
    for match in _TAG.finditer(text):
        line, counted = line + text.count("\n", counted, match.start()), match.start()
        if match["doc"] is not None:  # <doc ...>
            doc_id = _attributes(match["doc"]).get("docid")
            if not doc_id:
                raise error(line, f'expected <doc docid="...">. Received {match[0]!r}')
        elif match["seg"] is None:  # </doc>
            doc_id = None
        else:
            if doc_id is None:
                raise error(line, "expected <seg> inside a <doc>, found one outside.")
            if _SEG_START.search(match["text"]):
                raise error(line, "<seg> not closed before the next <seg>.")
            seg_id = _attributes(match["seg"]).get("id")
            if not seg_id:
                raise error(line, f'expected <seg id="N">. Received {match[0][:80]!r}')
            key = (doc_id, seg_id)
            if key in seen:
                raise error(
                    line,
                    f"seg id {seg_id} appears twice in doc {doc_id} (first at line {seen[key]}). "
                    "Expected unique ids within a document.",
                )
            seen[key] = line
            segments.append(Segment(doc_id, seg_id, html.unescape(match["text"]).strip(), line))
    unclosed = len(_SEG_START.findall(text)) - len(segments)
    if unclosed:
        raise storage.DatasetError(
            f"{path}: {unclosed} <seg> without a closing </seg> at the end of the file."
        )
    if not segments:
        raise storage.DatasetError(
            f'{path} holds no <seg id="N">...</seg> inside <doc docid="...">. '
            "Expected a WMT newstest SGML file."
        )
    return segments


def _describe(keys, limit=5):
    shown = ", ".join(f"doc {doc} seg {seg}" for doc, seg in keys[:limit])
    return shown + (f" and {len(keys) - limit} more" if len(keys) > limit else "")


def read_sgm_pair(src_path, ref_path):
    """Sentence pairs from a newstest SGML source file and its reference, aligned by (docid, seg id).

    Args:
        src_path: the source side, e.g. `"newstest2014-deen-src.de.sgm"`.
        ref_path: the reference translation, e.g. `"newstest2014-deen-ref.en.sgm"`.

    Returns:
        `(sources, targets)` in the order of the source file.

    Raises:
        DatasetError: a (docid, seg id) is in one file and not the other; the
            message lists them.

    Example:
    >>> src, ref = "newstest2014-deen-src.de.sgm", "newstest2014-deen-ref.en.sgm"
    >>> de, en = read_sgm_pair(src, ref)  # doctest: +SKIP
    >>> len(de)  # doctest: +SKIP
    3003
    """
    sources = read_sgm(src_path)
    references = {(s.doc_id, s.seg_id): s.text for s in read_sgm(ref_path)}
    keys = [(s.doc_id, s.seg_id) for s in sources]
    only_src = [key for key in keys if key not in references]
    only_ref = sorted(set(references) - set(keys))
    if only_src or only_ref:
        problems = []
        if only_src:
            problems.append(f"{len(only_src)} only in the source ({_describe(only_src)})")
        if only_ref:
            problems.append(f"{len(only_ref)} only in the reference ({_describe(only_ref)})")
        raise storage.DatasetError(
            f"Segments of {resolve(src_path)} and {resolve(ref_path)} do not match: {'; '.join(problems)}. "
            "Expected the same (docid, seg id) in both, as in a WMT source/reference pair."
        )
    return [s.text for s in sources], [references[key] for key in keys]


def load_pairs(path_or_paths, format="auto", src_column=0, tgt_column=1):
    """Sentence pairs from WMT files in any of the formats above.

    Args:
        path_or_paths: one TSV file, or a `(source, target)` pair of files.
        format: `"sgm"`, `"parallel"`, `"tsv"` or `"auto"`: a single path is
            TSV; two paths ending in `.sgm` (or `.sgm.gz`) are SGML, other
            pairs plain parallel text.
        src_column: source column of a TSV file.
        tgt_column: target column of a TSV file.

    Returns:
        `(sources, targets)`: two lists of str.

    Example:
    >>> src, ref = "newstest2014-deen-src.de.sgm", "newstest2014-deen-ref.en.sgm"
    >>> de, en = load_pairs([src, ref])  # doctest: +SKIP
    >>> de, en = load_pairs("news-commentary-v16.de-en.tsv.gz")  # doctest: +SKIP
    """
    if format not in FORMATS:
        raise ValueError(f"Expected format in {FORMATS}. Received: format={format!r}")
    paths = [path_or_paths] if isinstance(path_or_paths, str | Path) else list(path_or_paths)
    if format == "auto":
        if len(paths) == 1:
            format = "tsv"
        else:
            sgm = all(str(p).lower().removesuffix(".gz").endswith(".sgm") for p in paths)
            format = "sgm" if sgm else "parallel"
    expected = 1 if format == "tsv" else 2
    if len(paths) != expected:
        what = "one file" if expected == 1 else "a (source, target) pair of files"
        raise ValueError(f"Expected {what} for format={format!r}. Received {len(paths)}: {paths}")
    if format == "tsv":
        return read_tsv(paths[0], src_column, tgt_column)
    return read_sgm_pair(*paths) if format == "sgm" else read_parallel(*paths)
