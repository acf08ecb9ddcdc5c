"""Text larger than memory for language models: `rnnlab prepare lm --data PATH --output DIR`
reads the text twice in blocks (the vocabulary, then the token ids) and writes the ids as raw
int32 files that training maps into memory (`rnnlab train lm --prepared DIR`), so that memory
stays bounded whatever the size of the text.

The folder holds `train.bin` and `valid.bin` (little-endian int32 token ids), `preprocessor.json`
(the vocabulary) and `manifest.json` (the level, the token counts, each file's SHA-256 and the
sources it was made from). Its ids equal those `rnnlab train lm --data PATH` makes in memory:
the same vocabulary (tokens ranked by count, ties in first-seen order) and the same last tenth
held out to validate (or `--valid-data`). Characters and words; subwords are not prepared yet.

Example:
    rnnlab prepare lm --data books/ --level word --output prepared/books
    rnnlab train lm --prepared prepared/books --output runs/books
"""

import hashlib
from collections import Counter
from pathlib import Path

import numpy as np

from rnnlab import runs
from rnnlab.data import prepared_folder
from rnnlab.datasets import storage, user_text
from rnnlab.datasets.word_corpora import EOS
from rnnlab.tasks.lm.preprocessor import RESERVED, LMPreprocessor, load_preprocessor
from rnnlab.text.vocabulary import Vocabulary

FORMAT = "rnnlab-prepared-lm"
VERSION = 1
BLOCK_CHARS = 1 << 22  # characters read at a time
MAX_LINE_CHARS = 1 << 26  # the longest line word tokens are read from
LEVELS = ("char", "word")
VALIDATION_FRACTION = 0.1  # as `rnnlab train lm --data` (user_text.split_tail)


def _file_blocks(file, whole_lines):
    """The text of one file in blocks, `\r\n` read as `\n` and a leading byte-order mark dropped,
    as `user_text.decode` reads it; with `whole_lines`, each block ends at a line break (the last
    may not), and a line longer than `MAX_LINE_CHARS` is an error (memory stays bounded)."""
    carry, first = "", True
    with open(file, encoding="utf-8", newline="") as stream:
        while True:
            try:
                block = stream.read(BLOCK_CHARS)
            except UnicodeDecodeError as error:
                raise storage.DatasetError(
                    f"{file} is not UTF-8 text ({error.reason}). Expected UTF-8: convert it, e.g. "
                    "`iconv -f latin1 -t utf-8`."
                ) from None
            if not block:
                break
            if first:
                block, first = block.removeprefix("\ufeff"), False
            if "\0" in block:
                raise storage.DatasetError(f"{file} holds a NUL byte: expected text, not binary data.")
            block, held = carry + block, ""
            if block.endswith("\r"):  # perhaps a \r\n cut in two
                block, held = block[:-1], "\r"
            block = block.replace("\r\n", "\n")
            cut = block.rfind("\n") + 1 if whole_lines else len(block)
            block, carry = block[:cut], block[cut:] + held
            if len(carry) > MAX_LINE_CHARS:
                raise storage.DatasetError(
                    f"{file} has a line of over {MAX_LINE_CHARS:,} characters. Expected text in lines (word "
                    "tokens are read a line at a time); prepare it with --level char, or break its lines."
                )
            if block:
                yield block
    if carry:
        yield carry


def _blocks(files, level):
    """The text of `files` in blocks of whole lines, joined as `user_text.read_text` joins them
    (a line break added between two files where the first does not end with one)."""
    pending, ended = None, True
    for number, file in enumerate(files):
        if number and not ended:
            pending = "\n" if pending is None else pending + "\n"
        ended = False  # an empty file does not end with a line break
        for block in _file_blocks(file, whole_lines=level == "word"):
            if pending is not None:
                yield pending
            pending, ended = block, block.endswith("\n")
    if pending is not None:
        yield pending


def _tokens(block, level):
    """The tokens of a block: its characters, or each line's words then `<eos>` (the line break
    that ends the block ends its last line, not another one)."""
    if level == "char":
        return block
    lines = (block[:-1] if block.endswith("\n") else block).split("\n")
    tokens = []
    for line in lines:
        tokens += [*line.split(), EOS]
    return tokens


def _ids(block, level, vocabulary):
    if level == "word":
        return np.asarray(vocabulary.encode(_tokens(block, level)), "<i4")
    codes = np.frombuffer(block.encode("utf-32-le"), "<u4")
    distinct, inverse = np.unique(codes, return_inverse=True)
    table = np.asarray(vocabulary.encode([chr(c) for c in distinct]), "<i4")
    return table[inverse].astype("<i4")


class _Writer:
    """Token ids appended to `train.bin`, then (past `cut` tokens) to `valid.bin`."""

    def __init__(self, folder, cut):
        self.folder, self.cut, self.count = folder, cut, 0
        self.files = {name: open(folder / f"{name}.bin", "wb") for name in ("train", "valid")}
        self.hashes = {name: hashlib.sha256() for name in self.files}
        self.counts = dict.fromkeys(self.files, 0)

    def write(self, name, ids):
        data = ids.tobytes()
        self.files[name].write(data)
        self.hashes[name].update(data)
        self.counts[name] += len(ids)

    def add(self, ids):
        head = max(0, min(len(ids), self.cut - self.count))
        if head:
            self.write("train", ids[:head])
        if head < len(ids):
            self.write("valid", ids[head:])
        self.count += len(ids)

    def close(self):
        for stream in self.files.values():
            stream.close()
        return {
            name: {"file": f"{name}.bin", "tokens": self.counts[name], "sha256": digest.hexdigest()}
            for name, digest in self.hashes.items()
        }


def prepare(data, output, level="char", max_vocab=None, valid_data=None, log=print):
    """Writes the prepared folder `output` for the text at `data` (see the module's docstring).

    Args:
        data: a UTF-8 file, or a folder of `.txt` files (read in sorted order).
        output: the folder to write; it must not exist (nothing is overwritten).
        level: 'char' or 'word'.
        max_vocab: the vocabulary's size, reserved ids included (None: every token).
        valid_data: validation text (None: the last tenth of `data`).

    Returns:
        The manifest (also written to `output/manifest.json`).

    Raises:
        DatasetError: no text, text that is not UTF-8, or too little to hold a tenth apart.
        ValueError: an unknown level, or an `output` that exists.
    """
    if level not in LEVELS:
        raise ValueError(f"rnnlab prepare lm cuts characters or words: expected level in {LEVELS}. "
                         f"Received: {level!r}")  # fmt: skip
    prepared_folder.check_new(output)
    files = user_text.text_files(data)
    valid_files = user_text.text_files(valid_data) if valid_data else []
    total = sum(len(_tokens(block, level)) for block in _blocks(files, level))
    if total < (1 if valid_files else 2):
        enough = "one" if valid_files else "enough to keep a tenth apart"
        raise storage.DatasetError(f"{data} holds {total} {level} tokens: expected {enough}.")
    cut = total if valid_files else min(max(int(total * (1 - VALIDATION_FRACTION)), 1), total - 1)
    counts, seen = Counter(), 0  # the vocabulary sees the training part only, as with --data
    for block in _blocks(files, level):
        tokens = _tokens(block, level)
        counts.update(tokens[: max(0, cut - seen)])
        seen += len(tokens)
        if seen >= cut:
            break
    preprocessor = LMPreprocessor(
        Vocabulary.from_counts(counts, max_size=max_vocab, reserved=RESERVED), level
    )
    with prepared_folder.writing(output) as partial:
        writer = _Writer(partial, cut)
        try:
            for block in _blocks(files, level):
                writer.add(_ids(block, level, preprocessor.vocabulary))
            for block in _blocks(valid_files, level):
                writer.write("valid", _ids(block, level, preprocessor.vocabulary))
        finally:
            splits = writer.close()
        if not splits["valid"]["tokens"]:
            raise storage.DatasetError(f"{valid_data} holds no {level} tokens to validate with.")
        preprocessor.save(partial / "preprocessor.json")
        manifest = {
            "format": FORMAT,
            "version": VERSION,
            "level": level,
            "dtype": "<i4",
            "vocabulary_size": len(preprocessor),
            "splits": splits,
            "sources": [prepared_folder.source(f) for f in files],
            "valid_sources": [prepared_folder.source(f) for f in valid_files],
            **runs.provenance("none"),
        }
        runs.write_json(partial / "manifest.json", manifest)
    log(f"Prepared {splits['train']['tokens']:,} training and {splits['valid']['tokens']:,} validation "
        f"{level} tokens ({len(preprocessor):,} in the vocabulary) in {output}")  # fmt: skip
    return manifest


def read_manifest(folder):
    """The manifest of a prepared folder, checked: its format, and each token file's size.

    Raises:
        ValueError: not a prepared folder, or a token file missing or of the wrong size.
    """
    folder = Path(folder)
    path = folder / "manifest.json"
    manifest = prepared_folder.read_manifest(folder, FORMAT, VERSION, "rnnlab prepare lm")
    try:
        splits = {name: manifest["splits"][name] for name in ("train", "valid")}
        level, _ = manifest["level"], [(s["file"], int(s["tokens"])) for s in splits.values()]
    except (KeyError, TypeError, ValueError) as error:
        raise ValueError(
            f"{path} is damaged ({type(error).__name__}: {error}). Prepare the text again."
        ) from None
    if level not in LEVELS:
        raise ValueError(f"{path} names level {level!r}. Expected one of {LEVELS}.")
    for split in splits.values():
        file = folder / split["file"]
        expected = 4 * split["tokens"]
        found = file.stat().st_size if file.is_file() else None
        if found != expected:
            raise ValueError(
                f"{file}: expected {expected:,} bytes ({split['tokens']:,} tokens) as {path} says; "
                f"found {'no file' if found is None else f'{found:,} bytes'}. Prepare the text again."
            )
    return manifest


def token_streams(folder):
    """`{'train', 'valid', 'test'}` token ids of a prepared folder, mapped from disk (read-only;
    the validation ids also evaluate, as with `--data`)."""
    manifest = read_manifest(folder)
    streams = {
        name: np.memmap(Path(folder) / split["file"], dtype="<i4", mode="r", shape=(split["tokens"],))
        for name, split in manifest["splits"].items()
    }
    return {"train": streams["train"], "valid": streams["valid"], "test": streams["valid"]}


def prepared_preprocessor(folder):
    read_manifest(folder)
    return load_preprocessor(Path(folder) / "preprocessor.json")


def checksums_match(folder):
    """True when every token file's SHA-256 is the manifest's (reads every byte)."""
    manifest = read_manifest(folder)
    for split in manifest["splits"].values():
        digest = hashlib.sha256()
        with open(Path(folder) / split["file"], "rb") as stream:
            for chunk in iter(lambda: stream.read(1 << 24), b""):
                digest.update(chunk)
        if digest.hexdigest() != split["sha256"]:
            return False
    return True
