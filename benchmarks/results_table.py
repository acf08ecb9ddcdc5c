"""Prints the README's sentiment results table from the records in results/sentiment/.

Records trained with Keras' own layers (before FastRNN became the default)
are shown with `--no-fast-layers` added, the flag that reproduces them now.

python benchmarks/results_table.py
"""

import json
from pathlib import Path

ORDER = [
    "article-simple",
    "article-lstm",
    "article-gru",
    "article-simple-native",
    "article-lstm-native",
    "article-gru-native",
    "gru-fast",
    "gru-fast-stopwords",
    "gru-fast-subword",
    "bigru-mean",
    "tuned",
    "bigru-word2vec",
    "best",
]


def main():
    folder = Path(__file__).parents[1] / "results" / "sentiment"
    records = {p.stem: json.loads(p.read_text()) for p in folder.glob("*.json")}
    records = {name: r for name, r in records.items() if "config" in r}  # single runs only
    print("| record | command | test accuracy | best val. (epoch) | train time | params |")
    print("|---|---|---|---|---|---|")
    for name in sorted(records, key=lambda n: ORDER.index(n) if n in ORDER else len(ORDER)):
        r = records[name]
        command = r["command"]
        if not r["config"].get("fast_layers", False) and "--no-fast-layers" not in command:
            command = command.replace(" --output", " --no-fast-layers --output")
        print(
            f"| `{name}` | `{command}` | **{r['test_accuracy']:.2%}** | "
            f"{r['best_val_accuracy']:.2%} ({r['best_epoch']}) | {r['train_wall_time_s']:.0f} s | "
            f"{r['num_params']:,} |"
        )


if __name__ == "__main__":
    main()
