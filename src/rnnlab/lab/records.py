"""Where labs write: a folder of their own records and plots, never replacing another's file."""

import json
from pathlib import Path


def check_output(output, record, lab, overwrite=False):
    """Refuses an `output` that is a file, a `record` there that lab `lab` did not write,
    and its own earlier record without `overwrite`.

    Args:
        output: the folder the lab writes into (new or existing).
        record: the record's file name, e.g. `gradients.json`.
        lab: the lab's name, kept in the record's `lab` field.
        overwrite: replace the lab's own earlier record.
    """
    output = Path(output)
    if output.exists() and not output.is_dir():
        raise ValueError(f"--output {output} is a file. Expected a folder (new or existing).")
    path = output / record
    if path.exists():
        try:
            mine = json.loads(path.read_text()).get("lab") == lab
        except (ValueError, OSError, AttributeError):
            mine = False
        if not mine:
            raise ValueError(
                f"{path} exists and was not written by `rnnlab lab {lab}`; rnnlab will not "
                "replace it. Choose another --output."
            )
        if not overwrite:
            raise ValueError(f"{path} already exists. Choose another --output or pass --overwrite.")
