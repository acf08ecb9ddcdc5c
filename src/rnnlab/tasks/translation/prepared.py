"""Sentence pairs larger than memory: `rnnlab prepare translation --data PATH --src S --tgt T
--output DIR` reads the pairs a few times as a stream (count them, train the two BPE models,
encode) and writes the subword ids as `rnnlab.data.ragged` files that training maps into memory
(`rnnlab train translation --prepared DIR`), so that memory stays bounded by a batch whatever
the size of the corpus.

The folder holds `train.source`, `train.target`, `valid.source` and `valid.target` (each a
`.tokens` and an `.offsets` file), `valid.jsonl` (the validation pairs as text, for BLEU),
`preprocessor.json` and `manifest.json` (languages, settings, counts, each file's SHA-256 and
the sources). Its ids equal those `rnnlab train translation --data PATH` makes in memory with
the same settings: the same BPE models (trained on the training pairs in order) and the same
seeded validation draw (or `--valid-data`). TSV files and one file per language (plain or `.gz`)
are read as a stream; `--valid-data` (small) is read whole, newstest SGML included. The validation
draw is the folder's (its `--validation-split` and `--seed`); the run's `--seed` then seeds only
the model and the order of the batches.

Example:
    rnnlab prepare translation --data wmt/train.tsv --src de --tgt en --output prepared/wmt
    rnnlab train translation --prepared prepared/wmt --output runs/wmt
"""

import gzip
import itertools
import json
import sys
import zlib
from pathlib import Path

import numpy as np

from rnnlab import runs
from rnnlab.data import prepared_folder
from rnnlab.data.ragged import RaggedTokens, RaggedWriter
from rnnlab.datasets import storage
from rnnlab.tasks.translation.pairs import files_of, read_pairs, validation_indices
from rnnlab.tasks.translation.preprocessor import TranslationPreprocessor, load_preprocessor

FORMAT = "rnnlab-prepared-translation"
VERSION = 1
LARGE_VALIDATION = 20_000  # a drawn validation set larger than this is worth a warning
SETTINGS = ("src", "tgt", "vocab_size", "shared_vocabulary", "max_len")  # fixed by the folder
SPLITS = ("train", "valid")
SIDES = ("source", "target")


def _lines(file):
    """`(number, line)` of a UTF-8 file (plain or `.gz`), split at `\\n` only, without `\\r\\n`,
    a leading byte-order mark dropped: as `rnnlab.datasets.wmt.read_lines` reads it."""
    opener = gzip.open if file.name.endswith(".gz") else open
    try:
        with opener(file, "rb") as stream:
            for number, raw in enumerate(stream, start=1):
                try:
                    line = raw.decode("utf-8")
                except UnicodeDecodeError as error:
                    raise storage.DatasetError(
                        f"{file}, line {number}: not UTF-8 ({error.reason} at byte {error.start} of the "
                        "line). "
                        "Expected UTF-8 text; convert it with e.g. `iconv -t UTF-8`."
                    ) from None
                if number == 1:
                    line = line.removeprefix("\ufeff")
                yield number, line.removesuffix("\n").removesuffix("\r")
    except (OSError, EOFError, zlib.error) as error:
        raise storage.DatasetError(f"Cannot read {file}: {error}. Expected a readable file.") from None


def _pairs(path, src, tgt):
    """`(source, target)` of every pair at a data path (TSV, or one file per language), checked
    as `rnnlab.tasks.translation.pairs.read_pairs` checks them, naming the file and line."""
    files = files_of(path, src, tgt)
    if any(file.name.lower().endswith((".sgm", ".sgm.gz")) for file in files):
        raise storage.DatasetError(
            f"{path}: rnnlab prepare reads TSV files or one plain file per language, not SGML. "
            "Newstest sets are small: pass them as --valid-data here, or --test-data when training."
        )
    if len(files) == 1:
        for number, line in _lines(files[0]):
            fields = line.split("\t")
            if len(fields) < 2:
                raise storage.DatasetError(
                    f"{files[0]}, line {number}: expected at least 2 tab-separated columns (source, target). "
                    f"Received {len(fields)}: {line[:80]!r}"
                )
            yield _checked(fields[0], fields[1], files[0], files[0], number)
        return
    sources, targets = _lines(files[0]), _lines(files[1])
    for left, right in itertools.zip_longest(sources, targets):
        if left is None or right is None:
            longer, number = (files[0], left[0]) if right is None else (files[1], right[0])
            raise storage.DatasetError(
                f"Parallel files differ in length: {longer} has a line {number}, the other file ends "
                "before it. Expected the same number of lines, line i of one translating line i of the other."
            )
        yield _checked(left[1], right[1], files[0], files[1], left[0])


def _checked(source, target, source_file, target_file, number):
    for side, sentence, file in (("source", source, source_file), ("target", target, target_file)):
        if not sentence.strip():
            raise storage.DatasetError(
                f"{file}, line {number}: an empty {side} sentence. Expected text on every line "
                "(remove the pair)."
            )
    return source, target


def prepare(config, output, log=print):
    """Writes the prepared folder `output` for `config.data` (see the module's docstring).

    Args:
        config: a `TranslationConfig` with `data`; its `src`, `tgt`, `vocab_size`,
            `shared_vocabulary`, `max_len`, `valid_data`, `validation_split` and `seed` decide the
            folder (`limit` and the model's settings are the training run's business).
        output: the folder to write; it must not exist (nothing is overwritten).

    Returns:
        The manifest (also written to `output/manifest.json`).

    Raises:
        DatasetError: unreadable or malformed pairs (naming the file and line), or too few.
        ValueError: no `data`, or an `output` that exists.
    """
    if config.data is None:
        raise ValueError("rnnlab prepare translation reads your pairs: expected --data PATH.")
    prepared_folder.check_new(output)
    src, tgt = config.src, config.tgt
    sources_before = [storage.fingerprint(f) for f in files_of(config.data, src, tgt)]
    count = sum(1 for _ in _pairs(config.data, src, tgt))
    if count == 0:
        raise storage.DatasetError(f"{config.data} holds no sentence pairs. Expected at least one.")
    held_out = np.zeros(count, bool)
    if config.valid_data is None:
        held_out[validation_indices(count, config.validation_split, config.seed)] = True
        if held_out.sum() > LARGE_VALIDATION:
            share = f"{int(held_out.sum()):,} pairs validate (a {config.validation_split:.0%} draw)"
            print(
                f"rnnlab: warning: {share}: each epoch evaluates them all, and without --test-data the "
                "test decodes them. Expected fewer: --valid-data or a smaller --validation-split.",
                file=sys.stderr,
            )
    given_valid = read_pairs(config.valid_data, src, tgt) if config.valid_data else None  # small; SGML too

    def training(side):
        for number, pair in enumerate(_pairs(config.data, src, tgt)):
            if number >= count:
                raise prepared_folder.changed(config.data, "pairs")
            if not held_out[number]:
                yield pair[side]

    preprocessor = TranslationPreprocessor.train(
        training(0), training(1), config.vocab_size, config.max_len, shared=config.shared_vocabulary
    )
    writers = {}
    with prepared_folder.writing(output) as partial:
        try:
            for split in SPLITS:
                for side in SIDES:
                    writers[split, side] = RaggedWriter(partial, f"{split}.{side}")
            with open(partial / "valid.jsonl", "w", encoding="utf-8") as valid_text:
                start = 0
                for chunk in prepared_folder.chunks(_pairs(config.data, src, tgt)):
                    rows = held_out[start : start + len(chunk)]
                    start += len(chunk)
                    if len(rows) != len(chunk):
                        raise prepared_folder.changed(config.data, "pairs")
                    for split, keep in (("train", ~rows), ("valid", rows)):
                        kept = [pair for pair, chosen in zip(chunk, keep, strict=True) if chosen]
                        _add(writers, split, kept, preprocessor, valid_text if split == "valid" else None)
                if (
                    start != count
                    or [storage.fingerprint(f) for f in files_of(config.data, src, tgt)] != sources_before
                ):
                    raise prepared_folder.changed(config.data, "pairs")
                if given_valid is not None:
                    for chunk in prepared_folder.chunks(zip(*given_valid, strict=True)):
                        _add(writers, "valid", chunk, preprocessor, valid_text)
        finally:
            for writer in writers.values():
                writer.close()
        preprocessor.save(partial / "preprocessor.json")
        manifest = {
            "format": FORMAT,
            "version": VERSION,
            "settings": {name: getattr(config, name) for name in SETTINGS},
            "validation": None
            if config.valid_data
            else {"split": config.validation_split, "seed": config.seed},
            "files": {f"{split}.{side}": writer.summary() for (split, side), writer in writers.items()},
            "sources": [prepared_folder.source(f) for f in files_of(config.data, src, tgt)],
            "valid_sources": [prepared_folder.source(f) for f in files_of(config.valid_data, src, tgt)]
            if config.valid_data
            else [],
            **runs.provenance("none"),
        }
        runs.write_json(partial / "manifest.json", manifest)
    counts = [manifest["files"][f"{split}.source"]["sequences"] for split in SPLITS]
    log(f"Prepared {counts[0]:,} training and {counts[1]:,} validation pairs ({preprocessor.source_vocab:,} "
        f"and {preprocessor.target_vocab:,} subwords) in {output}")  # fmt: skip
    return manifest


def _add(writers, split, pairs, preprocessor, text):
    if not pairs:
        return
    sources, targets = [p[0] for p in pairs], [p[1] for p in pairs]
    writers[split, "source"].add(preprocessor.encode_source(sources))
    writers[split, "target"].add(preprocessor.encode_target(targets))
    if text is not None:
        text.writelines(json.dumps(pair, ensure_ascii=False) + "\n" for pair in pairs)


def read_manifest(folder):
    """The manifest of a prepared translation folder, checked (its format and settings).

    Raises:
        ValueError: not such a folder, or a damaged manifest.
    """
    manifest = prepared_folder.read_manifest(folder, FORMAT, VERSION, "rnnlab prepare translation")
    path = Path(folder) / "manifest.json"
    try:
        settings = {name: manifest["settings"][name] for name in SETTINGS}
        files = {
            f"{split}.{side}": manifest["files"][f"{split}.{side}"] for split in SPLITS for side in SIDES
        }
        [(int(f["sequences"]), int(f["tokens"])) for f in files.values()]
    except (KeyError, TypeError, ValueError) as error:
        raise ValueError(
            f"{path} is damaged ({type(error).__name__}: {error}). Prepare the pairs again."
        ) from None
    return {**manifest, "settings": settings, "files": files}


def prepared_preprocessor(folder):
    read_manifest(folder)
    return load_preprocessor(Path(folder) / "preprocessor.json")


def split_tokens(folder, split):
    """`(source, target)` `RaggedTokens` of split 'train' or 'valid', mapped from disk; each
    target is `[START] ids [END]`."""
    files = read_manifest(folder)["files"]
    return tuple(RaggedTokens.open(folder, f"{split}.{side}", files[f"{split}.{side}"]) for side in SIDES)


def valid_pairs(folder, limit=None):
    """`(sources, targets)`: the first `limit` (None: all) validation pairs as text (the test
    pairs without --test-data), read a line at a time."""
    path = Path(folder) / "valid.jsonl"
    sources, targets = [], []
    try:
        with open(path, encoding="utf-8", newline="\n") as stream:  # lines end at \n only (U+2028 is text)
            for number, line in enumerate(stream, start=1):
                if limit is not None and number > limit:
                    break
                try:
                    source, target = json.loads(line)
                except (ValueError, TypeError) as error:
                    raise ValueError(f"{path}, line {number}: {error}. Prepare the pairs again.") from None
                sources.append(source)
                targets.append(target)
    except (OSError, UnicodeDecodeError) as error:
        raise ValueError(f"Cannot read {path}: {error}. Prepare again, or pass --test-data.") from None
    return sources, targets
