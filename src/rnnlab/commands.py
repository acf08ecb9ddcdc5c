"""The verbs of the `rnnlab` command and its parser (`rnnlab.cli` runs them).

    rnnlab train TASK [--config recipe.toml] [--output DIR] [--resume] ...
    rnnlab evaluate RUN_DIR
    rnnlab predict RUN_DIR INPUT ...   (or one input per line on stdin)
    rnnlab tune TASK --trials N ...
    rnnlab bench | gradcheck
    rnnlab lab gradients --output DIR [--quick]
    rnnlab lab states RUN_DIR --output DIR [--text TEXT]
    rnnlab ... verbs that tasks register (e.g. `rnnlab embeddings train`)

Verbs shared by every task live here; a task adds its own flags and verbs
(`Task.add_predict_arguments`, `Task.add_commands`). `evaluate` and `predict`
dispatch on the run folder's `run.json`. Importing this module imports Keras: `rnnlab.cli`
chooses the backend from the command line first.
"""

import argparse
import dataclasses
import json
import sys
import time

from rnnlab import backend as backends
from rnnlab import config as configs
from rnnlab import gradcheck_report, packs, runs
from rnnlab.bench import runner
from rnnlab.bench.worker import PEERS
from rnnlab.export import manifest as manifests
from rnnlab.export.exporter import FORMATS, QUANTIZATIONS, describe_export, export_run
from rnnlab.io import stdin_lines
from rnnlab.lab import gradients, states
from rnnlab.serve.app import serve
from rnnlab.tasks import TASKS, get_task
from rnnlab.tasks.base import load_predictor
from rnnlab.tasks.lm import prepared as lm_prepared
from rnnlab.tasks.sentiment import prepared as sentiment_prepared
from rnnlab.tasks.sentiment.config import SentimentConfig
from rnnlab.tasks.translation import prepared as translation_prepared
from rnnlab.tasks.translation.config import TranslationConfig
from rnnlab.training import launcher
from rnnlab.training.evaluation import evaluate_run
from rnnlab.training.trainer import train_task
from rnnlab.training.tuning import tune

# the settings `rnnlab prepare translation` and `rnnlab prepare sentiment` fix
TRANSLATION_PREPARE_FIELDS = (
    "data", "src", "tgt", "valid_data", "vocab_size", "shared_vocabulary", "max_len",
    "validation_split", "seed",
)  # fmt: skip
SENTIMENT_PREPARE_FIELDS = (
    "data", "valid_data", "test_data", "text_field", "label_field", "encoding", "test_split", "tokenizer",
    "max_features", "maxlen", "stop_words",
)  # fmt: skip


def _add_task_parsers(commands, verb, help_text, extra):
    parser = commands.add_parser(verb, help=help_text)
    tasks = parser.add_subparsers(dest="task", required=True, metavar="TASK")
    for name in TASKS:
        task = get_task(name)
        task_parser = tasks.add_parser(name, help=f"{verb} the {name} task")
        task_parser.add_argument(
            "--config", metavar="FILE", help="TOML recipe; flags given here override its values"
        )
        extra(task_parser)
        configs.add_arguments(task_parser, task.config_cls)
    return parser


def _evaluation_fields():
    """`{field: first task declaring it}` for every task's evaluation settings."""
    fields = {}
    for name in TASKS:
        task = get_task(name)
        for field in task.evaluation_fields:
            fields.setdefault(field, task)
    return fields


def build_parser():
    parser = argparse.ArgumentParser(prog="rnnlab", description="Recurrent neural networks with Keras 3.")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def train_flags(p):
        p.add_argument("--output", metavar="DIR", help="run folder to write (default: runs/TASK-TIMESTAMP)")
        p.add_argument(
            "--overwrite",
            action="store_true",
            help="replace the output if it is an rnnlab run (never anything else)",
        )
        p.add_argument(
            "--resume",
            action="store_true",
            help="continue the interrupted run of --output from its last checkpoint",
        )
        p.add_argument(
            "--distributed",
            action="store_true",
            help="one of several processes training this run (JAX's distributed runtime, data parallel "
            "over every process's devices; process 0 writes the run). `rnnlab launch` starts them",
        )
        p.add_argument("--coordinator", metavar="HOST:PORT", help="process 0's address (--distributed)")
        p.add_argument("--num-processes", type=int, metavar="N", help="processes in the run (--distributed)")
        p.add_argument("--process-id", type=int, metavar="I", help="this process, 0 to N-1 (--distributed)")

    _add_task_parsers(commands, "train", "train a model for a task and save a run folder", train_flags)

    evaluate = commands.add_parser("evaluate", help="recompute test metrics of a saved run")
    evaluate.add_argument("run_dir", metavar="RUN_DIR", help="folder written by `rnnlab train`")
    for field, task in _evaluation_fields().items():  # e.g. translation's --beam-size
        configs.add_arguments(evaluate, task.config_cls, only=(field,))
    backends.add_backend_argument(evaluate)

    predict = commands.add_parser("predict", help="predict with a saved run")
    predict.add_argument("run_dir", metavar="RUN_DIR", help="folder written by `rnnlab train`")
    predict.add_argument(
        "texts", nargs="*", metavar="INPUT", help="inputs (e.g. texts); none reads one per line from stdin"
    )
    predict.add_argument("--json", action="store_true", help="print one JSON record per input")
    backends.add_backend_argument(predict)
    for options_cls, field in _predict_options():  # each task's options, e.g. --beam-size, --temperature
        configs.add_arguments(predict, options_cls, only=(field.name,))
    for name in TASKS:
        get_task(name).add_predict_arguments(predict)

    launch = commands.add_parser(
        "launch", help="train in N processes on this machine (JAX's distributed runtime, data parallel)"
    )
    launch.add_argument("--processes", type=int, required=True, metavar="N", help="processes to start")
    launch.add_argument("train_command", nargs=argparse.REMAINDER, metavar="-- train TASK ...",
                        help="the rnnlab training command each process runs")  # fmt: skip

    prepare = commands.add_parser("prepare", help="tokenise text larger than memory into token files on disk")
    prepare_tasks = prepare.add_subparsers(dest="task", required=True, metavar="TASK")
    prepare_lm = prepare_tasks.add_parser(
        "lm", help="characters or words for `rnnlab train lm --prepared DIR`"
    )
    prepare_lm.add_argument("--data", required=True, help="a UTF-8 file, or a folder of .txt files")
    prepare_lm.add_argument(
        "--output", required=True, metavar="DIR", help="the folder to write (must not exist)"
    )
    prepare_lm.add_argument(
        "--level", choices=lm_prepared.LEVELS, default="char", help="tokens (default: char)"
    )
    prepare_lm.add_argument(
        "--max-vocab", type=int, default=None, help="vocabulary size (default: every token)"
    )
    prepare_lm.add_argument("--valid-data", default=None, help="validation text (default: the last tenth)")
    prepare_translation = prepare_tasks.add_parser(
        "translation", help="subword ids of sentence pairs for `rnnlab train translation --prepared DIR`"
    )
    prepare_translation.add_argument(
        "--output", required=True, metavar="DIR", help="the folder to write (must not exist)"
    )
    configs.add_arguments(prepare_translation, TranslationConfig, only=TRANSLATION_PREPARE_FIELDS)
    prepare_sentiment = prepare_tasks.add_parser(
        "sentiment", help="token ids of labelled texts for `rnnlab train sentiment --prepared DIR`"
    )
    prepare_sentiment.add_argument(
        "--output", required=True, metavar="DIR", help="the folder to write (must not exist)"
    )
    configs.add_arguments(prepare_sentiment, SentimentConfig, only=SENTIMENT_PREPARE_FIELDS)

    def tune_flags(p):
        p.add_argument("--trials", type=int, default=10, help="configurations to try (default: 10)")
        p.add_argument("--output", metavar="DIR", help="folder for trials and best.toml")
        p.add_argument("--overwrite", action="store_true", help="replace an earlier tuning folder")

    _add_task_parsers(commands, "tune", "search hyperparameters with KerasTuner", tune_flags)

    bench = commands.add_parser("bench", help="training and inference throughput, rnnlab against peers")
    bench.add_argument(
        "--quick",
        action="store_true",
        help="only the article's model, training at batch 32 (or --workload), against the fastest peers",
    )
    bench.add_argument(
        "--translation",
        action="store_true",
        help="only the translation workload (target tokens/s of a Luong-attention GRU encoder-decoder)",
    )
    bench.add_argument(
        "--lm",
        action="store_true",
        help="only the language-model workload (training tokens/s of a 2-layer LSTM word LM)",
    )
    bench.add_argument(
        "--workload",
        metavar="NAME",
        default=None,
        help="only this workload, e.g. lstm/train/b32 or lm-lstm-2x200/train/b20 (with --quick: against "
        "the quick peers; default: the suite's workloads)",
    )
    bench.add_argument(
        "--repeats", type=int, default=None, help="rounds over all peers (default: 1 quick, 2 full)"
    )
    bench.add_argument(
        "--peers",
        nargs="+",
        default=None,
        metavar="PEER",
        help="peers to run: rnnlab rnnlab-stock keras-jax keras-tensorflow keras-torch torch-native "
        "onnxruntime (each runs the workloads it supports; onnxruntime: inference only)",
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
    lab = commands.add_parser("lab", help="experiments that teach")
    experiments = lab.add_subparsers(dest="experiment", required=True, metavar="EXPERIMENT")
    gradients = experiments.add_parser(
        "gradients", help="vanishing gradients: the adding problem and the copy task by length and cell"
    )
    gradients.add_argument("--output", required=True, metavar="DIR", help="folder for the JSON and plots")
    gradients.add_argument("--quick", action="store_true", help="short sequences, few cells: under a minute")
    gradients.add_argument("--problems", nargs="+", metavar="P", help="adding, copy (default: both)")
    gradients.add_argument(
        "--variants", nargs="+", metavar="V", help="simple orthogonal irnn clipped lstm gru"
    )
    gradients.add_argument("--lengths", nargs="+", type=int, metavar="T", help="sequence lengths / delays")
    gradients.add_argument("--epochs", type=int, help="training epochs per model")
    gradients.add_argument("--overwrite", action="store_true", help="replace this lab's earlier record")
    backends.add_backend_argument(gradients)
    states = experiments.add_parser(
        "states", help="inside a trained model: its states step by step, as its task's states lab shows them"
    )
    states.add_argument("run_dir", metavar="RUN_DIR", help="a run of a task that has a states lab")
    states.add_argument("--output", required=True, metavar="DIR", help="folder for the JSON and plots")
    states.add_argument(
        "--text", help="the text to read (default: the task's own, e.g. held-out text; some tasks require it)"
    )
    states.add_argument(
        "--chars", type=int, default=20_000, help="characters of the default text to read (default: 20000)"
    )
    states.add_argument("--overwrite", action="store_true", help="replace this lab's earlier record")
    backends.add_backend_argument(states)
    export = commands.add_parser(
        "export", help="write a run as ONNX with its preprocessing and a manifest (runs without Keras)"
    )
    export.add_argument("run_dir", metavar="RUN_DIR", help="folder written by `rnnlab train`")
    export.add_argument(
        "--format", default="onnx", choices=FORMATS, help="the model's format (default: onnx)"
    )
    export.add_argument("--output", required=True, metavar="DIR", help="the export folder to write")
    export.add_argument(
        "--quantize", choices=QUANTIZATIONS, default=None, help="int8: ONNX Runtime's dynamic quantisation"
    )
    export.add_argument(
        "--overwrite",
        action="store_true",
        help="replace --output if it is an rnnlab export (never anything else)",
    )
    backends.add_backend_argument(export)
    packing = commands.add_parser("pack", help="a finished run or an export as one .rnnlab file")
    packing.add_argument("folder", metavar="RUN_OR_EXPORT", help="a run folder or an export folder")
    packing.add_argument("--output", required=True, metavar="FILE", help="the .rnnlab file to write")
    packing.add_argument("--overwrite", action="store_true", help="replace --output if it is an rnnlab pack")
    serve = commands.add_parser("serve", help="the HTTP API and demo page over trained runs")
    serve.add_argument(
        "run_dirs", nargs="+", metavar="RUN_DIR", help="run or ONNX export folders, at most one per task"
    )
    serve.add_argument("--host", default="127.0.0.1", help="interface to bind (default: 127.0.0.1)")
    serve.add_argument("--port", type=int, default=8000, help="TCP port (default: 8000)")
    serve.add_argument(
        "--token",
        default=None,
        help="access token every request must carry (default: $RNNLAB_TOKEN); required off loopback",
    )
    serve.add_argument(
        "--read-timeout", type=float, default=15.0, metavar="SECONDS",
        help="seconds for a whole request to arrive; slower or silent connections get 408 and are closed "
        "(default: 15)",
    )  # fmt: skip
    serve.add_argument(
        "--keep-alive-timeout", type=float, default=5.0, metavar="SECONDS",
        help="seconds an idle connection stays open after a response (default: 5)",
    )  # fmt: skip
    backends.add_backend_argument(serve)

    for name in TASKS:
        get_task(name).add_commands(commands)
    return parser


def _config_from_args(task, args):
    """Defaults < --config TOML < flags given on the command line; also the names of the flags given."""
    overrides = {name: getattr(args, name) for name in task.config_cls.__dataclass_fields__}
    given = {name for name, value in overrides.items() if value is not None}
    if args.config:
        given |= set(configs.load_toml(args.config, task.config_cls))
    return configs.resolve(task.config_cls, args.config, overrides), given


def _train(args):
    task = get_task(args.task)
    config, given = _config_from_args(task, args)
    output = f"runs/{args.task}-{time.strftime('%Y%m%d-%H%M%S')}" if args.output is None else args.output
    if args.resume and args.output is None:
        raise ValueError("--resume needs --output: the run folder to continue.")
    launch = {
        "coordinator": args.coordinator,
        "num_processes": args.num_processes,
        "process_id": args.process_id,
    }
    if not args.distributed and any(value is not None for value in launch.values()):
        raise ValueError(
            "--coordinator, --num-processes and --process-id go with --distributed. Received them without it."
        )
    train_task(task, config, output, overwrite=args.overwrite, resume=args.resume, fields_given=given,
               distributed=launch if args.distributed else None)  # fmt: skip


def _prepare(args):
    """`rnnlab prepare lm ...` or `rnnlab prepare translation ...`."""
    if args.task == "lm":
        lm_prepared.prepare(args.data, args.output, args.level, args.max_vocab, args.valid_data)
        return 0
    if args.task == "sentiment":
        given = {name: getattr(args, name) for name in SENTIMENT_PREPARE_FIELDS}
        sentiment_prepared.prepare(configs.resolve(SentimentConfig, overrides=given), args.output)
        return 0
    if args.data is None:  # before the languages are checked against Multi30k's
        raise ValueError("rnnlab prepare translation reads your pairs: expected --data PATH.")
    given = {name: getattr(args, name) for name in TRANSLATION_PREPARE_FIELDS}
    translation_prepared.prepare(configs.resolve(TranslationConfig, overrides=given), args.output)
    return 0


def _evaluate(args):
    settings = {f: getattr(args, f) for f in _evaluation_fields() if getattr(args, f) is not None}
    result = evaluate_run(args.run_dir, backend=args.backend, settings=settings)
    print(
        " ".join(f"{k}={v:.4f}" for k, v in result.items() if k.startswith("test_"))
        + f" num_test={result['num_test']}"
    )


def _predict_options():
    """`(options class, field)` of every task's `predict` options, once per name."""
    fields = {}
    for name in TASKS:
        options_cls = get_task(name).predictor_cls.options_cls
        for field in dataclasses.fields(options_cls) if options_cls else ():
            fields.setdefault(field.name, (options_cls, field))
    return list(fields.values())


def _predict(args):
    if not args.texts and sys.stdin.isatty():
        raise ValueError("Expected inputs as arguments or one per line on stdin. Received: none.")
    inputs = args.texts or stdin_lines()
    if not inputs:
        raise ValueError("Expected inputs as arguments or one per line on stdin. Received: none.")
    predictor = load_predictor(args.run_dir, backend=args.backend)
    names = [field.name for _, field in _predict_options()]
    given = {name: getattr(args, name) for name in names if getattr(args, name) is not None}
    records = predictor.predict(inputs, **vars(predictor.options(**given) or {}))
    for source, record in zip(inputs, records, strict=True):
        print(json.dumps(record, ensure_ascii=False) if args.json else predictor.line(record, source))
        for warning in predictor.warnings(record, source):
            print(f"rnnlab: warning: {warning}", file=sys.stderr)
    predictor.task.report(predictor, records, inputs, args)


def _tune(args):
    task = get_task(args.task)
    config, _ = _config_from_args(task, args)
    output = f"runs/tune-{args.task}-{time.strftime('%Y%m%d-%H%M%S')}" if args.output is None else args.output
    tune(task, config, output, trials=args.trials, overwrite=args.overwrite)


def _bench(args):
    for peer in args.peers or ():
        if peer not in PEERS:
            raise ValueError(f"Expected peers in {set(PEERS)}. Received: {peer!r}")
    if args.repeats is not None and args.repeats < 1:
        raise ValueError(f"Expected --repeats >= 1. Received: {args.repeats}")
    chosen = [name for name in ("quick", "translation", "lm") if getattr(args, name)]
    if len(chosen) > 1:
        flags = " and ".join(f"--{name}" for name in chosen)
        raise ValueError(f"Expected at most one of --quick, --translation and --lm. Received: {flags}.")
    suite = chosen[0] if chosen else "full"
    if args.workload is not None:
        runner.find_workload(args.workload)  # a wrong name fails before anything runs
    result = runner.run(suite, repeats=args.repeats, peers=args.peers, workload=args.workload)
    stamp = time.strftime("%Y%m%d-%H%M%S")
    output = args.output or f"results/bench/bench{'' if suite == 'full' else '-' + suite}-{stamp}.json"
    runs.write_json(output, result)
    print(runner.markdown(result))
    print()
    print(runner.ratios_markdown(result))
    print(f"Record: {output}")
    workload = args.workload or (
        "simple/train/b32" if suite in ("full", "quick") else next(iter(result["results"]))
    )
    speedup = runner.speedup_vs_fastest_peer(result, workload)
    print(f"speedup_vs_fastest_peer={speedup:.2f}" if speedup is not None else "speedup_vs_fastest_peer=n/a")


def _gradcheck(args):
    return 0 if gradcheck_report.run(args.backends) else 1


def _lab(args):
    if args.experiment == "states":
        states.run(args.run_dir, args.output, text=args.text, chars=args.chars, overwrite=args.overwrite,
                   backend=args.backend)  # fmt: skip
        return
    if args.backend:
        backends.select(args.backend)
    config = gradients.GradientLabConfig.quick() if args.quick else gradients.GradientLabConfig()
    changes = {name: getattr(args, name) for name in ("problems", "variants", "lengths", "epochs")}
    changes = {name: tuple(v) if isinstance(v, list) else v for name, v in changes.items() if v is not None}
    gradients.run(dataclasses.replace(config, **changes), args.output, overwrite=args.overwrite)


def _serve(args):
    if args.backend:
        backends.select(args.backend)
    serve(
        args.run_dirs,
        host=args.host,
        port=args.port,
        token=args.token,
        read_timeout=args.read_timeout,
        keep_alive_timeout=args.keep_alive_timeout,
    )


def _export(args):
    manifest = export_run(
        args.run_dir, args.output, format=args.format, overwrite=args.overwrite, quantize=args.quantize
    )
    print(f"{describe_export(manifest)}. Written to {args.output}")


def _pack(args):
    index = packs.pack(args.folder, args.output, overwrite=args.overwrite)
    sha256 = manifests.sha256_file(args.output)
    print(f"Packed the {index['task']} {index['kind']} {args.folder} into {args.output} (sha256 {sha256})")


COMMANDS = {
    "export": _export,
    "pack": _pack,
    "lab": _lab,
    "serve": _serve,
    "train": _train,
    "launch": lambda args: launcher.launch(args.processes, args.train_command),
    "prepare": _prepare,
    "evaluate": _evaluate,
    "predict": _predict,
    "tune": _tune,
    "bench": _bench,
    "gradcheck": _gradcheck,
}


def parse_args(argv):
    """The parsed command line `argv`; inputs after options are `predict`'s
    (`rnnlab predict RUN --explain "text"`)."""
    parser = build_parser()
    args, extra = parser.parse_known_args(argv)
    if extra:
        if args.command != "predict" or any(e.startswith("-") for e in extra):
            parser.error(f"unrecognized arguments: {' '.join(extra)}")
        args.texts = [*args.texts, *extra]
    return args


def run(args):
    """Runs a parsed command line (a task's own verb, or one of `COMMANDS`); returns its exit code."""
    command = getattr(args, "func", None) or COMMANDS[args.command]
    return command(args) or 0
