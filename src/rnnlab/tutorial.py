"""Runs a Markdown tutorial's code blocks and checks the output it shows (docs/tutorial/).

    python -m rnnlab.tutorial docs/tutorial/en.md            # run every block, compare outputs
    python -m rnnlab.tutorial docs/tutorial/en.md --update   # run, then rewrite the output blocks

Blocks, in the order of the file:
    ```python    executed; all python blocks of a file share one namespace
    ```console   each line `$ rnnlab ...` runs the CLI in-process (a trailing `\\` continues it)
    ```output    right after one of those: what it must print. A line `...` stands for
                 any number of lines, and `...` inside a line for any text (timings,
                 progress, accuracies of short runs), so only stable text is checked.

Blocks run in a fresh folder where `results/` and `recipes/` are links to the repository's, so
relative paths work as they do from a checkout and nothing is written into it.
"""

import argparse
import contextlib
import io
import os
import re
import shlex
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

from rnnlab import cli
from rnnlab.runs import write_text

FENCE = re.compile(r"^```(\w*)[^\n]*\n(.*?)^```[ \t]*$", re.M | re.S)
RUNNABLE = ("python", "console")
LINKED = ("results", "recipes")
MARKDOWN_LINK = re.compile(r"\]\(([^)\s]+)\)")


@dataclass
class Block:
    """A fenced code block.

    Attributes:
        kind: the fence's language (`python`, `console`, `output`, ...).
        code: its text.
        line: the 1-based line of its opening fence.
        span: `(start, end)` offsets of its text in the file.
        output: the `output` block right after it, if any.
    """

    kind: str
    code: str
    line: int
    span: tuple
    output: "Block | None" = None


class TutorialError(Exception):
    """A block failed or printed something other than its output block."""


def parse(text):
    """The runnable blocks of `text`, each with the `output` block that follows it."""
    blocks = []
    for match in FENCE.finditer(text):
        block = Block(match[1], match[2], text.count("\n", 0, match.start()) + 1, match.span(2))
        previous = blocks[-1] if blocks else None
        between = text[previous.span[1] : match.start()] if previous else ""
        if block.kind == "output":
            if previous is None or previous.kind not in RUNNABLE or previous.output is not None:
                raise TutorialError(
                    f"line {block.line}: an output block must follow a python or console block"
                )
            if between.strip("`\n \t"):
                raise TutorialError(f"line {block.line}: text between a block and its output block")
            previous.output = block
        blocks.append(block)
    return [block for block in blocks if block.kind in RUNNABLE]


def commands(code):
    """The `rnnlab` commands of a console block, continuation lines joined."""
    joined = re.sub(r"\\\n\s*", " ", code)
    found = []
    for line in joined.splitlines():
        if not line.startswith("$ "):
            continue
        args = shlex.split(line[2:])
        if not args or args[0] != "rnnlab":
            raise TutorialError(f"Expected console commands to start with `$ rnnlab`. Received: {line!r}")
        found.append(args[1:])
    return found


def run_block(block, namespace, name="tutorial"):
    """Runs `block`; returns what it printed."""
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        if block.kind == "python":
            exec(compile(block.code, f"{name}:{block.line + 1}", "exec"), namespace)  # noqa: S102
        else:
            for args in commands(block.code):
                code = cli.main(args)
                if code != 0:
                    raise TutorialError(f"line {block.line}: `rnnlab {shlex.join(args)}` exited with {code}")
    return printed.getvalue()


def _normalise(text):
    return [line.rstrip() for line in text.strip("\n").splitlines()]


def matches(expected, actual):
    """Whether `actual` printed text fits `expected`, where a line `...` matches any lines and
    `...` within a line any text.

    Example:
    >>> matches("a\\n...\\nc", "a\\nb\\nb\\nc")
    True
    >>> matches("accuracy ...%", "accuracy 78.3%")
    True
    >>> matches("a\\nc", "a\\nb\\nc")
    False
    """
    pattern = "".join(
        "(?:.*\\n)*?" if line == "..." else ".*?".join(map(re.escape, line.split("..."))) + "\\n"
        for line in _normalise(expected)
    )
    return re.fullmatch(pattern, "\n".join(_normalise(actual)) + "\n") is not None


def check_links(path):
    """Relative links and images of the Markdown file `path` that point at nothing."""
    text = Path(path).read_text(encoding="utf-8")
    missing = []
    for target in MARKDOWN_LINK.findall(text):
        if re.match(r"^[a-z]+:|^#", target):
            continue
        if not (Path(path).parent / target.split("#")[0]).exists():
            missing.append(target)
    return missing


def repository_root(path):
    """The nearest folder above `path` holding `pyproject.toml`."""
    for folder in Path(path).resolve().parents:
        if (folder / "pyproject.toml").exists():
            return folder
    raise TutorialError(f"Expected {path} inside a checkout of rnnlab (no pyproject.toml above it).")


def run(path, update=False, workdir=None, log=print):
    """Runs every block of the tutorial `path` in order and checks each output block.

    Args:
        update: rewrite each output block with what its block printed, keeping its `...`
            lines' place only when the text still fits (else the full new text).
        workdir: folder to run in (default: a new temporary folder).

    Raises:
        TutorialError: a block raised, exited non-zero or printed something else.
    """
    path = Path(path).resolve()
    text = path.read_text(encoding="utf-8")
    root = repository_root(path)
    blocks = parse(text)
    replacements = []
    with contextlib.ExitStack() as stack:
        folder = Path(workdir or stack.enter_context(tempfile.TemporaryDirectory(prefix="rnnlab-tutorial-")))
        for name in LINKED:
            if not (folder / name).exists():
                (folder / name).symlink_to(root / name, target_is_directory=True)
        previous = os.getcwd()
        os.chdir(folder)
        stack.callback(os.chdir, previous)
        namespace = {"__name__": "__tutorial__"}
        for block in blocks:
            try:
                printed = run_block(block, namespace, path.name)
            except TutorialError:
                raise
            except (Exception, SystemExit) as error:  # a failing block: say where, keep the cause
                raise TutorialError(f"{path.name}, block at line {block.line}: {type(error).__name__}: "
                                    f"{error}") from error  # fmt: skip
            if block.output is None:
                continue
            if not matches(block.output.code, printed):
                if not update:
                    raise TutorialError(
                        f"{path.name}, block at line {block.line} printed something else.\n"
                        f"Expected:\n{block.output.code}\nReceived:\n{printed}"
                    )
                replacements.append((block.output.span, printed.strip("\n") + "\n"))
            log(f"ok  line {block.line} ({block.kind})")
    if update and replacements:
        for (start, end), new in sorted(replacements, reverse=True):
            text = text[:start] + new + text[end:]
        write_text(path, text)
        log(f"updated {len(replacements)} output block(s) of {path}")
    return len(blocks)


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m rnnlab.tutorial", description=__doc__.splitlines()[0])
    parser.add_argument("paths", nargs="+", metavar="FILE", help="Markdown tutorials to run")
    parser.add_argument("--update", action="store_true", help="rewrite output blocks that differ")
    args = parser.parse_args(argv)
    for path in args.paths:
        missing = check_links(path)
        if missing:
            print(f"{path}: links to missing files: {', '.join(missing)}", file=sys.stderr)
            return 1
        try:
            count = run(path, update=args.update)
        except TutorialError as error:
            print(f"{path}: {error}", file=sys.stderr)
            return 1
        print(f"{path}: {count} blocks ran")
    return 0


if __name__ == "__main__":
    sys.exit(main())
