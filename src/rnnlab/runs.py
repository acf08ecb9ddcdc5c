"""Run folders and what every result records: command, commit, versions, machine.

A run folder is recognised by its `run.json` (task, rnnlab version, status,
created/finished times). A run is written into `OUTPUT.partial` (its
checkpoints too, so `--resume` finds them) and swapped into place only when
complete; the swap never leaves `OUTPUT` without a complete run, and leftovers
of an interrupted swap are repaired by the next run (`recover`). rnnlab only
ever replaces or deletes folders it recognises as its own runs.
"""

import contextlib
import ctypes
import datetime
import errno
import fcntl
import importlib.metadata
import json
import os
import platform
import secrets
import shutil
import subprocess
import sys
from pathlib import Path

from rnnlab.io import atomic_write, umask

PACKAGES = ("rnnlab", "keras", "jax", "jaxlib", "tensorflow", "tensorflow-cpu", "torch", "numpy")


def write_json(path, data):
    """Writes JSON through a temp file and a rename."""
    atomic_write(path, json.dumps(data, indent=2) + "\n")


def read_preprocessor_config(path, kind, what):
    """The JSON object a task's preprocessor saved at `path`, checked to be of `kind`.

    Args:
        path: the `preprocessor.json` file.
        kind: the `"kind"` the object must hold, e.g. 'speech'.
        what: how messages name it, e.g. 'speech' or 'language-model'.

    Raises:
        ValueError: unreadable, not JSON, not an object, or another kind.
    """
    try:
        with open(path, encoding="utf-8") as f:
            config = json.load(f)
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
        raise ValueError(f"Cannot read a {what} preprocessor from {path}: {error}") from None
    if not isinstance(config, dict) or config.get("kind") != kind:
        raise ValueError(f"{path} is not a {what} preprocessor (expected a JSON object of kind {kind!r}).")
    return config


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


RUN_FILE = "run.json"
PARTIAL_SUFFIX = ".partial"
OLD_MARK = ".old-"
LEGACY_SENTIMENT_FILES = ("model.keras", "preprocessor.json", "config.toml")  # runs made before run.json


class RunFolderError(ValueError):
    """A path is not a usable run folder (or output for one)."""


def now():
    """The current time, ISO 8601 with microseconds, UTC."""
    return datetime.datetime.now(datetime.UTC).isoformat(timespec="microseconds")


def read_run_file(folder):
    """The `run.json` of `folder` as a dict, or None when it has none.

    Raises:
        RunFolderError: `run.json` exists but is not a JSON object with a `task`.
    """
    path = Path(folder) / RUN_FILE
    if not path.is_file():
        return None
    try:
        info = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
        raise RunFolderError(f"{path} is not valid JSON ({error}); expected rnnlab's run record.") from None
    if not isinstance(info, dict) or not isinstance(info.get("task"), str):
        raise RunFolderError(
            f"{path} is not an rnnlab run record: expected a JSON object with a 'task' name. "
            f"Received: {str(info)[:80]!r}"
        )
    return info


def is_run(folder):
    """Whether `folder` is a run folder written by rnnlab (it holds a valid `run.json`)."""
    try:
        return Path(folder).is_dir() and read_run_file(folder) is not None
    except RunFolderError:
        return False


def open_run(folder):
    """Checks `folder` is a finished run and returns `(folder, run_info)`.

    Runs made before `run.json` existed (sentiment only) are recognised by
    their files.

    Raises:
        RunFolderError: missing folder, not a run, or an unfinished run.
    """
    folder = Path(folder)
    hint = ""
    if partial_path(folder).is_dir():
        hint = f" An unfinished run is at {partial_path(folder)}: finish it with --resume."
    if not folder.exists():
        raise RunFolderError(
            f"Run folder {folder} does not exist. Expected a folder written by `rnnlab train`.{hint}"
        )
    if not folder.is_dir():
        raise RunFolderError(
            f"{folder} is a file, not a run folder. Expected a folder written by `rnnlab train`."
        )
    info = read_run_file(folder)
    if info is None:
        if all((folder / name).is_file() for name in LEGACY_SENTIMENT_FILES):
            return folder, {"task": "sentiment", "status": "finished", "legacy": True}
        raise RunFolderError(
            f"{folder} is not an rnnlab run folder (no {RUN_FILE}). "
            f"Expected a folder written by `rnnlab train TASK --output DIR`.{hint}"
        )
    if info.get("status") != "finished":
        raise RunFolderError(f"{folder} holds an unfinished run (status {info.get('status')!r}).")
    return folder, info


def _contains(folder, path):
    return folder == path or folder in path.parents


def check_output(output, overwrite=False):
    """Refuses an `--output` that training must not write, before training starts.

    Refused: the working directory or any folder containing it; a path under a
    plain file; an existing file; an existing folder that is not an rnnlab run
    (even with `overwrite`); an existing run without `overwrite`.

    Raises:
        RunFolderError: saying what was received and what is expected.
    """
    output = Path(output)
    resolved = output.resolve()
    if _contains(resolved, Path.cwd().resolve()):
        raise RunFolderError(
            f"--output {output} is the working directory or contains it; rnnlab will not replace it. "
            "Expected a new folder, e.g. --output runs/NAME."
        )
    for parent in resolved.parents:
        if parent.exists() and not parent.is_dir():
            raise RunFolderError(f"--output {output} is under {parent}, which is a file, not a folder.")
    if output.is_symlink() or (output.exists() and not output.is_dir()):
        raise RunFolderError(
            f"--output {output} is a file (or link), not a run folder; rnnlab will not replace it."
        )
    if output.exists():
        if not is_run(output):
            raise RunFolderError(
                f"--output {output} exists and is not an rnnlab run folder (no valid {RUN_FILE}); "
                "rnnlab replaces only its own runs, even with --overwrite. Choose another --output."
            )
        if not overwrite:
            raise RunFolderError(
                f"Output folder {output} already exists. Choose another --output or pass --overwrite."
            )


def rename_exchange(a, b):
    """Atomically exchanges two paths (Linux renameat2 RENAME_EXCHANGE); False where unsupported."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        renameat2 = libc.renameat2
    except (OSError, AttributeError):
        return False
    at_fdcwd, rename_exchange = -100, 2
    done = renameat2(at_fdcwd, os.fsencode(a), at_fdcwd, os.fsencode(b), rename_exchange)
    if done == 0:
        return True
    code = ctypes.get_errno()
    if code in (errno.EINVAL, errno.ENOSYS, errno.EPERM, errno.EOPNOTSUPP):
        return False
    raise OSError(code, os.strerror(code), str(b))


def _finished_at(folder):
    try:
        info = read_run_file(folder)
    except RunFolderError:
        return None
    return info.get("finished") if info and info.get("status") == "finished" else None


def _remove_run(folder):
    """Deletes a folder that rnnlab made (a run, a partial run or an emptied swap folder)."""
    shutil.rmtree(folder, ignore_errors=False)


def recover(output, log=print):
    """Repairs what an interrupted swap or run left beside `output`, and says so.

    - `OUTPUT.old-*` (the previous run, moved aside during a swap): restored to
      `OUTPUT` if `OUTPUT` is missing, deleted otherwise;
    - `OUTPUT.partial` holding a finished run: the newer of it and `OUTPUT`
      ends at `OUTPUT`, the older is deleted;
    - `OUTPUT.partial-*` (temporary folders of earlier rnnlab versions): deleted.
    An unfinished `OUTPUT.partial` (an interrupted training) is kept for `--resume`.
    """
    output = Path(output)
    parent = output.parent if output.parent.exists() else None
    if parent is None:
        return
    for old in sorted(parent.glob(glob_escape(output.name) + OLD_MARK + "*")):
        run = old / "run" if (old / "run").is_dir() else old  # earlier versions kept the run in old/run
        if not output.exists() and (is_run(run) or run.name == "run"):
            os.replace(run, output)
            log(f"rnnlab: restored the previous run to {output} from an interrupted swap ({old.name})")
            if old.exists():
                _remove_run(old)
        else:
            _remove_run(old)
            log(f"rnnlab: removed {old}, left by an interrupted swap")
    for legacy in sorted(parent.glob(glob_escape(output.name) + ".partial-*")):
        _remove_run(legacy)
        log(f"rnnlab: removed {legacy}, an incomplete run left by an interrupted process")
    partial = partial_path(output)
    new_time = _finished_at(partial) if partial.is_dir() else None
    if new_time is not None:
        old_time = _finished_at(output) if output.exists() else None
        if output.exists() and old_time is not None and old_time >= new_time:
            _remove_run(partial)
            log(f"rnnlab: removed {partial}, the previous run left by an interrupted swap")
        else:
            swap_into_place(partial, output)
            log(f"rnnlab: completed the interrupted swap of the finished run into {output}")


def glob_escape(name):
    """`name` with glob metacharacters escaped."""
    return "".join(f"[{c}]" if c in "*?[" else c for c in name)


def partial_path(output):
    """Where the run for `output` is written until it is complete."""
    output = Path(output)
    return output.with_name(output.name + PARTIAL_SUFFIX)


def swap_into_place(new, output, exchange=True):
    """Moves the finished run `new` to `output`; `output` always holds a complete run.

    With `exchange` (and a Linux file system that supports it) the two folders
    swap atomically; otherwise the previous run is moved aside first, and a
    kill between the two renames is repaired by `recover`.
    """
    os.chmod(new, 0o777 & ~umask())
    if not output.exists():
        os.replace(new, output)
        return
    if exchange and rename_exchange(new, output):  # `new` now holds the previous run
        old = output.with_name(output.name + OLD_MARK + secrets.token_hex(4))
        os.replace(new, old)
        _remove_run(old)
        return
    old = output.with_name(output.name + OLD_MARK + secrets.token_hex(4))
    os.replace(output, old)  # a kill here is repaired by `recover` (the newer finished run wins)
    os.replace(new, output)
    _remove_run(old)


class RunWriter:
    """Writes a run into `OUTPUT.partial` and swaps it into `OUTPUT` when finished.

    Holds an exclusive lock on the partial folder while it lives, so two
    processes never write the same run.

    Args:
        output: the run folder to make.
        task: the task's name (recorded in `run.json`).
        overwrite: replace an existing run at `output`, or discard an
            interrupted one.
        resume: continue the interrupted run at `OUTPUT.partial` if there is one.

    Example:
    >>> writer = RunWriter("runs/demo", "sentiment")  # doctest: +SKIP
    >>> writer.folder / "model.keras"  # write files here, then writer.finish()  # doctest: +SKIP
    """

    def __init__(self, output, task, overwrite=False, resume=False, log=print):
        self.output = Path(output)
        self.task = task
        check_output(self.output, overwrite=overwrite or resume)
        self.output.parent.mkdir(parents=True, exist_ok=True)
        recover(self.output, log=log)
        self.folder = partial_path(self.output)
        self.resumed = False
        if self.folder.exists():
            info = read_run_file(self.folder) if self.folder.is_dir() else None
            if info is None:
                raise RunFolderError(
                    f"{self.folder} exists and is not an rnnlab partial run; rnnlab will not touch it. "
                    "Move it away or choose another --output."
                )
            self._lock()
            if resume:
                if info["task"] != task:
                    raise RunFolderError(
                        f"{self.folder} is an interrupted {info['task']!r} run, not {task!r}: cannot resume."
                    )
                self.resumed = True
                log(f"rnnlab: resuming the interrupted run in {self.folder}")
                return
            if not overwrite:
                self._unlock()
                raise RunFolderError(
                    f"An interrupted run is at {self.folder}. Continue it with --resume, "
                    "or discard it with --overwrite."
                )
            self._unlock()
            _remove_run(self.folder)
            log(f"rnnlab: discarded the interrupted run in {self.folder} (--overwrite)")
        elif resume:
            log(f"rnnlab: no interrupted run at {self.folder}; starting a new one")
        self.folder.mkdir()
        self._lock()
        self.info = {"task": task, "status": "training", "created": now(), "rnnlab_version": _version()}
        write_json(self.folder / RUN_FILE, self.info)

    def _lock(self):
        self._lock_file = open(self.folder / ".lock", "a+")  # noqa: SIM115  (held while training)
        try:
            fcntl.flock(self._lock_file, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            self._lock_file.close()
            raise RunFolderError(
                f"Another rnnlab process is writing {self.folder}; wait for it or choose another --output."
            ) from None
        self.info = read_run_file(self.folder) or {}

    def _unlock(self):
        self._lock_file.close()

    def close(self):
        """Releases the lock without finishing (the partial run stays for --resume)."""
        if not self._lock_file.closed:
            self._unlock()

    def finish(self, extra=None):
        """Marks the run finished and swaps it into `output`; returns `output`."""
        info = {**self.info, **(extra or {}), "status": "finished", "finished": now()}
        write_json(self.folder / RUN_FILE, info)
        lock = self.folder / ".lock"
        self._unlock()
        lock.unlink(missing_ok=True)
        swap_into_place(self.folder, self.output)
        return self.output


def _version():
    with contextlib.suppress(importlib.metadata.PackageNotFoundError):
        return importlib.metadata.version("rnnlab")
    return None
