"""The `rnnlab` command.

    rnnlab train sentiment [--cell lstm] [--epochs 3] [--config recipe.toml] ...
    rnnlab evaluate RUN_DIR
    rnnlab predict RUN_DIR "a wonderful film" ...   (or one text per line on stdin)
    rnnlab gradcheck [--backends jax torch]

Keras is imported only after the backend is chosen (`--backend` or
`KERAS_BACKEND`, default jax).
"""

import argparse
import sys
import time

import numpy as np

from rnnlab import backend as backends
from rnnlab import config as configs
from rnnlab.datasets import DatasetError
from rnnlab.tasks import TASKS, get_task

USER_ERRORS = (ValueError, DatasetError, OSError, ImportError)  # OSError: FileExists, Permission, ...


def _add_backend(parser):
    parser.add_argument(
        "--backend",
        choices=backends.BACKENDS,
        default=None,
        help="Keras backend (default: KERAS_BACKEND or jax)",
    )


def build_parser():
    parser = argparse.ArgumentParser(prog="rnnlab", description="Recurrent neural networks with Keras 3.")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    train = commands.add_parser("train", help="train a model for a task and save a run folder")
    tasks = train.add_subparsers(dest="task", required=True, metavar="TASK")
    for name in TASKS:
        task_parser = tasks.add_parser(name, help=f"train the {name} task")
        task_parser.add_argument(
            "--config", metavar="FILE", help="TOML recipe; flags given here override its values"
        )
        task_parser.add_argument(
            "--output", metavar="DIR", help="run folder to write (default: runs/TASK-TIMESTAMP)"
        )
        task_parser.add_argument(
            "--overwrite", action="store_true", help="replace the output folder if it exists"
        )
        configs.add_arguments(task_parser, get_task(name).Config)

    evaluate = commands.add_parser("evaluate", help="recompute test metrics of a saved run")
    evaluate.add_argument("run_dir", metavar="RUN_DIR", help="folder written by `rnnlab train`")
    _add_backend(evaluate)

    predict = commands.add_parser("predict", help="classify new texts with a saved run")
    predict.add_argument("run_dir", metavar="RUN_DIR", help="folder written by `rnnlab train`")
    predict.add_argument(
        "texts", nargs="*", metavar="TEXT", help="texts to classify; none reads one per line from stdin"
    )
    _add_backend(predict)

    predict.add_argument(
        "--explain",
        action="store_true",
        help="show which words pushed each prediction up or down (occlusion)",
    )
    predict.add_argument(
        "--html", metavar="FILE", help="with --explain: also write the coloured texts to FILE"
    )

    tune = commands.add_parser("tune", help="search hyperparameters with KerasTuner")
    tune_tasks = tune.add_subparsers(dest="task", required=True, metavar="TASK")
    tune_sentiment = tune_tasks.add_parser("sentiment", help="tune the sentiment classifier")
    tune_sentiment.add_argument("--trials", type=int, default=10, help="configurations to try (default: 10)")
    tune_sentiment.add_argument(
        "--config", metavar="FILE", help="base TOML recipe; flags override its values"
    )
    tune_sentiment.add_argument("--output", metavar="DIR", help="folder for trials and best.toml")
    tune_sentiment.add_argument(
        "--overwrite", action="store_true", help="replace the output folder if it exists"
    )
    configs.add_arguments(tune_sentiment, get_task("sentiment").Config)

    embeddings = commands.add_parser("embeddings", help="pretrained word vectors")
    embedding_commands = embeddings.add_subparsers(dest="action", required=True, metavar="ACTION")
    w2v = embedding_commands.add_parser(
        "train", help="train word2vec (gensim) on IMDb train + unlabelled reviews, never the test reviews"
    )
    w2v.add_argument("--output", required=True, metavar="FILE", help="word2vec file to write")
    w2v.add_argument("--dim", type=int, default=100, help="vector size (default: 100)")
    w2v.add_argument("--window", type=int, default=5, help="context window (default: 5)")
    w2v.add_argument("--min-count", type=int, default=5, help="ignore rarer words (default: 5)")
    w2v.add_argument("--epochs", type=int, default=5, help="passes over the text (default: 5)")
    w2v.add_argument("--text", action="store_true", help="write the text format instead of binary")
    w2v.add_argument("--limit", type=int, default=None, help="use only the first N reviews (smoke runs)")
    w2v.add_argument("--seed", type=int, default=0, help="random seed (default: 0)")

    bench = commands.add_parser("bench", help="training and inference throughput, rnnlab against peers")
    bench.add_argument(
        "--quick",
        action="store_true",
        help="only the article's model, training at batch 32, against the fastest peers (< 60 s)",
    )
    bench.add_argument(
        "--repeats", type=int, default=None, help="rounds over all peers (default: 1 quick, 2 full)"
    )
    bench.add_argument(
        "--peers",
        nargs="+",
        default=None,
        metavar="PEER",
        help="peers to run: rnnlab keras-jax keras-tensorflow keras-torch torch-native",
    )
    bench.add_argument(
        "--output",
        metavar="FILE",
        help="JSON record to write (default: results/bench/bench[-quick]-TIMESTAMP.json)",
    )

    gradcheck = commands.add_parser(
        "gradcheck", help="check the NumPy reference by finite differences and against Keras"
    )
    gradcheck.add_argument(
        "--backends",
        nargs="+",
        choices=backends.BACKENDS,
        default=None,
        help="Keras backends to compare with (default: every installed one)",
    )
    return parser


def _task_of_run(run_dir):
    # Only sentiment exists so far; later tasks record their name in config.toml.
    return get_task("sentiment")


def _config_from_args(task, args):
    """Defaults < --config TOML < flags given on the command line."""
    overrides = {name: getattr(args, name) for name in task.Config.__dataclass_fields__}
    return configs.resolve(task.Config, args.config, overrides)


def _explain(task, args, texts):
    if not texts:
        raise ValueError("Expected at least one text to explain. Received: none.")
    explanations = task.explain(args.run_dir, texts, backend=args.backend)
    from rnnlab.tasks.sentiment import occlusion

    for explanation in explanations:
        print(occlusion.to_terminal(explanation))
        print()
    if args.html:
        occlusion.to_html(explanations, args.html)
        print(f"Wrote {args.html}")


def _train_embeddings(args):
    from rnnlab.datasets import imdb
    from rnnlab.embeddings import train_word2vec
    from rnnlab.text.words import WordTokenizer

    for name in ("dim", "window", "min_count", "epochs"):
        if getattr(args, name) < 1:
            raise ValueError(f"Expected --{name.replace('_', '-')} >= 1. Received: {getattr(args, name)}")
    texts = imdb.load_texts("train")[0] + imdb.load_texts("unsup")[0]  # never the test reviews
    if args.limit is not None:
        if args.limit < 1:
            raise ValueError(f"Expected --limit >= 1. Received: {args.limit}")
        chosen = np.random.default_rng(args.seed).permutation(len(texts))[: args.limit]  # both labels
        texts = [texts[i] for i in chosen]
    tokenizer = WordTokenizer()
    start = time.perf_counter()
    vectors = train_word2vec(
        [tokenizer(t) for t in texts],
        args.output,
        dim=args.dim,
        window=args.window,
        min_count=args.min_count,
        epochs=args.epochs,
        binary=not args.text,
        seed=args.seed,
    )
    seconds = time.perf_counter() - start
    from rnnlab import runs

    record = {
        "words": len(vectors),
        "dim": vectors.vector_size,
        "reviews": len(texts),
        "window": args.window,
        "min_count": args.min_count,
        "epochs": args.epochs,
        "wall_time_s": round(seconds, 1),
        **runs.provenance(None),
    }
    runs.write_json(f"{args.output}.json", record)
    print(
        f"word2vec: {len(vectors)} words x {vectors.vector_size} dims from {len(texts)} reviews "
        f"in {seconds:.1f} s; saved to {args.output} (record: {args.output}.json)"
    )


def _bench(args):
    from rnnlab import runs
    from rnnlab.bench import runner
    from rnnlab.bench.worker import PEERS

    for peer in args.peers or ():
        if peer not in PEERS:
            raise ValueError(f"Expected peers in {set(PEERS)}. Received: {peer!r}")
    if args.repeats is not None and args.repeats < 1:
        raise ValueError(f"Expected --repeats >= 1. Received: {args.repeats}")
    result = runner.run(quick=args.quick, repeats=args.repeats, peers=args.peers)
    stamp = time.strftime("%Y%m%d-%H%M%S")
    output = args.output or f"results/bench/bench{'-quick' if args.quick else ''}-{stamp}.json"
    runs.write_json(output, result)
    print(runner.markdown(result))
    print(f"Record: {output}")
    speedup = runner.speedup_vs_fastest_peer(result)
    print(f"speedup_vs_fastest_peer={speedup:.2f}" if speedup is not None else "speedup_vs_fastest_peer=n/a")


def main(argv=None):
    parser = build_parser()
    args, extra = parser.parse_known_args(argv)
    if extra:  # texts after options: `rnnlab predict RUN --explain "text"`
        if args.command != "predict" or any(e.startswith("-") for e in extra):
            parser.error(f"unrecognized arguments: {' '.join(extra)}")
        args.texts = [*args.texts, *extra]
    try:
        if args.command == "train":
            task = get_task(args.task)
            config = _config_from_args(task, args)
            output = args.output or f"runs/{args.task}-{time.strftime('%Y%m%d-%H%M%S')}"
            task.train(config, output, overwrite=args.overwrite)
        elif args.command == "evaluate":
            result = _task_of_run(args.run_dir).evaluate(args.run_dir, backend=args.backend)
            print(
                f"test_accuracy={result['test_accuracy']:.4f} test_loss={result['test_loss']:.4f} "
                f"num_test={result['num_test']}"
            )
        elif args.command == "predict":
            if args.html and not args.explain:
                raise ValueError("--html needs --explain.")
            if not args.texts and sys.stdin.isatty():
                raise ValueError("Expected texts as arguments or one per line on stdin. Received: none.")
            texts = args.texts or [line.rstrip("\n") for line in sys.stdin if line.strip()]
            task = _task_of_run(args.run_dir)
            if args.explain:
                _explain(task, args, texts)
            else:
                predictions = task.predict(args.run_dir, texts, backend=args.backend)
                for text, (label, probability) in zip(texts, predictions, strict=True):
                    print(f"{label}\t{probability:.4f}\t{text}")
        elif args.command == "tune":
            task = get_task(args.task)
            config = _config_from_args(task, args)
            output = args.output or f"runs/tune-{args.task}-{time.strftime('%Y%m%d-%H%M%S')}"
            from rnnlab.tasks.sentiment.tune import tune

            tune(config, output, trials=args.trials, overwrite=args.overwrite)
        elif args.command == "embeddings":
            _train_embeddings(args)
        elif args.command == "bench":
            _bench(args)
        elif args.command == "gradcheck":
            from rnnlab import gradcheck_report

            return 0 if gradcheck_report.run(args.backends) else 1
    except USER_ERRORS as error:
        if isinstance(error, OSError) and error.filename and error.strerror:
            error = f"{error.strerror}: {error.filename}"
        print(f"rnnlab: error: {error}", file=sys.stderr)
        return 2
    return 0
