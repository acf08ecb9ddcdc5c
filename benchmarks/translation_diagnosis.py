"""Why a translation run scores what it scores: the checks of the metric pipeline and of the model
that separate a broken pipeline from a weak model, on a finished run's test set.

- subwords: do the target references survive the target BPE round trip (encode, decode), how many
  `[UNK]`, how long are they against `max_len`;
- the metric: sacreBLEU with its `13a`, `intl` and `none` tokenizers, cased and lowercased, with the
  brevity penalty and the hypothesis/reference length ratio; how many greedy outputs hit the step cap;
- the model: test cross-entropy with the true sources against shuffled sources (does it read them),
  and greedy BLEU on a seeded sample of 1,000 training pairs (does it fit what it trained on).

python benchmarks/translation_diagnosis.py runs/en-de --output results/translation/diagnosis-en-de.json
"""

import argparse
import json
import sys
import time

import numpy as np

from rnnlab.data.padding import pad
from rnnlab.models.seq2seq import Translator
from rnnlab.runs import provenance, write_json
from rnnlab.tasks.base import load_run, load_run_model
from rnnlab.tasks.translation import records
from rnnlab.tasks.translation.pairs import load_pairs
from rnnlab.tasks.translation.preprocessor import END_ID, START_ID, UNK_ID, load_preprocessor

SAMPLE = 1000  # training pairs decoded


def subword_checks(preprocessor, references, max_len):
    encoded = [preprocessor.encode_target([r])[0][1:-1] for r in references]
    decoded = [preprocessor.decode_target(ids) for ids in encoded]
    lengths = np.array([len(ids) for ids in encoded])
    return {
        "round_trip_mismatches": sum(a != b for a, b in zip(references, decoded, strict=True)),
        "unknown_subwords": int(sum((ids == UNK_ID).sum() for ids in encoded)),
        "reference_subwords_mean": round(float(lengths.mean()), 2),
        "reference_subwords_max": int(lengths.max()),
        "references_cut_by_max_len": int((lengths > max_len - 1).sum()),
        "words_per_subword": round(sum(len(r.split()) for r in references) / int(lengths.sum()), 3),
    }


def metric_checks(hypotheses, references):
    import sacrebleu

    rows = {}
    for tokenize in ("13a", "intl", "none"):
        for lowercase in (False, True):
            bleu = sacrebleu.corpus_bleu(hypotheses, [references], tokenize=tokenize, lowercase=lowercase)
            rows[f"{tokenize}{'-lc' if lowercase else ''}"] = {
                "bleu": round(bleu.score, 2),
                "brevity_penalty": round(bleu.bp, 4),
                "length_ratio": round(bleu.sys_len / bleu.ref_len, 4),
                "precisions": [round(p, 2) for p in bleu.precisions],
            }
    return rows


def cross_entropy(model, sources, targets):
    """Mean nats per target subword (teacher forcing, no label smoothing, no dropout)."""
    total = count = 0.0
    for start in range(0, len(sources), 100):
        source, target = sources[start : start + 100], targets[start : start + 100]
        steps = max(len(t) for t in target) - 1
        x = {
            "source": pad(source, max(len(s) for s in source), side="back"),
            "target_in": pad([t[:-1] for t in target], steps, side="back"),
        }
        y = pad([t[1:] for t in target], steps, side="back")
        logits = np.asarray(model(x, training=False), np.float64)
        logits -= logits.max(-1, keepdims=True)
        log_probs = logits - np.log(np.exp(logits).sum(-1, keepdims=True))
        picked = np.take_along_axis(log_probs, y[..., None], -1)[..., 0]
        total -= float((picked * (y > 0)).sum())
        count += float((y > 0).sum())
    return total / count


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("run", help="a finished translation run")
    parser.add_argument("--output", required=True)
    args = parser.parse_args()
    started = time.perf_counter()
    task, config, folder = load_run(args.run)
    if task.name != "translation" or config.prepared is not None:
        raise SystemExit(f"{args.run}: expected a translation run trained from Multi30k or --data files.")
    preprocessor = load_preprocessor(folder / "preprocessor.json")
    model = load_run_model(folder)
    translator = Translator(model, START_ID, END_ID)
    sources, references = load_pairs(config, "test")
    hypotheses = records.translate_all(translator, preprocessor, sources, 1, config.max_len)
    source_ids = preprocessor.encode_source(sources)
    hypothesis_lengths = [len(preprocessor.encode_target([h])[0]) - 2 for h in hypotheses]
    caps = [min(2 * len(s) + 10, config.max_len + 10) for s in source_ids]
    targets = preprocessor.encode_target(references)
    shuffled = np.random.default_rng(0).permutation(len(sources))
    train_sources, train_targets = load_pairs(config, "train")
    sample = np.random.default_rng(0).choice(
        len(train_sources), min(SAMPLE, len(train_sources)), replace=False
    )
    sample_references = [train_targets[i] for i in sample]
    sample_hypotheses = records.translate_all(
        translator, preprocessor, [train_sources[i] for i in sample], 1, config.max_len
    )
    import sacrebleu

    record = {
        "run": str(args.run),
        "direction": f"{config.src}-{config.tgt}",
        "test_pairs": len(sources),
        "subwords": subword_checks(preprocessor, references, config.max_len),
        "sacrebleu_greedy": metric_checks(hypotheses, references),
        "greedy_outputs_at_step_cap": sum(h >= c - 1 for h, c in zip(hypothesis_lengths, caps, strict=True)),
        "test_cross_entropy": {
            "true_sources": round(cross_entropy(model, source_ids, targets), 4),
            "shuffled_sources": round(cross_entropy(model, [source_ids[i] for i in shuffled], targets), 4),
        },
        "train_sample_greedy": {
            "pairs": len(sample),
            "bleu": round(sacrebleu.corpus_bleu(sample_hypotheses, [sample_references]).score, 2),
            "chrf": round(sacrebleu.corpus_chrf(sample_hypotheses, [sample_references]).score, 2),
        },
        "examples": [
            {"source": sources[i], "reference": references[i], "greedy": hypotheses[i]} for i in range(5)
        ],
    }
    record.update(provenance(config.backend or "jax"))
    record["command"] = " ".join(["python", "benchmarks/translation_diagnosis.py", *sys.argv[1:]])
    record["wall_time_s"] = round(time.perf_counter() - started, 1)
    write_json(args.output, record)
    print(
        json.dumps(
            {k: v for k, v in record.items() if k not in ("versions", "machine", "examples")}, indent=1
        )
    )


if __name__ == "__main__":
    main()
