"""Train, evaluate and predict for IMDb sentiment (article sections 5 and 6.1).

rnnlab train sentiment --output runs/article
rnnlab evaluate runs/article
rnnlab predict runs/article "a wonderful film"
"""

import dataclasses
import time
from pathlib import Path

import numpy as np

from rnnlab import backend as backends
from rnnlab import config as configs
from rnnlab import plots, runs
from rnnlab.datasets import imdb
from rnnlab.tasks.sentiment.config import SentimentConfig
from rnnlab.tasks.sentiment.preprocessor import SentimentPreprocessor

LABELS = ("negative", "positive")
RUN_FILES = ("model.keras", "preprocessor.json", "config.toml")


def make_preprocessor(config):
    """The preprocessor of a config, built from the IMDb training vocabulary."""
    return SentimentPreprocessor(imdb.get_word_index(), num_words=config.max_features, maxlen=config.maxlen)


def load_split(config, split, preprocessor):
    """`(x, y)` for 'train' or 'test', in a seeded order, cut to `config.limit`."""
    ranks, labels = imdb.load_ranks(split)
    order = np.random.default_rng([config.seed, split == "test"]).permutation(len(ranks))
    if config.limit is not None:
        order = order[: config.limit]
    return preprocessor.encode_ranks([ranks[i] for i in order]), labels[order].astype("float32")


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
    import keras

    from rnnlab.models import build_classifier

    with runs.run_folder(output, overwrite) as folder:
        preprocessor = make_preprocessor(config)
        x, y = load_split(config, "train", preprocessor)
        x_test, y_test = load_split(config, "test", preprocessor)
        n_val = max(1, int(round(len(x) * config.validation_split)))
        x_train, y_train, x_val, y_val = x[:-n_val], y[:-n_val], x[-n_val:], y[-n_val:]
        print(f"IMDb: {len(x_train)} train, {len(x_val)} validation, {len(x_test)} test reviews")

        keras.utils.set_random_seed(config.seed)
        if backend == "tensorflow":
            import tensorflow as tf

            tf.config.experimental.enable_op_determinism()
        model = build_classifier(
            vocab_size=config.max_features,
            embedding_dim=config.embedding_dim,
            units=config.units,
            cell=config.cell,
            sequence_length=config.maxlen,
        )
        model.compile(
            optimizer=keras.optimizers.Adam(config.learning_rate),
            loss="binary_crossentropy",
            metrics=["accuracy"],
        )
        model.summary()
        train_start = time.perf_counter()
        history = model.fit(
            x_train,
            y_train,
            batch_size=config.batch_size,
            epochs=config.epochs,
            validation_data=(x_val, y_val),
            verbose=2 if config.limit is None else 1,
        ).history
        train_seconds = time.perf_counter() - train_start
        test_loss, test_accuracy = model.evaluate(x_test, y_test, batch_size=256, verbose=0)

        history = {name: [float(v) for v in values] for name, values in history.items()}
        best = int(np.argmax(history["val_accuracy"]))
        metrics = {
            "task": "sentiment",
            "test_accuracy": float(test_accuracy),
            "test_loss": float(test_loss),
            "best_epoch": best + 1,
            "best_val_accuracy": history["val_accuracy"][best],
            "final_val_accuracy": history["val_accuracy"][-1],
            "history": history,
            "num_train": len(x_train),
            "num_validation": len(x_val),
            "num_test": len(x_test),
            "num_params": int(model.count_params()),
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
            title=f"IMDb sentiment, {config.cell}, {len(x_train)} training reviews",
            test_metrics={"loss": test_loss, "accuracy": test_accuracy},
        )
        metrics["wall_time_s"] = round(time.perf_counter() - start, 2)
        runs.write_json(folder / "metrics.json", metrics)

    print(
        f"\nTest accuracy {test_accuracy:.4f}, test loss {test_loss:.4f} on {len(x_test)} reviews; "
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

    return keras.saving.load_model(run_dir / "model.keras")


def evaluate(run_dir, backend=None):
    """Recomputes the test metrics of a saved run and writes `evaluation.json`.

    Returns:
        dict with `test_accuracy`, `test_loss`, `num_test`.
    """
    run_dir, config = _open_run(run_dir)
    backend = backends.select(backend)
    model = _load_model(run_dir)
    preprocessor = SentimentPreprocessor.load(run_dir / "preprocessor.json")
    x_test, y_test = load_split(config, "test", preprocessor)
    test_loss, test_accuracy = model.evaluate(x_test, y_test, batch_size=256, verbose=0)
    result = {
        "test_accuracy": float(test_accuracy),
        "test_loss": float(test_loss),
        "num_test": len(x_test),
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
    preprocessor = SentimentPreprocessor.load(run_dir / "preprocessor.json")
    probabilities = model.predict(preprocessor(texts), verbose=0)[:, 0]
    return [(LABELS[int(p >= 0.5)], float(p)) for p in probabilities]
