"""Language modelling (article 3.2, 7.2) as a `Task`.

rnnlab train lm --corpus tinyshakespeare --output runs/shakespeare
rnnlab evaluate runs/shakespeare
rnnlab generate runs/shakespeare --prompt "ROMEO:" --length 500 --temperature 0.8 [--top-k 40] [--seed 1]

Training reads non-overlapping windows of `seq_len` tokens and predicts the
next token at every step; truncated BPTT runs over each window. By default the
windows are independent (each starts from zero states; shuffled). With
`--stateful` the text is read as `batch_size` parallel streams in order and
each layer's final states start the next window (article 3.2); states are
reset at the start of every epoch and of every evaluation. `val_loss` is the
exact cross-entropy in nats per token over every target of the validation
text; `val_bpc` (characters) or `val_perplexity` (words, subwords) follow from it.

IMDb: the 25,000 training and 50,000 unlabelled reviews (never the test
reviews), BPE subwords; a fixed (seed 0) set of 2,000 of them validates.
"""

import dataclasses
import functools
import math
import sys
from pathlib import Path

import keras
import numpy as np
from keras import ops

from rnnlab import config as configs
from rnnlab import runs
from rnnlab.backend import add_backend_argument
from rnnlab.data.batches import Batching, Examples
from rnnlab.datasets import imdb, storage, tinyshakespeare, user_text, word_corpora
from rnnlab.errors import RunChanged
from rnnlab.lab.states import DEFAULT_CHARS
from rnnlab.losses import SequenceCrossEntropy, TokenCrossEntropy
from rnnlab.models.language_model import Generator, build_language_model
from rnnlab.tasks.base import Predictor, Prepared, Task, load_predictor_for, load_run_model
from rnnlab.tasks.lm import generation, prepared
from rnnlab.tasks.lm.config import LMConfig
from rnnlab.tasks.lm.generation import GenerateOptions
from rnnlab.tasks.lm.preprocessor import LMPreprocessor, load_preprocessor, stream_windows, windows
from rnnlab.tasks.lm.states import states_record

IMDB_VALIDATION_REVIEWS = 2_000
VALIDATION_FRACTION = 0.1  # of the user's text, without --valid-data


@functools.lru_cache(maxsize=1)  # a run asks for the streams several times; decoding takes seconds
def imdb_streams():
    """`{'train', 'valid', 'test'}` lists of reviews: IMDb's training and unlabelled
    reviews, 2,000 of them (a fixed draw) held out to validate and evaluate. Shared
    between calls: do not modify."""
    reviews = imdb.load_texts("train")[0] + imdb.load_texts("unsup")[0]
    order = np.random.default_rng(0).permutation(len(reviews))
    held_out = [reviews[i] for i in order[:IMDB_VALIDATION_REVIEWS]]
    return {
        "train": [reviews[i] for i in order[IMDB_VALIDATION_REVIEWS:]],
        "valid": held_out,
        "test": held_out,
    }


def tokens_per_word(documents, preprocessor):
    """Predicted subword tokens per word of `documents`, to turn nats per token into word
    perplexity: words are the whitespace-separated ones plus one per document boundary
    (as PTB counts `<eos>`), tokens the subwords plus the `[START]` of each document."""
    targets = len(preprocessor.encode(documents)) - 1
    words = sum(len(document.split()) for document in documents) + len(documents) - 1
    return targets / words


def first_words(reviews, limit):
    """The first reviews holding `limit` whitespace-separated words (the last one cut)."""
    kept, words = [], 0
    for review in reviews:
        tokens = review.split()
        if words + len(tokens) >= limit:
            kept.append(" ".join(tokens[: limit - words]))
            break
        kept.append(review)
        words += len(tokens)
    return kept


def _words(text):
    tokens = []
    for line in text.split("\n"):
        tokens.extend(line.split())
        tokens.append(word_corpora.EOS)
    if tokens[-1:] == [word_corpora.EOS] and text.endswith("\n"):
        tokens.pop()  # the line break that ends the file ends its last line, not another one
    return tokens


def _documents(text):
    return [line.strip() for line in text.split("\n") if line.strip()]


PIECES = {"char": lambda text: text, "word": _words, "subword": _documents}  # text -> a stream


@functools.lru_cache(maxsize=4)  # a run asks for the streams several times
def _cached_stream(path, level, version):
    return PIECES[level](user_text.read_text(path))


def text_stream(path, level):
    """The user's text at `path` (a file or a folder) as a stream of `level` tokens: the text
    (characters), its words (each line's space-separated words, then `<eos>`, as PTB) or its
    documents (one a non-blank line, for subwords). Read again only when the files change;
    shared between calls: do not modify."""
    files = user_text.text_files(path)  # a clear error for a wrong path before anything else
    return _cached_stream(path, level, tuple(storage.fingerprint(file) for file in files))


def user_streams(data, valid_data, level):
    """`{'train', 'valid', 'test'}` of the user's text (`LMConfig.data`, see `text_stream`).
    Without `valid_data`, the last tenth validates; the validation text also evaluates."""
    train = text_stream(data, level)
    if valid_data is None:
        if len(train) < 2:
            unit = "line" if level == "subword" else f"{level} token"
            raise storage.DatasetError(
                f"{data} holds only {len(train)} {unit}: expected enough to keep a tenth apart."
            )
        train, valid = user_text.split_tail(train, VALIDATION_FRACTION)
    else:
        valid = text_stream(valid_data, level)
    return {"train": train, "valid": valid, "test": valid}


def load_streams(config):
    """`{'train', 'valid', 'test'}` texts (characters) or token lists (words), cut to `limit`.

    Tiny Shakespeare has no test text: its validation text (the last 10%) is also the
    evaluation text, as in nanoGPT. So has the user's text (`data`). `test_data` replaces
    the evaluation text of either (see `load_split`)."""
    level = config.token_level
    if config.prepared is not None:
        streams = prepared.token_streams(config.prepared)
    elif config.data is not None:
        streams = user_streams(config.data, config.valid_data, level)
    elif config.corpus == "tinyshakespeare":
        train, valid = tinyshakespeare.load_splits()
        streams = {"train": train, "valid": valid, "test": valid}
    elif config.corpus == "imdb":
        streams = imdb_streams()
    else:
        streams = word_corpora.load_corpus(config.corpus)
    if config.test_data is not None:
        streams = {**streams, "test": text_stream(config.test_data, level)}
    return {name: _cut(config, stream) for name, stream in streams.items()}


def load_split(config, name):
    """One of `load_streams`' streams; the test stream of `test_data` is read alone (the
    training text need not be there any more)."""
    if name == "test" and config.test_data is not None:
        return _cut(config, text_stream(config.test_data, config.token_level))
    return load_streams(config)[name]


def _cut(config, stream):
    """`stream` cut to `config.limit` tokens (subwords: the documents holding that many words)."""
    if config.limit is None:
        return stream
    if config.token_level == "subword":
        return first_words(stream, config.limit)
    return stream[: config.limit]


def _starting_run(config):
    """`(folder, config, preprocessor)` of the lm run `config.init_from`, checked."""
    folder, info = runs.open_run(config.init_from)
    if info.get("task") != "lm":
        raise ValueError(
            f"--init-from {config.init_from}: expected a language-model run. Received: a "
            f"{info.get('task')!r} run"
        )
    start = configs.resolve(LMConfig, folder / "config.toml")
    preprocessor = load_preprocessor(folder / "preprocessor.json")
    if preprocessor.level != config.token_level and not (config.data and config.level is None):
        raise ValueError(
            f"--init-from {config.init_from}: a {preprocessor.level}-level model cannot start a "
            f"{config.token_level}-level run (of {config.text_name!r}). Expected the same kind of tokens."
        )
    return folder, start, preprocessor


def _load_weights(model, weights, source):
    """Sets each layer's trainable weights to the starting run's (states and dropout seeds stay new)."""
    for layer in model.layers:
        if not layer.trainable_weights:
            continue
        if layer.name not in weights:
            raise ValueError(f"--init-from {source}: its model has no layer {layer.name!r}.")
        for variable, value in zip(layer.trainable_weights, weights[layer.name], strict=True):
            if tuple(variable.shape) != value.shape:
                raise ValueError(
                    f"--init-from {source}: {variable.path} has shape {value.shape} there. "
                    f"Expected {tuple(variable.shape)}."
                )
            variable.assign(value)


class LMTask(Task):
    """Predict the next character or word; generate text."""

    name = "lm"
    config_cls = LMConfig
    validation_from_train = False  # each corpus's own validation text
    evaluation_fields = ("test_data",)  # `rnnlab evaluate RUN --test-data other.txt`
    monitor = "val_cross_entropy"  # exact per target token, also over a padded last window
    monitor_mode = "min"
    demo_page = "demo.html"  # generation from a prompt

    def make_preprocessor(self, config):
        if config.init_from:  # the starting model's vocabulary, unchanged
            return _starting_run(config)[2]
        if config.prepared:  # the vocabulary `rnnlab prepare lm` fitted
            return prepared.prepared_preprocessor(config.prepared)
        train = load_streams(config)["train"]  # the vocabulary sees training text only
        return LMPreprocessor.fit(train, config.token_level, max_size=config.max_vocab)

    def prepare(self, config, preprocessor):
        """With `init_from`: the architecture becomes the starting run's, and its weights are loaded."""
        if not config.init_from:
            return Prepared(config)

        folder, start, start_preprocessor = _starting_run(config)
        keys = ("cell", "embedding_dim", "units", "num_layers", "tie_weights", "max_vocab")
        changed = {key: getattr(start, key) for key in keys if getattr(config, key) != getattr(start, key)}
        if config.data and config.level is None:  # the user's text, read as the starting run's tokens
            changed["level"] = start_preprocessor.level
        if changed:
            print(f"From {config.init_from}: " + ", ".join(f"{k}={v}" for k, v in changed.items()))
            config = dataclasses.replace(config, **changed)
        model = load_run_model(folder)
        weights = {
            layer.name: [np.array(ops.convert_to_numpy(w)) for w in layer.trainable_weights]
            for layer in model.layers
            if layer.trainable_weights
        }
        return Prepared(config, start=weights)

    def load_preprocessor(self, path):
        return load_preprocessor(path)

    def _examples(self, config, stream, preprocessor, split="train"):
        ids = stream if isinstance(stream, np.ndarray) else preprocessor.encode(stream)  # prepared: ids
        try:
            if config.stateful:
                inputs, targets = stream_windows(ids, config.batch_size, config.seq_len)
            else:
                inputs, targets = windows(ids, config.seq_len)
        except ValueError as error:
            if config.data is None and config.test_data is None and config.prepared is None:
                raise
            source = config.test_data if split == "test" and config.test_data else config.text_name
            raise storage.DatasetError(
                f"The {split} text of {source} is too short: {error}. Expected more text (or --valid-data), "
                "a smaller --seq-len, or --no-stateful."
            ) from None
        return Examples(inputs, targets, pad_side="back")

    def batching(self, config):
        # stateful: batch k holds windows k of every stream, in order
        return Batching(fixed_length=config.seq_len, shuffle=not config.stateful)

    def callbacks(self, config, model, start_step=0):
        if not config.stateful:
            return []

        def reset(*_):
            reset_states(model)

        # Zero states at the start of every epoch (not when resuming within one: the checkpoint
        # holds the states reached) and before and after every evaluation.
        return [
            keras.callbacks.LambdaCallback(
                on_epoch_begin=None if start_step else reset, on_test_begin=reset, on_test_end=reset
            )
        ]

    def examples(self, config, split, preprocessor):
        stream = load_split(config, "valid" if split == "validation" else split)
        return self._examples(config, stream, preprocessor, split)

    def build_model(self, config, preprocessor, start=None):
        """`start`: the starting run's trainable weights by layer name (`init_from`), or None."""
        model = build_language_model(
            len(preprocessor),
            embedding_dim=config.embedding_dim,
            units=config.units,
            cell=config.cell,
            num_layers=config.num_layers,
            dropout=config.dropout,
            tie_weights=config.tie_weights,
            fast_layers=config.fast_layers,
            stateful_batch_size=config.batch_size if config.stateful else None,
        )
        if start is not None:
            _load_weights(model, start, config.init_from)
        return model

    def loss_and_metrics(self, config, preprocessor):
        # The loss is each batch's mean; the metric sums over every target token (exact).
        return SequenceCrossEntropy(), [TokenCrossEntropy(name="cross_entropy")]

    def _per_token(self, config, nats):
        if config.token_level == "char":
            return {"bpc": nats / math.log(2)}
        return {"perplexity": math.exp(min(nats, 50.0))}

    def evaluate_examples(self, model, config, examples, preprocessor=None):
        reset_states(model)
        metrics = super().evaluate_examples(model, config, examples)
        # exact nats per token (runs saved before the metric existed: their loss, exact for their windows)
        metrics["loss"] = metrics.pop("cross_entropy", metrics["loss"])
        metrics.update(self._per_token(config, metrics["loss"]))
        if config.token_level == "subword" and preprocessor is not None:
            ratio = tokens_per_word(load_split(config, "test"), preprocessor)
            metrics["tokens_per_word"] = ratio
            metrics["word_perplexity"] = math.exp(min(metrics["loss"] * ratio, 50.0))
        return metrics

    def summary_metrics(self, config, history, best_epoch):
        values = history.get("val_cross_entropy") or history.get("val_loss")
        if not values:
            return {}
        epoch = best_epoch if (config.restore_best and best_epoch) else len(values)
        kept = values[epoch - 1]
        extra = {f"val_{key}": value for key, value in self._per_token(config, kept).items()}
        text = (
            {"data": config.data}
            if config.data
            else {"prepared": config.prepared}
            if config.prepared
            else {"corpus": config.corpus}
        )
        return {"val_loss": kept, **extra, **text, "stateful": config.stateful}

    def check_run(self, config, preprocessor, model, folder):
        found = model.get_layer("embedding").input_dim
        if found != len(preprocessor):
            raise RunChanged(
                folder,
                f"preprocessor.json has {len(preprocessor)} tokens but the model's embedding has "
                f"{found} rows",
            )

    def describe(self, metrics):
        per = f"{metrics['test_bpc']:.3f} bits/char" if "test_bpc" in metrics else (
            f"perplexity {metrics['test_perplexity']:.1f}")  # fmt: skip
        if "test_word_perplexity" in metrics:
            per += f"; word perplexity {metrics['test_word_perplexity']:.1f}"
        return f"Evaluation loss {metrics['test_loss']:.4f} nats/token ({per})"

    def plot_title(self, config, num_train):
        text = Path(config.text_name).name if (config.data or config.prepared) else config.corpus
        return f"{text} {config.token_level} LM, {config.num_layers} x {config.cell} {config.units}"

    @property
    def predictor_cls(self):
        return LMPredictor

    def add_commands(self, commands):
        parser = commands.add_parser("generate", help="generate text with a language-model run")
        parser.add_argument("run_dir", metavar="RUN_DIR", help="folder written by `rnnlab train lm`")
        parser.add_argument("--prompt", required=True, help="text to continue")
        parser.add_argument("--length", type=int, default=500, help="tokens to generate (default: 500)")
        parser.add_argument("--temperature", type=float, default=1.0, help="> 0; lower is safer (default: 1)")
        parser.add_argument("--top-k", type=int, default=None, help="sample among the k most likely tokens")
        parser.add_argument("--seed", type=int, default=None, help="seed of the sampling (default: random)")
        add_backend_argument(parser)
        parser.set_defaults(func=generate_command)

    def states_lab(self, predictor, output, text=None, chars=DEFAULT_CHARS):
        """Units over text (`rnnlab.tasks.lm.states`): `text`, or the first `chars` characters
        of the run's held-out text."""
        source = "--text"
        if not text:
            held_out = load_split(predictor.config, "test")
            if isinstance(held_out, np.ndarray):  # a prepared folder's token ids
                held_out = predictor.preprocessor.decode(held_out[: 2 * chars])
            text = held_out if isinstance(held_out, str) else "\n".join(held_out)
            text = text[:chars]
            name = predictor.config.text_name
            source = f"the first {len(text)} characters of the run's held-out text ({name})"
        return states_record(predictor, text, source, output)


def reset_states(model):
    """Zeroes the states a stateful model carries (nothing for other models)."""
    for layer in model.layers:
        if getattr(layer, "stateful", False):
            layer.reset_state()


class LMPredictor(Predictor):
    """A language-model run loaded once.

    Example:
    >>> LMPredictor("runs/shakespeare").generate("ROMEO:", length=100, seed=0)  # doctest: +SKIP
    """

    options_cls = GenerateOptions
    input_description = "the prompt to continue"

    @functools.cached_property
    def generator(self):
        """The sampler, built once: its compiled step serves every later call."""
        return Generator(self.model)

    def generate(self, prompt, length=500, temperature=1.0, top_k=None, seed=None):
        """`length` tokens continuing `prompt`, as text (without the prompt)."""
        return generation.continue_text(
            self.preprocessor, self.generator, prompt, length, temperature, top_k, seed
        )

    def predict(self, prompts, length=200, temperature=1.0, top_k=None, seed=0):
        """`{text}` per prompt: `length` tokens continuing it (without the prompt)."""
        self.options(length=length, temperature=temperature, top_k=top_k, seed=seed)
        return [{"text": self.generate(prompt, length, temperature, top_k, seed)} for prompt in prompts]

    def line(self, record, source):
        return generation.line(self.preprocessor, record, source)

    def warnings(self, record, source):
        return generation.warnings(self.preprocessor, source)


def generate_command(args):
    """`rnnlab generate RUN --prompt TEXT`: `rnnlab predict` for lm runs, printing the prompt and its
    continuation."""
    predictor = load_predictor_for(args.run_dir, "lm", "generate", backend=args.backend)
    predictor.options(length=args.length, temperature=args.temperature, top_k=args.top_k, seed=args.seed)
    for warning in predictor.warnings({}, args.prompt):
        print(f"rnnlab: warning: {warning}", file=sys.stderr)
    text = predictor.generate(args.prompt, args.length, args.temperature, args.top_k, args.seed)
    print(args.prompt + generation.joiner(predictor.preprocessor) + text)
    return 0


TASK = LMTask()
