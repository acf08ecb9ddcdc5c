"""The `rnnlab` command (and `python -m rnnlab`, the same)."""

import sys

from rnnlab.cli import main


def run():
    """Runs the command line (`rnnlab.cli.main`: it chooses the backend, then imports the verb's
    modules); a Ctrl-C while they are imported or while the verb runs ends with one line and exit
    code 130."""
    return main()


if __name__ == "__main__":
    sys.exit(run())
