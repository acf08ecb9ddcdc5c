"""Leave-one-speaker-out on FSDD's isolated digits: for each of the six speakers, train
on the others and test on every recording of that speaker; writes the per-speaker test
accuracy, their mean and their minimum.

Validation is a held-out speaker (`--valid-speaker`: one of the five training speakers, not
trained on), so early stopping sees the gap a new voice opens. With `--members K`, K runs per
test speaker validate on K different training speakers (each run hears four voices, every voice
is heard by K - 1 or K runs) and the ensemble averages their digit probabilities.
`--validation split` keeps the old protocol (a random tenth of the five speakers' recordings).
Flags after the script's own go to every `rnnlab train speech` (an ablation row):

python benchmarks/speech_loso.py --config recipes/speech/digits.toml --runs runs/loso \
    --output results/speech/digits-loso.json --epochs 12 [--members 3] [--vtln 0.85 0.9 ... 1.15] \
    [-- --vtlp 0.1]
"""

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

from rnnlab.audio.perturbation import SpectralPerturbation
from rnnlab.datasets.fsdd import SPEAKERS
from rnnlab.runs import provenance, write_json
from rnnlab.tasks.base import load_predictor
from rnnlab.tasks.speech.task import recording_pools

BATCH = 50


def train(args, speaker, valid_speaker, seed, run, extra):
    """Trains one run unless it finished before (the script resumes)."""
    if (run / "metrics.json").is_file():
        return
    command = [sys.executable, "-m", "rnnlab", "train", "speech", "--config", args.config,
               "--held-out-speaker", speaker, "--output", str(run)]  # fmt: skip
    if seed:  # members after the first: their own seeds (the first keeps the recipe's)
        command += ["--seed", str(seed)]
    if valid_speaker:
        command += ["--valid-speaker", valid_speaker]
    if args.epochs:
        command += ["--epochs", str(args.epochs)]
    if Path(f"{run}.partial").is_dir():
        command.append("--resume")
    subprocess.run(command + extra, check=True)


def test_probabilities(predictor, warp=1.0):
    """`(probabilities (n, 10), digits (n,))` of a run's test recordings (its held-out speaker),
    from its saved model and preprocessor; with `warp`, the spectra warped by that factor first
    (test-time VTLN)."""
    _, _, test = recording_pools(predictor.config)
    perturbation = None if warp == 1.0 else SpectralPerturbation(warp=warp)
    frames = [predictor.preprocessor.frames(r.audio, perturbation) for r in test]
    probabilities = []
    for start in range(0, len(frames), BATCH):
        chunk = frames[start : start + BATCH]
        batch = np.zeros((len(chunk), max(len(f) for f in chunk), chunk[0].shape[1]), "float32")
        for row, f in enumerate(chunk):
            batch[row, : len(f)] = f  # zero frames are masked: padding changes nothing
        probabilities.append(np.asarray(predictor.model.predict_on_batch(batch)))
    return np.concatenate(probabilities), np.array([r.digit for r in test])


def mean_entropy(probabilities):
    return float(np.mean(-np.sum(probabilities * np.log(np.clip(probabilities, 1e-12, 1.0)), axis=1)))


def vtln(predictors, digits, warps):
    """Test-time vocal-tract-length normalisation: the warp (of `warps`) under which the
    ensemble is most certain about the speaker's recordings (least mean entropy; no labels
    used), and the accuracy there. Every warp's entropy and accuracy are kept for the record."""
    by_warp = {}
    for warp in warps:
        mean = np.mean([test_probabilities(p, warp)[0] for p in predictors], axis=0)
        by_warp[warp] = (mean_entropy(mean), float(np.mean(mean.argmax(1) == digits)))
    chosen = min(by_warp, key=lambda w: by_warp[w][0])
    return {
        "warp": chosen,
        "test_accuracy": by_warp[chosen][1],
        "entropy_by_warp": {str(w): e for w, (e, _) in by_warp.items()},
        "accuracy_by_warp": {str(w): a for w, (_, a) in by_warp.items()},
    }


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--config", required=True, help="recipe for every run")
    parser.add_argument("--runs", required=True, help="folder for the run folders")
    parser.add_argument("--output", required=True, help="JSON summary to write")
    parser.add_argument("--epochs", type=int, default=None, help="override the recipe's epochs")
    parser.add_argument("--members", type=int, default=1, help="runs per test speaker, averaged")
    parser.add_argument("--validation", choices=("speaker", "split"), default="speaker",
                        help="speaker: a training speaker held out; split: validation_split")  # fmt: skip
    parser.add_argument("--vtln", type=float, nargs="+", metavar="WARP",
                        help="also test with each speaker's spectra warped by the factor (of these) under "
                        "which the runs are most certain (test-time VTLN, no labels used)")  # fmt: skip
    parser.add_argument("--note", default="", help="what this row changes, for the record")
    args, extra = parser.parse_known_args()
    extra = [flag for flag in extra if flag != "--"]
    if not 1 <= args.members <= len(SPEAKERS) - 1:
        parser.error(f"--members must be 1 to {len(SPEAKERS) - 1}. Received: {args.members}")
    if args.validation == "split" and args.members > 1:
        parser.error("--members > 1 rotates the validation speaker: it needs --validation speaker")
    start = time.perf_counter()
    per_speaker = {}
    for speaker in sorted(SPEAKERS):
        others = sorted(set(SPEAKERS) - {speaker})
        members = []
        for k in range(args.members):
            valid = others[k] if args.validation == "speaker" else None
            run = Path(args.runs) / speaker / f"member-{k}"
            train(args, speaker, valid, k, run, extra)
            members.append(run)
        predictors = [load_predictor(run) for run in members]
        results = [test_probabilities(predictor) for predictor in predictors]
        digits = results[0][1]
        member_accuracy = [float(np.mean(p.argmax(1) == digits)) for p, _ in results]
        for run, accuracy in zip(members, member_accuracy, strict=True):  # the run's own evaluation
            recorded = json.loads((run / "metrics.json").read_text(encoding="utf-8"))["test_accuracy"]
            if abs(recorded - accuracy) > 1e-6:
                raise RuntimeError(f"{run}: test accuracy {accuracy} here, {recorded} in metrics.json")
        mean_probabilities = np.mean([p for p, _ in results], axis=0)
        per_speaker[speaker] = {
            "test_accuracy": float(np.mean(mean_probabilities.argmax(1) == digits)),
            "member_test_accuracy": member_accuracy,
            "valid_speakers": others[: args.members] if args.validation == "speaker" else None,
            "num_test": len(digits),
            "train_wall_time_s": [
                json.loads((run / "metrics.json").read_text(encoding="utf-8"))["train_wall_time_s"]
                for run in members
            ],
        }
        if args.vtln:
            per_speaker[speaker]["vtln"] = vtln(predictors, digits, args.vtln)
        print(f"{speaker}: test accuracy {100 * per_speaker[speaker]['test_accuracy']:.2f}% "
              f"(members {', '.join(f'{100 * a:.2f}%' for a in member_accuracy)})", flush=True)  # fmt: skip
    accuracies = [value["test_accuracy"] for value in per_speaker.values()]
    summary = {
        "task": "speech",
        "split": "leave-one-speaker-out",
        "validation": args.validation,
        "members": args.members,
        "train_flags": extra,
        "mean_test_accuracy": float(np.mean(accuracies)),
        "min_test_accuracy": min(accuracies),
        "mean_member_test_accuracy": float(
            np.mean([a for value in per_speaker.values() for a in value["member_test_accuracy"]])
        ),
        **(
            {
                "vtln_warps": args.vtln,
                "vtln_mean_test_accuracy": float(
                    np.mean([v["vtln"]["test_accuracy"] for v in per_speaker.values()])
                ),
                "vtln_min_test_accuracy": min(v["vtln"]["test_accuracy"] for v in per_speaker.values()),
            }
            if args.vtln
            else {}
        ),
        "per_speaker": per_speaker,
        "wall_time_s": round(time.perf_counter() - start, 2),
        **provenance("jax"),
        "note": args.note,
    }
    summary["command"] = " ".join(["python", "benchmarks/speech_loso.py", *sys.argv[1:]])
    write_json(args.output, summary)
    mean = 100 * summary["mean_test_accuracy"]
    print(f"Mean test accuracy over {len(accuracies)} held-out speakers: {mean:.2f}% "
          f"(lowest {100 * summary['min_test_accuracy']:.2f}%)")  # fmt: skip


if __name__ == "__main__":
    main()
