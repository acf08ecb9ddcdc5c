"""Where labs and other commands write records: never over a file rnnlab did not write."""

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
        if not written_by(path, "lab", lab):
            raise ValueError(
                f"{path} exists and was not written by `rnnlab lab {lab}`; rnnlab will not "
                "replace it. Choose another --output."
            )
        if not overwrite:
            raise ValueError(f"{path} already exists. Choose another --output or pass --overwrite.")


def written_by(path, field, value):
    """Whether the JSON file `path` is a record whose `field` is `value` (what rnnlab writes into
    its own records), so rnnlab may replace it; anything unreadable is not."""
    try:
        return json.loads(Path(path).read_text()).get(field) == value
    except (ValueError, OSError, AttributeError, RecursionError):
        return False
