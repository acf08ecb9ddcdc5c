"""Translation (article 6.2 and 8.1) on Multi30k or the user's sentence pairs, as a `Task`.

rnnlab train translation --src de --tgt en --output runs/de-en
rnnlab train translation --data corpus.tsv --src pt --tgt en --output runs/pt-en
rnnlab evaluate runs/de-en [--test-data PATH]
rnnlab translate runs/de-en "Ein Mann fährt Fahrrad." [--beam 5] [--plot attention.png]
"""

import dataclasses
import functools
import json
import math
import sys
from pathlib import Path

import numpy as np

from rnnlab.backend import add_backend_argument
from rnnlab.config import option
from rnnlab.data.batches import Batching, Examples, pad, padded_length
from rnnlab.errors import InputError, RunChanged
from rnnlab.losses import SequenceCrossEntropy, TokenCrossEntropy
from rnnlab.models.seq2seq import Translator, build_seq2seq
from rnnlab.optional import require
from rnnlab.plots import attention_heatmap
from rnnlab.tasks.base import Predictor, Task, load_predictor_for
from rnnlab.tasks.translation.config import TranslationConfig
from rnnlab.tasks.translation.pairs import load_pairs
from rnnlab.tasks.translation.preprocessor import (
    END_ID,
    MAX_CHARS,
    START_ID,
    UNK_ID,
    TranslationPreprocessor,
    load_preprocessor,
)
from rnnlab.text.printable import printable

SOURCE_BUCKET = 8  # sources are padded to a multiple of this many tokens (to 64), then geometrically
DECODE_BATCH = 128
MAX_BEAM = 64


def bleu_and_chrf(hypotheses, references):
    """sacreBLEU on detokenised text: cased BLEU, lowercased BLEU, chrF."""
    sacrebleu = require("sacrebleu", "Translation metrics (BLEU, chrF)")
    return {
        "bleu": sacrebleu.corpus_bleu(hypotheses, [references]).score,
        "bleu_lc": sacrebleu.corpus_bleu(hypotheses, [references], lowercase=True).score,
        "chrf": sacrebleu.corpus_chrf(hypotheses, [references]).score,
    }


class TranslationTask(Task):
    """Translate a sentence: encoder-decoder RNN, optionally with attention."""

    name = "translation"
    config_cls = TranslationConfig
    monitor = "val_loss"
    monitor_mode = "min"
    validation_from_train = False  # Multi30k's own `val`; for --data, `pairs.load_pairs` draws it
    evaluation_fields = ("beam_size", "length_penalty", "test_data")  # `rnnlab evaluate RUN --beam-size 5`
    demo_page = "demo.html"  # the translation and its attention heatmap

    def make_preprocessor(self, config):
        sources, targets = load_pairs(config, "train")  # never validation or test text
        return TranslationPreprocessor.train(
            sources, targets, config.vocab_size, config.max_len, shared=config.shared_vocabulary
        )

    def load_preprocessor(self, path):
        return load_preprocessor(path)

    def examples(self, config, split, preprocessor):
        sources, targets = load_pairs(config, "val" if split == "validation" else split)
        encoded = preprocessor.encode_target(targets)
        inputs = {"source": preprocessor.encode_source(sources), "target_in": [t[:-1] for t in encoded]}
        meta = {"sources": sources, "references": targets}
        # Buckets by the longer side, so source and target of a batch share one padded length.
        lengths = np.maximum([len(s) for s in inputs["source"]], [len(t) for t in inputs["target_in"]])
        return Examples(inputs, [t[1:] for t in encoded], pad_side="back", meta=meta, lengths_of=lengths)

    def batching(self, config):
        if config.bucket:
            # Sentences are short (Multi30k: ~14 subwords): fine buckets waste little on padding;
            # each (bucket, batch size) is compiled once.
            return Batching(bucket_boundaries=(8, 12, 16, 20, 24, 28, 32, 40, 48, 64, 96, 128, 256))
        return Batching(fixed_length=config.max_len)

    def build_model(self, config, preprocessor, start=None):
        return build_seq2seq(
            preprocessor.source_vocab,
            preprocessor.target_vocab,
            embedding_dim=config.embedding_dim,
            units=config.units,
            cell=config.cell,
            attention=config.attention,
            bidirectional=config.bidirectional,
            encoder_layers=config.encoder_layers,
            dropout=config.dropout,
            output_dropout=config.output_dropout,
            embedding_dropout=config.embedding_dropout,
            fast_layers=config.fast_layers,
        )

    def loss_and_metrics(self, config, preprocessor):
        loss = SequenceCrossEntropy(label_smoothing=config.label_smoothing)
        # The smoothed loss is not the model's cross-entropy: perplexity comes from this metric.
        return loss, [TokenCrossEntropy()]

    def evaluate_examples(self, model, config, examples, preprocessor=None):
        metrics = super().evaluate_examples(model, config, examples)
        # Runs from before label smoothing have no cross_entropy metric: their loss is it.
        metrics["perplexity"] = math.exp(min(metrics.get("cross_entropy", metrics["loss"]), 50.0))
        if preprocessor is not None:
            hypotheses = translate_all(
                Translator(model, START_ID, END_ID),
                preprocessor,
                examples.meta["sources"],
                config.beam_size,
                config,
            )
            metrics.update(bleu_and_chrf(hypotheses, examples.meta["references"]))
        return metrics

    def summary_metrics(self, config, history, best_epoch):
        """`val_perplexity` of the kept weights (the best epoch's with restore_best)."""
        values = history.get("val_cross_entropy")
        if not values:
            return {}
        epoch = best_epoch if (config.restore_best and best_epoch) else len(values)
        return {"val_perplexity": math.exp(min(values[epoch - 1], 50.0))}

    def check_run(self, config, preprocessor, model, folder):
        expected = (preprocessor.source_vocab, preprocessor.target_vocab)
        found = (model.get_layer("source_embedding").input_dim, model.get_layer("target_embedding").input_dim)
        if found != expected:
            raise RunChanged(
                folder,
                f"preprocessor.json has vocabularies {expected} but the model's embeddings have {found} rows",
            )

    def describe(self, metrics):
        return (
            f"Test BLEU {metrics['test_bleu']:.2f} (lowercased {metrics['test_bleu_lc']:.2f}), "
            f"chrF {metrics['test_chrf']:.2f}, perplexity {metrics['test_perplexity']:.2f} "
            f"on {metrics['num_test']} sentences"
        )

    def plot_title(self, config, num_train):
        text = "Multi30k" if config.data is None else Path(config.data).name
        return f"{text} {config.src}->{config.tgt}, {config.cell}, attention {config.attention}"

    @property
    def predictor_cls(self):
        return TranslationPredictor

    def add_commands(self, commands):
        parser = commands.add_parser("translate", help="translate sentences with a translation run")
        parser.add_argument("run_dir", metavar="RUN_DIR", help="folder written by `rnnlab train translation`")
        parser.add_argument(
            "sentences", nargs="*", metavar="SENTENCE", help="sentences; none reads one per line from stdin"
        )
        parser.add_argument("--beam", type=int, default=1, help="beam width (default: 1, greedy)")
        parser.add_argument("--json", action="store_true", help="one JSON record per sentence")
        parser.add_argument("--plot", metavar="FILE", help="attention heatmap PNG of the (first) sentence")
        add_backend_argument(parser)
        parser.set_defaults(func=translate_command)


def padded_source_length(steps):
    """The length a source of `steps` tokens is padded to (padding is masked): see
    `padded_length`. A server compiles a few dozen shapes, not one per length."""
    return padded_length(steps, SOURCE_BUCKET)


def translate_all(translator, preprocessor, sentences, beam_size, config, with_attention=False):
    """Translations of many sentences with a `Translator`, decoded in batches; with
    `with_attention` also the attention weights and token ids."""
    encoded = preprocessor.encode_source(sentences)
    order = np.argsort([len(s) for s in encoded], kind="stable")  # similar lengths per batch
    texts, details = [None] * len(sentences), [None] * len(sentences)
    for start in range(0, len(order), DECODE_BATCH):
        rows = order[start : start + DECODE_BATCH]
        longest = max(1, max(len(encoded[i]) for i in rows))
        source = pad([encoded[i] for i in rows], padded_source_length(longest), side="back")
        max_steps = min(2 * longest + 10, config.max_len + 10)
        if beam_size > 1:
            ids, attention = translator.beam(source, max_steps, beam_size, config.length_penalty)
        else:
            ids, attention = translator.greedy(source, max_steps)
        for row, hyp, weights in zip(rows, ids, attention, strict=True):
            texts[row] = preprocessor.decode_target(hyp)
            if weights is not None:
                weights = np.asarray(weights)[:, : len(encoded[row])]  # not the padding
            details[row] = (hyp, weights, encoded[row])
    return (texts, details) if with_attention else texts


@dataclasses.dataclass
class Translation:
    """One sentence's translation.

    Attributes:
        text: the translation, detokenised.
        target_tokens, source_tokens: subword pieces (for plots).
        attention: `(target_steps, source_steps)` weights, or None without attention.
        unknown: source pieces never seen in training (`[UNK]`).
    """

    text: str
    target_tokens: list
    source_tokens: list
    attention: object
    unknown: int

    def to_record(self):
        attention = None
        if self.attention is not None and len(self.target_tokens):
            attention = np.round(np.asarray(self.attention, dtype=float), 5).tolist()
        return {
            "translation": self.text,
            "source_tokens": list(self.source_tokens),
            "target_tokens": list(self.target_tokens),
            "attention": attention,
            "unknown_words": self.unknown,
        }


@dataclasses.dataclass
class TranslationOptions:
    """What `TranslationPredictor.predict` (and `rnnlab predict` on a translation run) takes."""

    beam_size: int = option(1, "beam width (1: greedy)", min=1, max=MAX_BEAM)


class TranslationPredictor(Predictor):
    """A translation run loaded once.

    Example:
    >>> TranslationPredictor("runs/de-en").translate(["Ein Mann fährt Fahrrad."])[0].text  # doctest: +SKIP
    'A man is riding a bike.'
    """

    options_cls = TranslationOptions
    input_description = "one sentence in the source language"

    def predict(self, sentences, beam_size=1):
        """`{translation, source_tokens, target_tokens, attention, unknown_words}` per sentence;
        `attention` is `(target token, source token)` weights, or None without attention."""
        self.options(beam_size=beam_size)
        return [translation.to_record() for translation in self.translate(sentences, beam_size)]

    def line(self, record, source):
        return f"{printable(record['translation'])}\t{printable(source)}"

    def warnings(self, record, source):
        if not record["unknown_words"]:
            return []
        return [
            f"{record['unknown_words']} piece(s) of {source[:40]!r} were never seen in training "
            "(unknown characters?)"
        ]

    @functools.cached_property
    def translator(self):
        """The decoder, built once: its compiled steps serve every later call."""
        return Translator(self.model, START_ID, END_ID)

    def translate(self, sentences, beam_size=1):
        sentences = list(sentences)
        if not sentences:
            raise InputError("Expected at least one sentence to translate. Received: none.")
        for sentence in sentences:
            if not isinstance(sentence, str) or not sentence.strip():
                raise InputError(f"Expected a non-empty sentence. Received: {sentence!r}")
            if len(sentence) > MAX_CHARS:
                raise InputError(
                    f"Expected a sentence of at most {MAX_CHARS} characters. Received: {len(sentence)}; "
                    "split long texts into sentences."
                )
        if not isinstance(beam_size, int) or beam_size < 1:
            raise InputError(f"Expected beam_size >= 1. Received: {beam_size!r}")
        texts, details = translate_all(
            self.translator, self.preprocessor, sentences, beam_size, self.config, with_attention=True
        )
        results = []
        for sentence, text, (ids, weights, source_ids) in zip(sentences, texts, details, strict=True):
            results.append(
                Translation(
                    text,
                    self.preprocessor.target_tokens(ids),
                    self.preprocessor.source_tokens(sentence)[: len(source_ids)],
                    weights,
                    int(np.count_nonzero(np.asarray(source_ids) == UNK_ID)),
                )
            )
        return results


def translate_command(args):
    """`rnnlab translate RUN SENTENCE...`: `rnnlab predict` for translation runs, with `--beam` and
    an attention heatmap (`--plot`)."""
    if not args.sentences and sys.stdin.isatty():
        raise ValueError("Expected sentences as arguments or one per line on stdin. Received: none.")
    sentences = args.sentences or [line.rstrip("\n") for line in sys.stdin if line.strip()]
    predictor = load_predictor_for(args.run_dir, "translation", "translate", backend=args.backend)
    predictor.options(beam_size=args.beam)
    results = predictor.translate(sentences, beam_size=args.beam)
    for sentence, result in zip(sentences, results, strict=True):
        record = result.to_record()
        print(json.dumps(record, ensure_ascii=False) if args.json else printable(result.text))
        for warning in predictor.warnings(record, sentence):
            print(f"rnnlab: warning: {warning}", file=sys.stderr)
    if args.plot:
        first = results[0]
        if first.attention is None and first.target_tokens:
            raise ValueError("--plot needs a run trained with attention (this run has --attention none).")
        if not first.target_tokens:
            raise ValueError("The translation is empty: there is no attention to plot.")
        attention_heatmap(
            first.attention, first.source_tokens, first.target_tokens, args.plot, title=first.text
        )
        print(f"Wrote {args.plot}", file=sys.stderr)
    return 0


TASK = TranslationTask()
