"""The `rnnlab` command (and `python -m rnnlab`, the same)."""

import sys


def run():
    """Runs the command line; a Ctrl-C at any moment, even while Python imports the
    command's modules, ends with one line and exit code 130."""
    try:
        from rnnlab.cli import main
    except KeyboardInterrupt:
        print("\nrnnlab: interrupted", file=sys.stderr)
        return 130
    return main()


if __name__ == "__main__":
    sys.exit(run())
