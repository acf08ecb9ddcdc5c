"""The docs' results page, generated from the recorded runs in `results/` (MkDocs calls
`render` at build time through `docs/hooks.py`).

One table per folder of `results/`: each record's headline test metrics, commit, backend,
machine and wall time, then its exact command and note. Nothing on the page is typed by hand.

Example:
    python docs/results_page.py > /tmp/results.md
"""

import json
import sys
from pathlib import Path

PERCENT = {"accuracy", "string_accuracy", "cer", "wer"}  # fractions shown as percentages
SKIPPED = {"loss"}  # the training objective (with label smoothing etc.), not a result


def render(results_dir):
    """The Markdown of the results page for the JSON records under `results_dir`."""
    results_dir = Path(results_dir)
    lines = [
        "# Results",
        "",
        "Every recorded run in `results/`, generated from the JSON records when the site is built "
        "(`docs/results_page.py`). Each record holds the exact command, the git commit, the backend, "
        "library versions, the machine and the wall time; the guides explain what the numbers mean. "
        "Records that miss their target are listed too.",
        "",
    ]
    folders = {}
    for path in sorted(results_dir.rglob("*.json")):
        folders.setdefault(path.parent.relative_to(results_dir).as_posix(), []).append(path)
    for folder, paths in folders.items():
        lines += [f"## {'results' if folder == '.' else folder}", ""]
        lines += ["| record | test metrics | commit | backend | machine | wall time |", "|---" * 6 + "|"]
        details = []
        for path in paths:
            record = json.loads(path.read_text(encoding="utf-8"))
            name = path.relative_to(results_dir).as_posix()
            if not isinstance(record, dict):
                continue
            lines.append(
                f"| [`{path.stem}`](results/{name}) | {_metrics(record)} | {_commit(record)} | "
                f"{record.get('backend', '')} | {_machine(record)} | {_wall_time(record)} |"
            )
            command, note = record.get("command"), record.get("note") or record.get("what")
            if command or note:
                details.append(f"- **{path.stem}**: " + (f"`{_one_line(command)}`" if command else ""))
                if note:
                    details[-1] += ("  \n  " if command else "") + _one_line(note)
        lines += ["", *details, ""]
    return "\n".join(lines)


def _metrics(record):
    test = record.get("test")
    if not isinstance(test, dict):
        test = {key[len("test_") :]: value for key, value in record.items() if key.startswith("test_")}
    shown = []
    for name, value in test.items():
        if name in SKIPPED or not isinstance(value, int | float):
            continue
        shown.append(f"{name} {value:.2%}" if name in PERCENT else f"{name} {value:.4g}")
    return ", ".join(shown) or "—"


def _commit(record):
    commit = record.get("git_commit") or ""
    return f"`{commit[:7]}{'-dirty' if commit.endswith('-dirty') else ''}`" if commit else ""


def _machine(record):
    machine = record.get("machine")
    if not isinstance(machine, dict):
        return ""
    return f"{machine.get('cpu', '?')}, {machine.get('cpu_count', '?')} cores"


def _wall_time(record):
    seconds = record.get("wall_time_s")
    if not isinstance(seconds, int | float):
        return ""
    return f"{seconds / 60:.0f} min" if seconds >= 120 else f"{seconds:.0f} s"


def _one_line(value):
    text = value if isinstance(value, str) else json.dumps(value)
    return " ".join(text.split())


if __name__ == "__main__":
    sys.stdout.write(render(Path(__file__).resolve().parents[1] / "results"))
