"""Ensembles of sentiment runs: the mean of their P(positive) on IMDb's test reviews.

Each run reads the test reviews with its own vocabulary, length and padding, batched
exactly as `rnnlab evaluate` batches them, so each member's accuracy here equals its
own evaluation. ULMFiT averages a forward and a backward model this way.

    rnnlab ensemble runs/lm-pretrained runs/lm-ablation runs/gru-fast --output ensemble.json
"""

import time
from pathlib import Path

import keras
import numpy as np

from rnnlab import runs
from rnnlab.backend import add_backend_argument
from rnnlab.data.batches import Examples
from rnnlab.datasets import imdb
from rnnlab.lab.records import written_by
from rnnlab.models.predict import predict_rows
from rnnlab.tasks.base import load_predictor, load_run
from rnnlab.tasks.sentiment.reviews import Reviews

COMBINATION = "mean of P(positive)"


def test_order(limit=None, seed=0):
    """Indices of the test reviews to score: all of them in file order, or `limit` drawn
    at random with `seed` (both classes, unlike the first `limit` files)."""
    _, labels = imdb.load_ranks("test")
    if limit is None:
        return np.arange(len(labels))
    if not 1 <= limit <= len(labels):
        raise ValueError(f"Expected 1 <= limit <= {len(labels)}. Received: limit={limit}")
    return np.sort(np.random.default_rng(seed).permutation(len(labels))[:limit])


def check_imdb_run(run_dir):
    """Refuses a run that is not a sentiment run on IMDb (from its run.json and config.toml)."""
    task, config, _ = load_run(run_dir)
    if task.name != "sentiment":
        raise ValueError(f"Expected sentiment runs to ensemble. Received: a {task.name} run ({run_dir})")
    if config.data is not None or config.prepared is not None or config.dataset != "imdb":
        raise ValueError(
            f"rnnlab ensemble scores IMDb's test reviews: it ensembles IMDb runs. Received: {run_dir}, "
            f"trained on {config.data or config.prepared or config.dataset}"
        )


def test_probabilities(run_dir, order, backend=None):
    """`(P(positive), labels)` of the test reviews `order` for one sentiment run."""
    check_imdb_run(run_dir)
    predictor = load_predictor(run_dir, backend)  # the run's model, preprocessor and config, checked
    task, config, model = predictor.task, predictor.config, predictor.model
    _, labels = imdb.load_ranks("test")
    labels = labels[order].astype("float32")
    sequences = predictor.preprocessor.encode_reviews(Reviews("test", order))
    examples = Examples(sequences, labels, pad_side="front")
    probabilities = np.empty(len(order), "float64")
    for length, indices in task.batch_order(config, examples).plan(0):
        inputs, _ = examples.batch(indices, length)
        probabilities[indices] = predict_rows(model, [inputs])[0][:, 0]
    return probabilities, labels


def evaluate_ensemble(run_dirs, backend=None, limit=None, log=print):
    """Test accuracy of each run and of the mean of their P(positive).

    Args:
        run_dirs: two or more sentiment run folders.
        limit: score this many test reviews (a seeded draw) instead of all 25,000.

    Returns:
        dict with `test_accuracy` (the ensemble's), `members` (each run's accuracy),
        `num_test` and `runs`.

    Example:
    >>> evaluate_ensemble(["runs/lm-pretrained", "runs/gru-fast"])["test_accuracy"]  # doctest: +SKIP
    """
    run_dirs = [str(run) for run in run_dirs]
    if len(run_dirs) < 2 or len(set(run_dirs)) < len(run_dirs):
        raise ValueError(f"Expected two or more different run folders to ensemble. Received: {run_dirs}")
    for run in run_dirs:  # before reading IMDb
        check_imdb_run(run)
    order = test_order(limit)
    members, all_probabilities = [], []
    for run in run_dirs:
        probabilities, labels = test_probabilities(run, order, backend)
        accuracy = float(np.mean((probabilities >= 0.5) == labels))
        log(f"{run}: test accuracy {accuracy:.4f}")
        members.append({"run": run, "test_accuracy": accuracy})
        all_probabilities.append(probabilities)
    mean = np.mean(all_probabilities, axis=0)
    accuracy = float(np.mean((mean >= 0.5) == labels))
    log(f"ensemble of {len(run_dirs)}: test accuracy {accuracy:.4f} on {len(order)} reviews")
    return {"task": "sentiment", "test_accuracy": accuracy, "members": members, "num_test": len(order),
            "runs": run_dirs, "combination": COMBINATION}  # fmt: skip


def add_command(commands):
    """`rnnlab ensemble RUN_DIR RUN_DIR ... [--output FILE] [--limit N]`."""
    parser = commands.add_parser("ensemble", help="test accuracy of sentiment runs averaged together")
    parser.add_argument("run_dirs", nargs="+", metavar="RUN_DIR", help="sentiment run folders (two or more)")
    parser.add_argument("--output", metavar="FILE", help="JSON record to write (with provenance)")
    parser.add_argument("--limit", type=int, help="score this many test reviews (a seeded draw)")
    add_backend_argument(parser, help="Keras backend (default: the first run's)")
    parser.set_defaults(func=_command)


def _command(args):
    if args.output:
        check_output(args.output)
    start = time.perf_counter()
    result = evaluate_ensemble(args.run_dirs, backend=args.backend, limit=args.limit)
    if args.output:
        record = {**result, "wall_time_s": round(time.perf_counter() - start, 1),
                  **runs.provenance(keras.backend.backend())}  # fmt: skip
        runs.write_json(args.output, record)
        print(f"Record: {args.output}")


def check_output(path):
    """Refuses an `--output` that is not a .json path, or an existing file other than an
    ensemble record (rnnlab replaces only its own)."""
    path = Path(path)
    if path.suffix != ".json":
        raise ValueError(f"Expected --output to be a .json file. Received: {path}")
    if path.exists():
        if not written_by(path, "combination", COMBINATION):
            raise ValueError(f"{path} exists and is not an ensemble record; rnnlab will not replace it.")
