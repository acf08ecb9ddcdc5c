"""Train, evaluate and predict for IMDb sentiment (article sections 5 and 6.1).

rnnlab train sentiment --output runs/article
rnnlab evaluate runs/article
rnnlab predict runs/article "a wonderful film"
"""

import dataclasses
import sys
import time
from pathlib import Path

import numpy as np

from rnnlab import backend as backends
from rnnlab import config as configs
from rnnlab import plots, runs
from rnnlab.datasets import imdb
from rnnlab.embeddings import embedding_matrix, load_vectors
from rnnlab.tasks.sentiment.config import OPTIMIZERS, SentimentConfig
from rnnlab.tasks.sentiment.preprocessor import SentimentPreprocessor, SubwordPreprocessor, load_preprocessor
from rnnlab.text.batching import make_bucketed_batches, pad_front
from rnnlab.text.words import WordTokenizer, english_stop_words

LABELS = ("negative", "positive")
RUN_FILES = ("model.keras", "preprocessor.json", "config.toml")


def make_preprocessor(config):
    """The preprocessor of a config, fitted on training (and unlabelled) text only."""
    if config.tokenizer == "subword":
        texts, _ = imdb.load_texts("train")
        if config.limit is None:
            texts = texts + imdb.load_texts("unsup")[0]
        return SubwordPreprocessor.train(texts, vocab_size=config.max_features, maxlen=config.maxlen)
    tokenizer = WordTokenizer(stop_words=english_stop_words() if config.stop_words else ())
    return SentimentPreprocessor(
        imdb.get_word_index(), num_words=config.max_features, maxlen=config.maxlen, tokenizer=tokenizer
    )


def load_sequences(config, split, preprocessor):
    """Unpadded index arrays and labels of 'train' or 'test', in a seeded order, cut to `config.limit`."""
    ranks, labels = imdb.load_ranks(split)
    order = np.random.default_rng([config.seed, split == "test"]).permutation(len(labels))
    if config.limit is not None:
        order = order[: config.limit]
    if isinstance(preprocessor, SentimentPreprocessor):
        sequences = preprocessor.sequences_from_ranks([ranks[i] for i in order])
    else:
        texts, _ = imdb.load_texts(split)
        sequences = preprocessor.sequences([texts[i] for i in order])
    return sequences, labels[order].astype("float32")


def load_split(config, split, preprocessor):
    """`(x, y)` padded to `config.maxlen`."""
    sequences, labels = load_sequences(config, split, preprocessor)
    return pad_front(sequences, config.maxlen), labels


def batches(config, sequences, labels, shuffle):
    """Keras inputs: bucketed batches, or `(x, y)` padded to `maxlen`."""
    if config.bucket:
        return (make_bucketed_batches(sequences, labels, config.batch_size, shuffle, config.seed),)
    return pad_front(sequences, config.maxlen), labels


def build_model(config, vocab_size, embedding_matrix=None):
    """The compiled classifier of a config."""
    import keras

    from rnnlab.models import build_classifier

    model = build_classifier(
        vocab_size=vocab_size,
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
        embedding_matrix=embedding_matrix,
        trainable_embeddings=not config.freeze_embeddings,
        fast_layers=config.fast_layers,
    )
    optimizer = getattr(keras.optimizers, OPTIMIZERS[config.optimizer])(
        learning_rate=config.learning_rate, clipnorm=config.clipnorm
    )
    model.compile(
        optimizer=optimizer,
        loss="binary_crossentropy",
        metrics=["accuracy"],
        steps_per_execution=config.steps_per_execution,
    )
    return model


def pretrained_embeddings(config, preprocessor):
    """`(config, matrix, coverage)`; the config takes the vectors' dimension."""
    if not config.embeddings:
        return config, None, None
    vectors = load_vectors(config.embeddings, config.embeddings_format)
    matrix, coverage = embedding_matrix(
        vectors, preprocessor.index_of_words(), preprocessor.vocab_size, config.seed
    )
    if config.embedding_dim != vectors.vector_size:
        print(f"embedding_dim set to {vectors.vector_size}, the dimension of {config.embeddings}")
        config = dataclasses.replace(config, embedding_dim=vectors.vector_size)
    print(f"Pretrained embeddings: {coverage:.1%} of the {preprocessor.vocab_size} vocabulary entries found")
    return config, matrix, coverage


def distribute(config, backend):
    """Turns on data parallelism over every local device (Keras' distribution API).

    Across machines, start each process with `jax.distributed.initialize()`
    first; `keras.distribution.list_devices()` then lists every host's devices.
    """
    if not config.data_parallel:
        return None
    if backend != "jax":
        raise ValueError(f"data_parallel needs the jax backend. Received: backend={backend!r}")
    import keras

    devices = keras.distribution.list_devices()
    keras.distribution.set_distribution(keras.distribution.DataParallel(devices=devices))
    print(f"Data parallel over {len(devices)} devices: {', '.join(map(str, devices))}")
    return len(devices)


def seed_everything(seed, backend):
    import keras

    keras.utils.set_random_seed(seed)
    if backend == "tensorflow":
        import tensorflow as tf

        tf.config.experimental.enable_op_determinism()


def fit(model, config, train, validation, verbose=1):
    """Fits with the config's early stopping; returns the history dict."""
    import keras

    callbacks = []
    if config.patience is not None or config.restore_best:
        callbacks.append(
            keras.callbacks.EarlyStopping(
                monitor="val_accuracy",
                mode="max",
                patience=config.patience or config.epochs,
                restore_best_weights=config.restore_best,
            )
        )
    x_val = validation[0] if len(validation) == 1 else validation
    history = model.fit(
        *train,
        batch_size=None if config.bucket else config.batch_size,
        epochs=config.epochs,
        validation_data=x_val,
        callbacks=callbacks,
        verbose=verbose,
    ).history
    return {name: [float(v) for v in values] for name, values in history.items()}


def train(config, output, overwrite=False):
    """Trains the classifier of `config` on IMDb and writes a run folder.

    Args:
        config: a `SentimentConfig`.
        output: the run folder to create.
        overwrite: replace `output` if it exists.

    Returns:
        The metrics dict also written to `output/metrics.json`.
    """
    backend = backends.select(config.backend)
    start = time.perf_counter()

    with runs.run_folder(output, overwrite) as folder:
        preprocessor = make_preprocessor(config)
        config, matrix, coverage = pretrained_embeddings(config, preprocessor)
        sequences, labels = load_sequences(config, "train", preprocessor)
        test_sequences, test_labels = load_sequences(config, "test", preprocessor)
        n_val = max(1, int(round(len(sequences) * config.validation_split)))
        n_train = len(sequences) - n_val
        print(f"IMDb: {n_train} train, {n_val} validation, {len(test_sequences)} test reviews")
        train_inputs = batches(config, sequences[:n_train], labels[:n_train], shuffle=True)
        val_inputs = batches(config, sequences[n_train:], labels[n_train:], shuffle=False)
        test_inputs = batches(config, test_sequences, test_labels, shuffle=False)

        seed_everything(config.seed, backend)
        num_devices = distribute(config, backend)
        model = build_model(config, preprocessor.vocab_size, matrix)
        model.summary()
        train_start = time.perf_counter()
        verbose = 1 if sys.stdout.isatty() else 2  # progress bars on a terminal, a line per epoch in logs
        history = fit(model, config, train_inputs, val_inputs, verbose=verbose)
        train_seconds = time.perf_counter() - train_start
        test_loss, test_accuracy = model.evaluate(
            *test_inputs, batch_size=None if config.bucket else 256, verbose=0
        )

        best = int(np.argmax(history["val_accuracy"]))
        metrics = {
            "task": "sentiment",
            "test_accuracy": float(test_accuracy),
            "test_loss": float(test_loss),
            "best_epoch": best + 1,
            "best_val_accuracy": history["val_accuracy"][best],
            "final_val_accuracy": history["val_accuracy"][-1],
            "epochs_run": len(history["loss"]),
            "history": history,
            "num_train": n_train,
            "num_validation": n_val,
            "num_test": len(test_sequences),
            "num_params": int(model.count_params()),
            "embedding_coverage": coverage,
            "num_devices": num_devices or 1,
            "train_wall_time_s": round(train_seconds, 2),
            "wall_time_s": None,
            "config": dataclasses.asdict(config),
            **runs.provenance(backend),
        }
        model.save(folder / "model.keras")
        preprocessor.save(folder / "preprocessor.json")
        runs.write_text(folder / "config.toml", configs.to_toml(dataclasses.replace(config, backend=backend)))
        plots.learning_curve(
            history,
            folder / "learning_curve.png",
            title=f"IMDb sentiment, {config.cell}, {n_train} training reviews",
            test_metrics={"loss": test_loss, "accuracy": test_accuracy},
        )
        metrics["wall_time_s"] = round(time.perf_counter() - start, 2)
        runs.write_json(folder / "metrics.json", metrics)

    print(
        f"\nTest accuracy {test_accuracy:.4f}, test loss {test_loss:.4f} on {len(test_sequences)} reviews; "
        f"best validation accuracy {metrics['best_val_accuracy']:.4f} at epoch {best + 1}; "
        f"trained in {train_seconds:.1f} s on {backend}. Run saved to {output}"
    )
    return metrics


def _open_run(run_dir):
    run_dir = Path(run_dir)
    missing = [name for name in RUN_FILES if not (run_dir / name).is_file()]
    if missing:
        raise ValueError(
            f"{run_dir} is not a sentiment run folder: missing {', '.join(missing)}. "
            "Expected a folder written by `rnnlab train sentiment --output DIR`."
        )
    config = configs.resolve(SentimentConfig, run_dir / "config.toml")
    return run_dir, config


def _load_model(run_dir):
    import keras

    import rnnlab.layers  # noqa: F401  (registers FastRNN for runs trained with --fast-layers)

    return keras.saving.load_model(run_dir / "model.keras")


def evaluate(run_dir, backend=None):
    """Recomputes the test metrics of a saved run and writes `evaluation.json`.

    Returns:
        dict with `test_accuracy`, `test_loss`, `num_test`.
    """
    run_dir, config = _open_run(run_dir)
    backend = backends.select(backend)
    model = _load_model(run_dir)
    preprocessor = load_preprocessor(run_dir / "preprocessor.json")
    test_sequences, test_labels = load_sequences(config, "test", preprocessor)
    test_inputs = batches(config, test_sequences, test_labels, shuffle=False)
    test_loss, test_accuracy = model.evaluate(
        *test_inputs, batch_size=None if config.bucket else 256, verbose=0
    )
    result = {
        "test_accuracy": float(test_accuracy),
        "test_loss": float(test_loss),
        "num_test": len(test_sequences),
        **runs.provenance(backend),
    }
    runs.write_json(run_dir / "evaluation.json", result)
    return result


def predict(run_dir, texts, backend=None):
    """Labels and positive-class probabilities for new texts.

    Returns:
        list of `(label, probability_positive)`.
    """
    run_dir, _ = _open_run(run_dir)
    texts = list(texts)
    if not texts:
        raise ValueError("Expected at least one text to classify. Received: none.")
    backends.select(backend)
    model = _load_model(run_dir)
    preprocessor = load_preprocessor(run_dir / "preprocessor.json")
    probabilities = model.predict(preprocessor(texts), verbose=0)[:, 0]
    return [(LABELS[int(p >= 0.5)], float(p)) for p in probabilities]


def explain(run_dir, texts, backend=None):
    """Occlusion explanations (see `rnnlab.tasks.sentiment.explain`) for texts."""
    from rnnlab.tasks.sentiment import occlusion

    run_dir, _ = _open_run(run_dir)
    backends.select(backend)
    model = _load_model(run_dir)
    preprocessor = load_preprocessor(run_dir / "preprocessor.json")
    return [occlusion.explain(model, preprocessor, text) for text in texts]
