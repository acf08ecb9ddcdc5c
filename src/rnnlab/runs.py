"""Run folders and what every result records: command, commit, versions, machine.

A run is written into a temporary sibling folder and renamed into place only
when complete, so an interrupted run never leaves a half-written folder.
"""

import contextlib
import importlib.metadata
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from rnnlab.io import atomic_write, umask

PACKAGES = ("rnnlab", "keras", "jax", "jaxlib", "tensorflow", "tensorflow-cpu", "torch", "numpy")


def write_json(path, data):
    """Writes JSON through a temp file and a rename."""
    atomic_write(path, json.dumps(data, indent=2) + "\n")


def write_text(path, text):
    """Writes text through a temp file and a rename."""
    atomic_write(path, text)


def git_commit():
    """The rnnlab checkout's commit (with `-dirty` when modified), or None."""
    root = Path(__file__).resolve().parents[2]
    try:
        commit = subprocess.run(
            ["git", "-C", str(root), "rev-parse", "HEAD"], capture_output=True, text=True, check=True
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "-C", str(root), "status", "--porcelain", "--untracked-files=no"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return None
    return commit + ("-dirty" if dirty else "")


def versions():
    """Installed versions of the libraries that shape results."""
    found = {"python": platform.python_version()}
    for name in PACKAGES:
        with contextlib.suppress(importlib.metadata.PackageNotFoundError):
            found[name] = importlib.metadata.version(name)
    return found


def machine():
    """What the run ran on."""
    cpu = platform.processor()
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    return {"platform": platform.platform(), "cpu": cpu, "cpu_count": os.cpu_count()}


def provenance(backend):
    """The record every result carries."""
    return {
        "command": " ".join(["rnnlab", *sys.argv[1:]])
        if Path(sys.argv[0]).name in ("rnnlab", "__main__.py")
        else " ".join(sys.argv),
        "git_commit": git_commit(),
        "backend": backend,
        "versions": versions(),
        "machine": machine(),
    }


@contextlib.contextmanager
def run_folder(output, overwrite=False):
    """Yields a temp folder that becomes `output` when the block succeeds.

    Raises:
        FileExistsError: `output` exists and `overwrite` is False.
    """
    output = Path(output)
    if output.exists() and not overwrite:
        raise FileExistsError(
            f"Output folder {output} already exists. Choose another --output or pass --overwrite."
        )
    output.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(dir=output.parent, prefix=output.name + ".partial-"))
    try:
        yield tmp
        if output.exists() and not overwrite:  # appeared while the run was going
            raise FileExistsError(f"Output folder {output} appeared during the run; not replacing it.")
        os.chmod(tmp, 0o777 & ~umask())  # mkdtemp makes 0700 folders
        if output.exists():
            old = Path(tempfile.mkdtemp(dir=output.parent, prefix=output.name + ".old-"))
            os.replace(output, old / "run")
            shutil.rmtree(old)
        os.replace(tmp, output)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp)
