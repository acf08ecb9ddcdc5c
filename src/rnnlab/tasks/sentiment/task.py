"""IMDb sentiment (article sections 5 and 6.1) as a `Task`: its data,
preprocessor, model, metrics, predictor and CLI extras. Training, resume,
evaluation and run folders come from `rnnlab.training`.

rnnlab train sentiment --output runs/article
rnnlab evaluate runs/article
rnnlab predict runs/article "a wonderful film"
"""

import dataclasses
import sys
from pathlib import Path

import numpy as np

from rnnlab.config import option
from rnnlab.data.batches import DEFAULT_BOUNDARIES, Batching, Examples, epoch_batches
from rnnlab.embeddings import embedding_matrix, load_vectors
from rnnlab.errors import InputError, RunChanged
from rnnlab.finetuning import describe_rates, layer_rates, never_trained
from rnnlab.models.classifier import build_classifier
from rnnlab.tasks.base import Predictor, Prepared, Task, predict_padded
from rnnlab.tasks.sentiment import ensemble, labelled, occlusion, prepared, records, word_vectors
from rnnlab.tasks.sentiment.config import SentimentConfig
from rnnlab.tasks.sentiment.fitting import make_preprocessor
from rnnlab.tasks.sentiment.preprocessor import (
    IMDB_LABELS,
    load_preprocessor,
)
from rnnlab.tasks.sentiment.pretrained_lm import copy_into, load_pretrained_lm
from rnnlab.tasks.sentiment.reviews import load_sequences
from rnnlab.tasks.sentiment.states import states_record

SEARCH_SPACE = {
    "embedding_dim": [32, 64, 128],
    "units": [32, 64, 128],
    "learning_rate": (1e-4, 1e-2),  # log-uniform
    "batch_size": [32, 64, 128],
    "dropout": (0.0, 0.5),
    "l2": (1e-7, 1e-3),  # log-uniform
}


def labelled_examples(config, split, preprocessor):
    """`(sequences, label ids)` of a run that does not read IMDb, in a seeded order; training and
    test texts cut to `limit` (validation texts are kept whole, as Multi30k's)."""
    texts, names = labelled.texts_and_labels(config, split)
    source = {"test": config.test_data, "validation": config.valid_data}.get(split) or config.data
    ids = labelled.label_ids(names, preprocessor.labels, source or f"SST ({config.dataset}) {split}")
    order = np.random.default_rng([config.seed, split == "test"]).permutation(len(texts))
    if config.limit is not None and split != "validation":
        order = order[: config.limit]
    return preprocessor.sequences([texts[i] for i in order]), ids[order]


def prepared_examples(config, split):
    """`(sequences, label ids)` of a `--prepared` folder's split, in the seeded order (and cut to
    `limit`) of `labelled_examples`: the sequences a `RaggedTokens` view, read a batch at a time."""
    sequences, ids = prepared.split_examples(config.prepared, "valid" if split == "validation" else split)
    order = np.random.default_rng([config.seed, split == "test"]).permutation(len(ids))
    if config.limit is not None and split != "validation":
        order = order[: config.limit]
    return sequences.subset(order), ids[order]


def predicted_ids(outputs):
    """Label ids from a classifier's outputs: `(n, 1)` sigmoid (the second label when above 0.5,
    as Keras' binary accuracy counts) or `(n, labels)` softmax.

    Example:
    >>> predicted_ids(np.array([[0.2], [0.7]])).tolist(), predicted_ids(np.array([[0.1, 0.6, 0.3]])).tolist()
    ([0, 1], [1])
    """
    if outputs.shape[-1] == 1:
        return (outputs[:, 0] > 0.5).astype(int)
    return outputs.argmax(axis=-1)


def confusion_counts(true, predicted, num_labels):
    """`counts[t][p]`: how many examples of label `t` were predicted as `p`.

    Example:
    >>> confusion_counts(np.array([0, 0, 1, 2]), np.array([0, 1, 1, 1]), 3).tolist()
    [[1, 1, 0], [0, 1, 0], [0, 1, 0]]
    """
    return np.bincount(true * num_labels + predicted, minlength=num_labels**2).reshape(num_labels, num_labels)


def labels_of(preprocessor):
    """A preprocessor's label names (IMDb's for a stand-in without them, e.g. a benchmark's)."""
    return getattr(preprocessor, "labels", IMDB_LABELS)


def source_name(config):
    """What a run reads, for titles: 'IMDb', 'SST-3' or the file's name."""
    if (config.data or config.prepared) is not None:
        return Path(config.data or config.prepared).name
    return "IMDb" if config.dataset == "imdb" else f"SST-{config.dataset[-1]}"


@dataclasses.dataclass
class Start:
    """What a sentiment model starts from: pretrained word vectors (rows of the embedding)
    or a pretrained language model's weights, or neither."""

    embedding_matrix: np.ndarray | None = None
    lm_weights: dict | None = None


class SentimentTask(Task):
    """Positive or negative, from a movie review: Embedding -> RNN -> Dense(sigmoid)."""

    name = "sentiment"
    config_cls = SentimentConfig
    monitor = "val_accuracy"
    monitor_mode = "max"
    evaluation_fields = ("test_data", "text_field", "label_field", "encoding")  # `evaluate RUN --test-data F`
    demo_page = "demo.html"  # the verdict, each word coloured by its contribution

    def make_preprocessor(self, config):
        return make_preprocessor(config)

    def load_preprocessor(self, path):
        return load_preprocessor(path)

    def prepare(self, config, preprocessor):
        """Loads a pretrained language model (its architecture becomes the config's) or
        pretrained vectors (article 7.3; the config takes their dimension)."""
        if config.init_from:
            return self._prepare_from_lm(config, preprocessor)
        if not config.embeddings:
            return Prepared(config)
        vectors = load_vectors(config.embeddings, config.embeddings_format)
        matrix, coverage = embedding_matrix(
            vectors, preprocessor.index_of_words(), preprocessor.vocab_size, config.seed
        )
        if config.embedding_dim != vectors.vector_size:
            print(f"embedding_dim set to {vectors.vector_size}, the dimension of {config.embeddings}")
            config = dataclasses.replace(config, embedding_dim=vectors.vector_size)
        print(
            f"Pretrained embeddings: {coverage:.1%} of the {preprocessor.vocab_size} vocabulary entries found"
        )
        return Prepared(config, Start(embedding_matrix=matrix), {"embedding_coverage": coverage})

    def _prepare_from_lm(self, config, preprocessor):
        lm = load_pretrained_lm(config.init_from)
        wanted = {**lm.architecture(), "tokenizer": "subword", "max_features": preprocessor.vocab_size}
        changed = {key: value for key, value in wanted.items() if getattr(config, key) != value}
        if changed:
            print(
                f"From the language model {config.init_from}: "
                + ", ".join(f"{k}={v}" for k, v in changed.items())
            )
            config = dataclasses.replace(config, **changed)
        return Prepared(config, Start(lm_weights=lm.weights()))

    def holds_out_validation(self, config):
        if config.prepared is not None:  # prepared with --valid-data
            return not prepared.has_validation(config.prepared)
        return not labelled.own_validation(config)  # --valid-data, SST's dev

    def examples(self, config, split, preprocessor):
        if config.prepared is not None and not (split == "test" and config.test_data is not None):
            sequences, labels = prepared_examples(config, split)
        elif labelled.reads_imdb(config, split):
            sequences, labels = load_sequences(config, split, preprocessor)
        else:
            sequences, labels = labelled_examples(config, split, preprocessor)
        # two labels: one sigmoid output (P of the second); more: a softmax over the labels
        labels = labels.astype("float32" if len(preprocessor.labels) == 2 else "int32")
        return Examples(sequences, labels, pad_side="front")

    def batching(self, config):
        if config.bucket:
            return Batching(bucket_boundaries=DEFAULT_BOUNDARIES)
        return Batching(fixed_length=config.maxlen)

    def build_model(self, config, preprocessor, start=None):
        start = start or Start()

        model = build_classifier(
            vocab_size=preprocessor.vocab_size,
            embedding_dim=config.embedding_dim,
            units=config.units,
            cell=config.cell,
            sequence_length=None if config.bucket else config.maxlen,
            num_layers=config.num_layers,
            bidirectional=config.bidirectional,
            mask_zero=config.mask,
            dropout=config.dropout,
            recurrent_dropout=config.recurrent_dropout,
            output_dropout=config.output_dropout,
            l1=config.l1,
            l2=config.l2,
            pooling=config.pooling,
            embedding_matrix=start.embedding_matrix,
            trainable_embeddings=not config.freeze_embeddings,
            fast_layers=config.fast_layers,
            num_classes=len(labels_of(preprocessor)),
        )
        if start.lm_weights is not None:
            copy_into(model, start.lm_weights, config.num_layers)
        return model

    def layer_rates(self, config, model, steps_per_epoch):
        if config.discriminative_lr == 1.0 and not config.unfreeze_every:
            return None
        rates = layer_rates(model, config.discriminative_lr, round(config.unfreeze_every * steps_per_epoch))
        print("Learning rate per layer (ULMFiT's fine-tuning):")
        print(describe_rates(model, rates, steps_per_epoch))
        never = never_trained(model, rates, config.epochs * steps_per_epoch)
        if never:
            print(
                f"rnnlab: warning: with unfreeze_every={config.unfreeze_every} and epochs={config.epochs}, "
                f"{', '.join(never)} never train: they keep their starting weights.",
                file=sys.stderr,
            )
        return rates

    def loss_and_metrics(self, config, preprocessor):
        if len(labels_of(preprocessor)) == 2:
            return "binary_crossentropy", ["accuracy"]
        return "sparse_categorical_crossentropy", ["accuracy"]

    def test_details(self, model, config, examples, preprocessor):
        """The confusion matrix of the test texts (true label by predicted label)."""
        labels = labels_of(preprocessor)
        true, predicted = [], []
        for x, y in epoch_batches(examples, self.batch_order(config, examples), 0):
            outputs = np.asarray(model.predict_on_batch(x))
            true.append(np.asarray(y).astype(int).reshape(-1))
            predicted.append(predicted_ids(outputs))
        counts = confusion_counts(np.concatenate(true), np.concatenate(predicted), len(labels))
        return {"confusion_matrix": {"labels": list(labels), "counts": counts.tolist()}}

    def check_run(self, config, preprocessor, model, folder):
        if preprocessor.maxlen != config.maxlen:
            raise RunChanged(
                folder,
                f"preprocessor.json pads to maxlen={preprocessor.maxlen} but config.toml says "
                f"maxlen={config.maxlen}",
            )
        rows = next((layer.input_dim for layer in model.layers if layer.name == "embedding"), None)
        if rows is not None and preprocessor.vocab_size > rows:
            raise RunChanged(
                folder,
                f"preprocessor.json produces ids up to {preprocessor.vocab_size - 1} but the model's "
                f"embedding has {rows} rows",
            )
        outputs = model.output_shape[-1]
        if outputs != (1 if len(preprocessor.labels) == 2 else len(preprocessor.labels)):
            raise RunChanged(
                folder,
                f"preprocessor.json names {len(preprocessor.labels)} labels but the model has {outputs} "
                "outputs",
            )
        expected_len = None if config.bucket else config.maxlen
        if model.input_shape[1] != expected_len:
            raise RunChanged(
                folder,
                f"the model reads sequences of length {model.input_shape[1]} but config.toml says "
                f"{expected_len}",
            )

    def describe(self, metrics):
        config = metrics.get("config", {})
        imdb_run = config.get("data") is None and config.get("dataset", "imdb") == "imdb"
        return (
            f"Test accuracy {metrics['test_accuracy']:.4f}, test loss {metrics['test_loss']:.4f} "
            f"on {metrics['num_test']} {'reviews' if imdb_run else 'texts'}"
        )

    def plot_title(self, config, num_train):
        return f"{source_name(config)} sentiment, {config.cell}, {num_train} training texts"

    @property
    def predictor_cls(self):
        return SentimentPredictor

    def search_space(self, hp, base):
        return dataclasses.replace(
            base,
            embedding_dim=hp.Choice("embedding_dim", SEARCH_SPACE["embedding_dim"]),
            units=hp.Choice("units", SEARCH_SPACE["units"]),
            learning_rate=hp.Float("learning_rate", *SEARCH_SPACE["learning_rate"], sampling="log"),
            batch_size=hp.Choice("batch_size", SEARCH_SPACE["batch_size"]),
            dropout=hp.Float("dropout", *SEARCH_SPACE["dropout"], step=0.1),
            l2=hp.Float("l2", *SEARCH_SPACE["l2"], sampling="log"),
        )

    # ---- CLI extras: predict --explain/--html, `rnnlab embeddings train`, `rnnlab ensemble` ----
    def add_predict_arguments(self, parser):
        group = parser.add_argument_group("sentiment runs")
        group.add_argument(
            "--html", metavar="FILE", help="with --explain: also write the coloured texts to FILE"
        )

    def report(self, predictor, records, inputs, args):
        if args.html and not args.explain:
            raise ValueError("--html needs --explain.")
        if args.html:
            explanations = [
                occlusion.Explanation.from_record(r, text) for r, text in zip(records, inputs, strict=True)
            ]
            occlusion.to_html(explanations, args.html)
            print(f"Wrote {args.html}", file=sys.stderr)

    def add_commands(self, commands):
        word_vectors.add_command(commands)
        ensemble.add_command(commands)

    def states_lab(self, predictor, output, text=None, chars=None):
        """The review word by word (`rnnlab.tasks.sentiment.states`); `text` is required."""
        if not text:
            raise ValueError("Expected --text: the review to read word by word. Received: none.")
        if len(predictor.preprocessor.labels) != 2:
            raise ValueError(
                "lab states draws P(second label) word by word: it reads two-label runs. Received: a run "
                f"with {len(predictor.preprocessor.labels)} labels {list(predictor.preprocessor.labels)}"
            )
        return states_record(predictor, text, output)


@dataclasses.dataclass
class SentimentOptions:
    """What `SentimentPredictor.predict` (and `rnnlab predict` on a sentiment run) can add."""

    explain: bool = option(
        False, "add each token's contribution to the probability of the predicted label (P(positive) "
        "for two labels; occlusion)",
    )  # fmt: skip


class SentimentPredictor(Predictor):
    """A sentiment run loaded once.

    Example:
    >>> predictor = SentimentPredictor("runs/article")  # doctest: +SKIP
    >>> predictor.predict(["a wonderful film"])[0]["label"]  # doctest: +SKIP
    'positive'
    """

    options_cls = SentimentOptions
    input_description = "a review, in English"
    batches_requests = True

    def predict(self, texts, explain=False):
        """`{label, probability, known_words, probabilities}` per text; with `explain` also
        `explained` (the label), `tokens` and `contributions` (its probability with the token
        minus without it)."""
        self.options(explain=explain)
        found = [dataclasses.asdict(p) for p in self.classify(texts)]
        if explain:
            for record, explanation in zip(found, self.explain(texts), strict=True):
                record.update(explanation.to_record())
        return found

    def line(self, record, source):
        if "contributions" in record:
            return occlusion.to_terminal(occlusion.Explanation.from_record(record, source)) + "\n"
        return records.line(record, source)

    def warnings(self, record, source):
        return records.warnings(record, source)

    def classify(self, texts):
        """`Prediction`s for texts (a list of str)."""
        texts = records.check_texts(texts)
        outputs = predict_padded(self.model, self.preprocessor(texts))
        known = [self.preprocessor.known_tokens(text) for text in texts]
        return records.predictions(outputs, known, self.preprocessor.labels)

    def warm_up(self, max_batch):
        size = 1
        while True:
            self.classify([""] * min(size, max_batch))
            if size >= max_batch:
                break
            size *= 2

    def explain(self, texts):
        """Occlusion explanations (`rnnlab.tasks.sentiment.occlusion`) for texts."""
        texts = list(texts)
        if not texts:
            raise InputError("Expected at least one text to explain. Received: none.")
        return [
            occlusion.explain(self.model, self.preprocessor, text, labels=self.preprocessor.labels)
            for text in texts
        ]


TASK = SentimentTask()


def explain(run_dir, texts, backend=None):
    """Occlusion explanations for texts (see `SentimentPredictor.explain`)."""
    return SentimentPredictor(run_dir, backend).explain(texts)
