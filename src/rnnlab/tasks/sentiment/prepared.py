"""Labelled texts larger than memory: `rnnlab prepare sentiment --data PATH --output DIR` reads the
texts a few times as a stream (their labels and the held-out test draw, the vocabulary, the
encoding) and writes the token ids as `rnnlab.data.ragged` files that training maps into memory
(`rnnlab train sentiment --prepared DIR`), so that memory stays bounded by a batch whatever the
number of texts (the labels, a few bytes each, are held in memory).

The folder holds `train`, `test` and, with `--valid-data`, `valid` (each a `.tokens` and an
`.offsets` file, and the label ids in `.labels`, little-endian int32), `preprocessor.json` and
`manifest.json` (the settings, counts, each file's SHA-256, the sources). Its ids and labels equal
those `rnnlab train sentiment --data PATH` makes in memory with the same settings: the same
vocabulary (word frequencies or BPE, from the training texts in order), the same stratified test
draw (or `--test-data`), and at training time the same seeded order of the examples.

Example:
    rnnlab prepare sentiment --data reviews.csv --label-field stars --output prepared/reviews
    rnnlab train sentiment --prepared prepared/reviews --output runs/reviews
"""

import array
from pathlib import Path

import numpy as np

from rnnlab import runs
from rnnlab.data import prepared_folder
from rnnlab.data.ragged import RaggedTokens, RaggedWriter
from rnnlab.datasets import labelled_text, storage
from rnnlab.tasks.sentiment import labelled
from rnnlab.tasks.sentiment.fitting import make_preprocessor

FORMAT = "rnnlab-prepared-sentiment"
VERSION = 1
SETTINGS = (  # what the folder fixes
    "text_field", "label_field", "encoding", "test_split", "tokenizer", "max_features", "maxlen",
    "stop_words",
)  # fmt: skip
LABEL_DTYPE = np.dtype("<i4")


def _examples(config, path):
    return labelled_text.iter_labelled(
        path, config.text_field, config.label_field, config.encoding, stream=True
    )


def prepare(config, output, log=print):
    """Writes the prepared folder `output` for `config.data` (see the module's docstring).

    Args:
        config: a `SentimentConfig` with `data`; its `SETTINGS`, `valid_data` and `test_data`
            decide the folder (the order, `limit` and the model are the training run's business).
        output: the folder to write; it must not exist (nothing is overwritten).

    Returns:
        The manifest (also written to `output/manifest.json`).

    Raises:
        DatasetError: unreadable or malformed examples (naming the file and line), one label only,
            or too few examples to hold a test share out.
        ValueError: no `data`, `init_from` (its vocabulary is the language model's), or an
            `output` that exists.
    """
    if config.data is None:
        raise ValueError("rnnlab prepare sentiment reads your labelled texts: expected --data PATH.")
    if config.init_from:
        raise ValueError("--init-from takes the language model's vocabulary: train from --data instead.")
    prepared_folder.check_new(output)
    before = storage.fingerprint(config.data)
    codes, names = _label_codes(config)
    tested = np.zeros(len(codes), bool)
    if config.test_data is None:
        held_out = labelled.stratified_test_indices(codes, config.test_split, labelled.SPLIT_SEED)
        if held_out.size == 0:
            raise storage.DatasetError(
                f"{config.data}: too few examples to hold out {config.test_split:.0%} to test. "
                "Expected more examples per label, or --test-data."
            )
        tested[held_out] = True
    del codes

    def training_texts():
        for number, (text, _) in enumerate(_examples(config, config.data)):
            if number >= len(tested):
                raise prepared_folder.changed(config.data, "texts")
            if not tested[number]:
                yield text

    preprocessor = make_preprocessor(config, texts=training_texts(), names=names)
    splits = {}
    with prepared_folder.writing(output) as partial:
        try:
            splits["train"] = _Split(partial, "train")
            splits["test"] = _Split(partial, "test")
            start = 0
            for chunk in prepared_folder.chunks(_examples(config, config.data)):
                rows = tested[start : start + len(chunk)]
                start += len(chunk)
                if len(rows) != len(chunk):
                    raise prepared_folder.changed(config.data, "texts")
                for name, keep in (("train", ~rows), ("test", rows)):
                    kept = [pair for pair, chosen in zip(chunk, keep, strict=True) if chosen]
                    splits[name].add(kept, preprocessor, config.data)
            if start != len(tested) or storage.fingerprint(config.data) != before:
                raise prepared_folder.changed(config.data, "texts")
            for name, path in (("valid", config.valid_data), ("test", config.test_data)):
                if path is not None:
                    splits[name] = splits.get(name) or _Split(partial, name)
                    for chunk in prepared_folder.chunks(_examples(config, path)):
                        splits[name].add(chunk, preprocessor, path)
        finally:
            for split in splits.values():
                split.close()
        for name, split in splits.items():
            if split.writer.count == 0:
                raise storage.DatasetError(f"{config.valid_data if name == 'valid' else config.test_data} "
                                           "holds no examples.")  # fmt: skip
        preprocessor.save(partial / "preprocessor.json")
        given = {"data": config.data, "valid_data": config.valid_data, "test_data": config.test_data}
        manifest = {
            "format": FORMAT,
            "version": VERSION,
            "settings": {name: getattr(config, name) for name in SETTINGS},
            "labels": list(names),
            "files": {name: split.summary() for name, split in splits.items()},
            "sources": {
                name: prepared_folder.source(path) for name, path in given.items() if path is not None
            },
            **runs.provenance("none"),
        }
        runs.write_json(partial / "manifest.json", manifest)
    counts = {name: split["sequences"] for name, split in manifest["files"].items()}
    log(f"Prepared {', '.join(f'{n:,} {name}' for name, n in counts.items())} texts "
        f"({len(names)} labels, {preprocessor.vocab_size:,} ids) in {output}")  # fmt: skip
    return manifest


def _label_codes(config):
    """`(codes, names)`: each example's label as its rank among the distinct labels sorted as
    strings (the order `labelled.stratified_test_indices` visits string labels in, so the draw is
    the same), read as a stream and held as int32, not as strings; and the label names in
    `labelled_text.label_names` order."""
    seen, first_seen = {}, array.array("i")
    for _, label in _examples(config, config.data):
        first_seen.append(seen.setdefault(label, len(seen)))
        if len(seen) > labelled_text.MAX_LABELS:
            break
    labelled_text.check_labels(config.data, config.label_field, list(seen) if first_seen else [])
    names = tuple(labelled_text.label_names(list(seen)))
    if len(names) < 2:
        raise storage.DatasetError(
            f"{config.data} has one label ({names[0]!r}). Expected two or more labels to tell apart."
        )
    ordered = sorted(seen)
    rank = np.array([ordered.index(label) for label in seen], np.int32)
    return rank[np.frombuffer(first_seen, np.int32)], names


class _Split:
    """One split's token files and label ids."""

    def __init__(self, folder, name):
        self.writer = RaggedWriter(folder, name)
        self.labels = open(Path(folder) / f"{name}.labels", "wb")
        self.count = 0

    def add(self, examples, preprocessor, source):
        if not examples:
            return
        self.writer.add(preprocessor.sequences([text for text, _ in examples]))
        ids = labelled.label_ids([label for _, label in examples], preprocessor.labels, source)
        self.labels.write(ids.astype(LABEL_DTYPE).tobytes())

    def close(self):
        self.writer.close()
        self.labels.close()

    def summary(self):
        return self.writer.summary()


def read_manifest(folder):
    """The manifest of a prepared sentiment folder, checked (its format and settings).

    Raises:
        ValueError: not such a folder, or a damaged manifest.
    """
    manifest = prepared_folder.read_manifest(folder, FORMAT, VERSION, "rnnlab prepare sentiment")
    path = Path(folder) / "manifest.json"
    try:
        settings = {name: manifest["settings"][name] for name in SETTINGS}
        files = {name: manifest["files"][name] for name in manifest["files"]}
        if not {"train", "test"} <= set(files):
            raise KeyError("train" if "train" not in files else "test")
        [int(f["sequences"]) for f in files.values()]
    except (KeyError, TypeError, ValueError) as error:
        raise ValueError(
            f"{path} is damaged ({type(error).__name__}: {error}). Prepare the texts again."
        ) from None
    return {**manifest, "settings": settings, "files": files}


def split_examples(folder, name):
    """`(sequences, label ids)` of split 'train', 'valid' or 'test': a `RaggedTokens` mapped from
    disk, and an int64 array."""
    files = read_manifest(folder)["files"]
    sequences = RaggedTokens.open(folder, name, files[name])
    path = Path(folder) / f"{name}.labels"
    expected = len(sequences) * LABEL_DTYPE.itemsize
    found = path.stat().st_size if path.is_file() else None
    if found != expected:
        found = "no file" if found is None else f"{found:,} bytes"
        raise ValueError(
            f"{path}: expected {expected:,} bytes as the manifest says; found {found}. Prepare again."
        )
    return sequences, np.fromfile(path, LABEL_DTYPE).astype(np.int64)


def has_validation(folder):
    return "valid" in read_manifest(folder)["files"]
