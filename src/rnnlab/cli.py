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

from rnnlab import backend as backends
from rnnlab import config as configs
from rnnlab.datasets import DatasetError
from rnnlab.tasks import TASKS, get_task

USER_ERRORS = (ValueError, DatasetError, FileExistsError, FileNotFoundError, ImportError)


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
        task_parser = tasks.add_parser(
            name, help=f"train the {name} task", formatter_class=argparse.ArgumentDefaultsHelpFormatter
        )
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


def main(argv=None):
    args = build_parser().parse_args(argv)
    try:
        if args.command == "train":
            task = get_task(args.task)
            overrides = {name: getattr(args, name) for name in task.Config.__dataclass_fields__}
            config = configs.resolve(task.Config, args.config, overrides)
            output = args.output or f"runs/{args.task}-{time.strftime('%Y%m%d-%H%M%S')}"
            task.train(config, output, overwrite=args.overwrite)
        elif args.command == "evaluate":
            result = _task_of_run(args.run_dir).evaluate(args.run_dir, backend=args.backend)
            print(
                f"test_accuracy={result['test_accuracy']:.4f} test_loss={result['test_loss']:.4f} "
                f"num_test={result['num_test']}"
            )
        elif args.command == "predict":
            texts = args.texts or [line.rstrip("\n") for line in sys.stdin if line.strip()]
            predictions = _task_of_run(args.run_dir).predict(args.run_dir, texts, backend=args.backend)
            for text, (label, probability) in zip(texts, predictions, strict=True):
                print(f"{label}\t{probability:.4f}\t{text}")
        elif args.command == "gradcheck":
            from rnnlab import gradcheck_report

            return 0 if gradcheck_report.run(args.backends) else 1
    except USER_ERRORS as error:
        print(f"rnnlab: error: {error}", file=sys.stderr)
        return 2
    return 0
