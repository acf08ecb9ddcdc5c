"""Reproduction checks: short, fixed-seed versions of the recorded recipes, whose
per-epoch validation losses are recorded once and then compared on every change.

    python benchmarks/reproduce.py --record [--checks NAME ...]   # seeds 0, 1, 2: reference + tolerance
    python benchmarks/reproduce.py [--checks NAME ...] [--output results/reproduce/check.json]

A training run is deterministic on one machine (same commit, same seed: the same
bits), but a change of CPU, of kernel path (AVX2 or AVX-512) or of summation
order perturbs it at the level of float rounding, and training amplifies such
perturbations: the longer the run, the larger the drift (a full translation run
ends several BLEU apart). The checks are kept short, where rounding-level drift
is still far below the spread between seeds. `--record` trains each check with
seeds 0, 1 and 2 and keeps seed 0's curve as the reference; the tolerance is a
quarter of the mean seed-to-seed range of the validation loss, so a change that
moves a curve by that much (a broken dropout mask, a wrong gradient, another
learning-rate schedule) fails until the record is consciously re-made.

The checks marked `ci` run in the default test suite (`tests/test_reproduce.py`);
the others are `slow` tests and run here.
"""

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from rnnlab.cli import main as rnnlab  # noqa: E402
from rnnlab.runs import write_json  # noqa: E402

REFERENCE = ROOT / "results" / "reproduce" / "reference.json"
SEEDS = (0, 1, 2)
TOLERANCE_SHARE = 0.25  # of the mean seed-to-seed range

# name: (arguments of `rnnlab train`, runs in the default test suite)
CHECKS = {
    "article": (
        ["sentiment", "--config", "recipes/sentiment/article.toml", "--limit", "10000", "--epochs", "3"],
        True,
    ),
    "gru-fast": (
        ["sentiment", "--config", "recipes/sentiment/gru-fast.toml", "--limit", "6000", "--epochs", "2"],
        True,
    ),
    "translation": (
        [
            "translation",
            "--config",
            "recipes/translation/luong-gru-60min.toml",
            "--limit",
            "3000",
            "--epochs",
            "3",
            "--warmup-steps",
            "20",  # 47 steps an epoch: the recipe's 200 would leave no time to learn
        ],
        True,
    ),
    "speech-digits": (
        ["speech", "--config", "recipes/speech/digits.toml", "--epochs", "2", "--augment", "0"],
        False,
    ),
    "shakespeare": (
        ["lm", "--config", "recipes/lm/shakespeare-char.toml", "--limit", "2000", "--epochs", "2"],
        False,
    ),
    "translation-full": (
        ["translation", "--config", "recipes/translation/luong-gru-60min.toml", "--epochs", "2"],
        False,
    ),
}


def train_history(arguments, seed, folder):
    """Trains `rnnlab train ARGUMENTS --seed SEED` into `folder`; returns its metrics."""
    output = Path(folder) / f"seed{seed}"
    code = rnnlab(["train", *arguments, "--seed", str(seed), "--output", str(output)])
    if code != 0:
        raise RuntimeError(f"rnnlab train {' '.join(arguments)} --seed {seed} exited with {code}")
    return json.loads((output / "metrics.json").read_text(encoding="utf-8"))


def record(name):
    """Seed 0's validation-loss curve and a tolerance from seeds 0, 1 and 2."""
    arguments, _ = CHECKS[name]
    start = time.perf_counter()
    with tempfile.TemporaryDirectory() as folder:
        metrics = [train_history(arguments, seed, folder) for seed in SEEDS]
    curves = [m["history"]["val_loss"] for m in metrics]
    ranges = [max(values) - min(values) for values in zip(*curves, strict=True)]
    reference = metrics[0]
    return {
        "command": "rnnlab train " + " ".join(arguments) + " --seed 0",
        "val_loss": curves[0],
        "seed_curves": {str(seed): curve for seed, curve in zip(SEEDS, curves, strict=True)},
        "seed_range_by_epoch": ranges,
        "tolerance": TOLERANCE_SHARE * statistics.fmean(ranges),
        "tolerance_rule": f"{TOLERANCE_SHARE} x the mean over epochs of the range of seeds {list(SEEDS)}",
        "wall_time_s": round(time.perf_counter() - start, 1),
        "git_commit": reference["git_commit"],
        "backend": reference["backend"],
        "versions": reference["versions"],
        "machine": reference["machine"],
    }


def compare(name, reference, folder):
    """`(passed, report)`: this checkout's seed-0 curve against the recorded one."""
    arguments, _ = CHECKS[name]
    metrics = train_history(arguments, 0, folder)
    curve = metrics["history"]["val_loss"]
    worst = max(abs(a - b) for a, b in zip(curve, reference["val_loss"], strict=True))
    report = {
        "val_loss": curve,
        "reference": reference["val_loss"],
        "largest_difference": worst,
        "tolerance": reference["tolerance"],
        "git_commit": metrics["git_commit"],
        "machine": metrics["machine"],
    }
    return len(curve) == len(reference["val_loss"]) and worst <= reference["tolerance"], report


def load_reference(path=REFERENCE):
    return json.loads(Path(path).read_text(encoding="utf-8")) if Path(path).is_file() else {}


def main():
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--record", action="store_true", help="train seeds 0, 1, 2 and write the reference")
    parser.add_argument("--checks", nargs="*", default=list(CHECKS), choices=list(CHECKS))
    parser.add_argument("--output", help="with checking: write the comparison here (JSON)")
    args = parser.parse_args()
    references = load_reference()
    if args.record:
        for name in args.checks:
            references[name] = record(name)
            write_json(REFERENCE, references)  # after each check: a long recording keeps what it has
            print(
                f"{name}: tolerance {references[name]['tolerance']:.4f}, curve {references[name]['val_loss']}"
            )
        return 0
    failed, reports = [], {}
    with tempfile.TemporaryDirectory() as folder:
        for name in args.checks:
            if name not in references:
                print(f"{name}: no reference recorded (run with --record)")
                failed.append(name)
                continue
            passed, reports[name] = compare(name, references[name], folder)
            verdict = "ok" if passed else "FAILED"
            worst, tolerance = reports[name]["largest_difference"], reports[name]["tolerance"]
            print(f"{name}: {verdict}, largest difference {worst:.5f} (tolerance {tolerance:.5f})")
            if not passed:
                failed.append(name)
    if args.output:
        write_json(args.output, {"command": " ".join(["benchmarks/reproduce.py", *sys.argv[1:]]),
                                 "checks": reports, "failed": failed})  # fmt: skip
    print(f"{len(args.checks) - len(failed)} passed, {len(failed)} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
