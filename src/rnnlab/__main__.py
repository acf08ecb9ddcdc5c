"""The `rnnlab` command (and `python -m rnnlab`, the same)."""

import sys


def run():
    """Runs the command line (`rnnlab.cli.main`: it chooses the backend, then imports the verb's
    modules); a Ctrl-C at any moment, even while Python imports them, ends with one line and exit
    code 130."""
    try:
        from rnnlab.cli import main  # inside the try: a Ctrl-C during this import is one line too
    except KeyboardInterrupt:
        print("\nrnnlab: interrupted", file=sys.stderr)
        return 130
    code = main()
    processes = sys.modules.get("rnnlab.training.processes")  # present once a verb's modules are imported
    return processes.leave_at_once_on_failure(code) if processes else code


if __name__ == "__main__":
    sys.exit(run())
