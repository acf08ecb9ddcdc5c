"""Reproduction checks: short, fixed-seed versions of the recorded recipes, whose
per-epoch validation losses are recorded once and then compared on every change.

    python benchmarks/reproduce.py --record [--checks NAME ...]   # seeds 0, 1, 2: the reference
    python benchmarks/reproduce.py [--checks NAME ...] [--output results/reproduce/check.json]

A training run is deterministic on one machine (same commit, same seed: the same bits), but
another machine is another draw: the same commit and seed on two hosts of the same CPU model
part at the first epoch by as much as two seeds do (`results/reproduce/machine-drift.json`),
because training amplifies float-rounding differences in the compiled kernels. So a check asks
whether this checkout's seed-0 curve is a draw from the recorded distribution: at every epoch
it must lie within the mean of the recorded seeds 0, 1 and 2 plus or minus three of their
standard deviations. A change that shifts the distribution by more than that (a broken dropout
mask, a wrong gradient, another learning-rate schedule, a slower first epoch) fails until the
record is consciously re-made with `--record`; smaller shifts need more seeds to see.

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
SPREAD = 3.0  # standard deviations of the recorded seeds a reproduced epoch may be off their mean

# name: (arguments of `rnnlab train`, runs in the default test suite)
CHECKS = {
    "article": (
        ["sentiment", "--config", "recipes/sentiment/article.toml", "--limit", "10000", "--epochs", "3"],
        True,
    ),
    "gru-fast": (
        ["sentiment", "--config", "recipes/sentiment/gru-fast.toml", "--limit", "6000", "--epochs", "2"],
        False,  # 35 s: `-m slow` or by hand (the article check stays in the default suite)
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
        False,  # 1.5-2 min: run by hand (`--checks translation`), its runs recorded in results/reproduce
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
    """The validation-loss curves of seeds 0, 1 and 2 and the band a reproduction must stay in."""
    arguments, _ = CHECKS[name]
    start = time.perf_counter()
    with tempfile.TemporaryDirectory() as folder:
        metrics = [train_history(arguments, seed, folder) for seed in SEEDS]
    curves = [m["history"]["val_loss"] for m in metrics]
    reference = metrics[0]
    return {
        "command": "rnnlab train " + " ".join(arguments) + " --seed 0",
        "val_loss": curves[0],
        "seed_curves": {str(seed): curve for seed, curve in zip(SEEDS, curves, strict=True)},
        **band(curves),
        "wall_time_s": round(time.perf_counter() - start, 1),
        "git_commit": reference["git_commit"],
        "backend": reference["backend"],
        "versions": reference["versions"],
        "machine": reference["machine"],
    }


def band(curves):
    """Per epoch, the seeds' mean and the tolerance around it (`SPREAD` standard deviations)."""
    by_epoch = list(zip(*curves, strict=True))
    return {
        "seed_mean_by_epoch": [statistics.fmean(values) for values in by_epoch],
        "tolerance_by_epoch": [SPREAD * statistics.stdev(values) for values in by_epoch],
        "tolerance_rule": f"per epoch: the mean of seeds {list(SEEDS)} +- {SPREAD:g} standard deviations",
    }


def within(curve, reference):
    """`(passed, largest excess)`: whether every epoch of `curve` lies in the reference's band;
    the excess is the largest distance from the mean in tolerances (above 1 fails)."""
    means, tolerances = reference["seed_mean_by_epoch"], reference["tolerance_by_epoch"]
    if len(curve) != len(means):
        return False, float("inf")
    excess = max(
        abs(value - mean) / tolerance for value, mean, tolerance in zip(curve, means, tolerances, strict=True)
    )
    return excess <= 1.0, excess


def compare(name, reference, folder):
    """`(passed, report)`: this checkout's seed-0 curve against the recorded band."""
    arguments, _ = CHECKS[name]
    metrics = train_history(arguments, 0, folder)
    curve = metrics["history"]["val_loss"]
    passed, excess = within(curve, reference)
    report = {
        "val_loss": curve,
        "seed_mean_by_epoch": reference["seed_mean_by_epoch"],
        "tolerance_by_epoch": reference["tolerance_by_epoch"],
        "largest_excess": excess,
        "recorded_seed_0": reference["val_loss"],
        "git_commit": metrics["git_commit"],
        "machine": metrics["machine"],
    }
    return passed, report


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
            band_of = references[name]
            print(f"{name}: band {band_of['seed_mean_by_epoch']} +- {band_of['tolerance_by_epoch']}")
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
            print(f"{name}: {verdict}, furthest epoch at {reports[name]['largest_excess']:.2f} tolerances")
            if not passed:
                failed.append(name)
    if args.output:
        write_json(args.output, {"command": " ".join(["benchmarks/reproduce.py", *sys.argv[1:]]),
                                 "checks": reports, "failed": failed})  # fmt: skip
    print(f"{len(args.checks) - len(failed)} passed, {len(failed)} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
