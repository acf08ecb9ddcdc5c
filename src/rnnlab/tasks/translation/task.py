"""Translation (article 6.2 and 8.1) on Multi30k or the user's sentence pairs, as a `Task`.

rnnlab train translation --src de --tgt en --output runs/de-en
rnnlab train translation --data corpus.tsv --src pt --tgt en --output runs/pt-en
rnnlab evaluate runs/de-en [--test-data PATH]
rnnlab translate runs/de-en "Ein Mann fährt Fahrrad." [--beam 5] [--plot attention.png]
"""

import functools
import json
import math
import sys
from pathlib import Path

import numpy as np

from rnnlab.backend import add_backend_argument
from rnnlab.data.batches import Batching, Examples
from rnnlab.errors import RunChanged
from rnnlab.losses import SequenceCrossEntropy, TokenCrossEntropy
from rnnlab.models.seq2seq import Translator, build_seq2seq
from rnnlab.optional import require
from rnnlab.plots import attention_heatmap
from rnnlab.tasks.base import Predictor, Task, load_predictor_for
from rnnlab.tasks.translation import prepared, records
from rnnlab.tasks.translation.config import TranslationConfig
from rnnlab.tasks.translation.pairs import load_pairs
from rnnlab.tasks.translation.preprocessor import (
    END_ID,
    START_ID,
    TranslationPreprocessor,
    load_preprocessor,
)
from rnnlab.text.printable import printable


def bleu_and_chrf(hypotheses, references):
    """sacreBLEU on detokenised text: cased BLEU, lowercased BLEU, chrF."""
    sacrebleu = require("sacrebleu", "Translation metrics (BLEU, chrF)")
    return {
        "bleu": sacrebleu.corpus_bleu(hypotheses, [references]).score,
        "bleu_lc": sacrebleu.corpus_bleu(hypotheses, [references], lowercase=True).score,
        "chrf": sacrebleu.corpus_chrf(hypotheses, [references]).score,
    }


def prepared_examples(config, split):
    """The training or validation `Examples` of a `--prepared` folder: subword ids mapped from
    disk (`rnnlab.data.ragged`), read a batch at a time."""
    source, target = prepared.split_tokens(config.prepared, "train" if split == "train" else "valid")
    if split == "train" and config.limit is not None:
        keep = np.arange(min(config.limit, len(source)))
        source, target = source.subset(keep), target.subset(keep)
    lengths = np.maximum(source.lengths(), target.lengths() - 1)
    inputs = {"source": source, "target_in": target.trimmed(tail=1)}
    return Examples(inputs, target.trimmed(head=1), pad_side="back", lengths_of=lengths)


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
        if config.prepared is not None:  # the BPE models `rnnlab prepare translation` trained
            return prepared.prepared_preprocessor(config.prepared)
        sources, targets = load_pairs(config, "train")  # never validation or test text
        return TranslationPreprocessor.train(
            sources, targets, config.vocab_size, config.max_len, shared=config.shared_vocabulary
        )

    def load_preprocessor(self, path):
        return load_preprocessor(path)

    def examples(self, config, split, preprocessor):
        if config.prepared is not None and split != "test":
            return prepared_examples(config, split)
        if config.prepared is not None and config.test_data is None:  # the validation pairs test
            sources, targets = prepared.valid_pairs(config.prepared, config.limit)
        else:
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
            hypotheses = records.translate_all(
                Translator(model, START_ID, END_ID), preprocessor, examples.meta["sources"],
                config.beam_size, config.max_len, config.length_penalty,
            )  # fmt: skip
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
        text = Path(config.data or config.prepared).name if (config.data or config.prepared) else "Multi30k"
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


class TranslationPredictor(Predictor):
    """A translation run loaded once.

    Example:
    >>> TranslationPredictor("runs/de-en").translate(["Ein Mann fährt Fahrrad."])[0].text  # doctest: +SKIP
    'A man is riding a bike.'
    """

    options_cls = records.TranslationOptions
    input_description = "one sentence in the source language"

    def predict(self, sentences, beam_size=1):
        """`{translation, source_tokens, target_tokens, attention, unknown_words}` per sentence;
        `attention` is `(target token, source token)` weights, or None without attention."""
        self.options(beam_size=beam_size)
        return [translation.to_record() for translation in self.translate(sentences, beam_size)]

    line = staticmethod(records.line)
    warnings = staticmethod(records.warnings)

    @functools.cached_property
    def translator(self):
        """The decoder, built once: its compiled steps serve every later call."""
        return Translator(self.model, START_ID, END_ID)

    def translate(self, sentences, beam_size=1):
        """`Translation`s of sentences (greedy, or beam search with `beam_size` > 1)."""
        return records.translations(
            self.translator, self.preprocessor, sentences, beam_size, self.config.max_len,
            self.config.length_penalty,
        )  # fmt: skip


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
