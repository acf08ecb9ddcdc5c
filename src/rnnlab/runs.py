"""Run folders and what every result records: command, commit, versions, machine.

A run folder is recognised by its `run.json` (task, run id, rnnlab version,
status, created/finished times, pid, host). A run is written into
`OUTPUT.partial` (its checkpoints too, so `--resume` finds them) and swapped
into place only when complete; the swap never leaves `OUTPUT` without a
complete run, and leftovers of an interrupted swap are repaired by the next run
(`recover`). rnnlab replaces or deletes only folders it can prove it made
(`owned_run`: the run id it wrote, and no file a run does not contain).
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
import re
import secrets
import shutil
import subprocess
import sys
from pathlib import Path

from rnnlab.datasets.storage import datasets_folder_of
from rnnlab.io import atomic_write, describe_path, read_json_file, umask

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
        ValueError: unreadable, not JSON (or nested too deeply), not an object, or another kind.
    """
    config = read_json_file(path, f"a {what} preprocessor")
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
LOCK_FILE = ".lock"
PARTIAL_SUFFIX = ".partial"
OLD_MARK = ".old-"
MODEL_FILES = ("model.keras", "preprocessor.json", "config.toml")  # a run's files that `run.json` vouches for
# What a run folder (finished or partial) may hold: what `rnnlab train`, `rnnlab tune` and
# `rnnlab evaluate` write there. A folder with anything else is not provably a run, and rnnlab
# never deletes or replaces it.
RUN_ENTRIES = frozenset(
    {
        RUN_FILE,
        LOCK_FILE,
        "checkpoints",
        "preprocessor.json",
        "config.toml",
        "model.keras",
        "metrics.json",
        "learning_curve.png",
        "confusion_matrix.png",  # classifiers
        "best.toml",  # rnnlab tune
        "tuning.json",
        "trials.csv",
        "trials.md",
        "tuner",
    }
)
CHECKPOINT_ENTRIES = re.compile(
    r"step-\d{10}|\.tmp-[0-9a-f]{8}|best\.weights\.h5|\.best-[0-9a-f]{8}\.weights\.h5"
)
# what `rnnlab evaluate` writes (its settings in the name): records and confusion matrices
EVALUATION_ENTRIES = re.compile(r"evaluation[^/]*\.json|confusion_matrix[^/]*\.png")
ATOMIC_TEMP = re.compile(r"(.+)\.[a-z0-9_]{8}\.tmp(?:\.[^.]+)?")  # rnnlab.io.atomic_path's temp names
RUN_ID = re.compile(r"[0-9a-f]{32}")


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
    info = read_json_file(path, "rnnlab's run record", error=RunFolderError)
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


def new_run_id():
    """A unique id for a new run (recorded in its `run.json`)."""
    return secrets.token_hex(16)


def _is_run_entry(name):
    if name in RUN_ENTRIES or EVALUATION_ENTRIES.fullmatch(name):
        return True
    # a temp file of `atomic_path` (NAME.XXXXXXXX.tmp.SUFFIX) that a kill left behind
    temp = ATOMIC_TEMP.fullmatch(name)
    return temp is not None and _is_run_entry(temp.group(1))


def foreign_entries(folder):
    """The names in `folder` (and in its `checkpoints/`) that no rnnlab run contains."""
    folder = Path(folder)
    foreign = [p.name for p in folder.iterdir() if not _is_run_entry(p.name)]
    checkpoints = folder / "checkpoints"
    if checkpoints.is_dir() and not checkpoints.is_symlink():
        foreign += [
            f"checkpoints/{p.name}" for p in checkpoints.iterdir() if not CHECKPOINT_ENTRIES.fullmatch(p.name)
        ]
    return sorted(foreign)


def owned_run(folder):
    """`run.json` of `folder` when rnnlab can prove it made the folder: a real folder (not a
    link) whose `run.json` holds the run id rnnlab wrote, with nothing in it that a run does
    not contain. Only such folders are ever replaced or deleted.

    Raises:
        RunFolderError: saying what is missing, or naming the foreign files.
    """
    folder = Path(folder)
    if folder.is_symlink() or not folder.is_dir():
        raise RunFolderError(f"{folder} is {describe_path(folder)} (or a link), not a run folder.")
    info = read_run_file(folder)
    if info is None:
        raise RunFolderError(f"{folder} is not an rnnlab run folder (no {RUN_FILE}).")
    if not isinstance(info.get("run_id"), str) or not RUN_ID.fullmatch(info["run_id"]):
        raise RunFolderError(
            f"{folder / RUN_FILE} has no run id: the folder was made by an older rnnlab or by hand, "
            "so rnnlab cannot prove it is its own run and will not delete or replace it. "
            "Remove it yourself or choose another --output."
        )
    foreign = foreign_entries(folder)
    if foreign:
        shown = ", ".join(foreign[:5]) + (f" and {len(foreign) - 5} more" if len(foreign) > 5 else "")
        raise RunFolderError(
            f"{folder} holds files that no rnnlab run contains ({shown}); rnnlab will not delete or "
            "replace it. Move those files away or choose another --output."
        )
    return info


def _owned_or_none(folder):
    try:
        return owned_run(folder)
    except RunFolderError:
        return None


def open_run(folder):
    """Checks `folder` is a finished run and returns `(folder, run_info)`.

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
            f"{folder} is {describe_path(folder)}, not a run folder. "
            "Expected a folder written by `rnnlab train`."
        )
    info = read_run_file(folder)
    if info is None:
        if all((folder / name).is_file() for name in MODEL_FILES):  # a run of rnnlab before run.json
            raise RunFolderError(f"{folder} was made by an older rnnlab (no {RUN_FILE}); retrain it.")
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

    Refused: an empty path; the working directory or any folder containing it; a path
    under a plain file; an existing file; an existing folder that rnnlab cannot prove is
    its own run (`owned_run`; even with `overwrite`); an existing run without `overwrite`.

    Raises:
        RunFolderError: saying what was received and what is expected.
    """
    if not str(output).strip():
        raise RunFolderError(
            "--output is empty. Expected a folder to write the run to, e.g. --output runs/NAME."
        )
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
    datasets = datasets_folder_of(resolved)
    if datasets is not None:
        raise RunFolderError(
            f"{resolved} is inside {datasets}, a folder of RNNLAB_DATASETS, which rnnlab never writes to. "
            "Choose a folder outside it."
        )
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
        owned_run(output)


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


def remove_run(folder):
    """Deletes a run folder that rnnlab can prove it made (`owned_run`), `run.json` last, so
    that a kill midway leaves a folder that is still provably a run.

    Raises:
        RunFolderError: the folder is not provably rnnlab's (nothing is deleted).
    """
    folder = Path(folder)
    owned_run(folder)
    for entry in folder.iterdir():
        if entry.name == RUN_FILE:
            continue
        if entry.is_dir() and not entry.is_symlink():
            shutil.rmtree(entry)
        else:
            entry.unlink()
    (folder / RUN_FILE).unlink()
    folder.rmdir()


def aside_path(output, run_id):
    """Where a swap moves the previous run of `output` (named by that run's id)."""
    output = Path(output)
    return output.with_name(f"{output.name}{OLD_MARK}{run_id[:16]}")


def recover(output, log=print):
    """Repairs what an interrupted swap left beside `output`, and says so.

    Only folders that rnnlab can prove it made are touched (`owned_run`): a run whose
    id the swap recorded (`replaces` in the new run's `run.json`). Anything else,
    whatever its name, is left as it is.

    - the previous run left at `OUTPUT.partial` by an exchange: deleted;
    - a finished run at `OUTPUT.partial` not yet swapped in: swapped in;
    - the previous run moved aside (`OUTPUT.old-ID`): restored to `OUTPUT` if `OUTPUT`
      is missing, deleted if the run at `OUTPUT` replaced it.
    An unfinished `OUTPUT.partial` (an interrupted training) is kept for `--resume`.
    """
    if not str(output).strip():
        return
    output = Path(output)
    if not output.parent.is_dir():
        return
    partial = partial_path(output)
    current, pending = _owned_or_none(output), _owned_or_none(partial)
    if current and pending and current.get("replaces") == pending["run_id"]:
        remove_run(partial)  # the exchange had put the previous run there
        log(f"rnnlab: removed {partial}, the previous run left by an interrupted swap")
        pending = None
    finished = pending is not None and pending.get("status") == "finished"
    if finished and not output.exists():
        os.replace(partial, output)
        log(f"rnnlab: completed the interrupted swap of the finished run into {output}")
        current, pending, finished = pending, None, False
    for aside in sorted(output.parent.glob(glob_escape(output.name) + OLD_MARK + "*")):
        info = _owned_or_none(aside)
        if info is None or aside != aside_path(output, info["run_id"]):
            continue  # not provably the previous run of this output: never touched
        if not output.exists():
            os.replace(aside, output)
            log(f"rnnlab: restored the previous run to {output} from an interrupted swap ({aside.name})")
            current = info
        elif any(run and run.get("replaces") == info["run_id"] for run in (current, pending)):
            remove_run(aside)
            log(f"rnnlab: removed {aside}, the previous run left by an interrupted swap")
    if finished and current is not None:
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

    The previous run at `output` must be provably rnnlab's (`owned_run`); its id is
    recorded in the new run's `run.json` (`replaces`) first, which is how `recover` knows
    what it may delete after a kill. With `exchange` (and a Linux file system that
    supports it) the two folders swap atomically; otherwise the previous run is moved
    aside first (`aside_path`), and a kill between the two renames is repaired by `recover`.
    """
    new, output = Path(new), Path(output)
    os.chmod(new, 0o777 & ~umask())
    if not output.exists():
        os.replace(new, output)
        return
    previous = owned_run(output)
    info = read_run_file(new)
    write_json(new / RUN_FILE, {**info, "replaces": previous["run_id"]})
    if exchange and rename_exchange(new, output):  # `new` now holds the previous run
        remove_run(new)
        return
    aside = aside_path(output, previous["run_id"])
    os.replace(output, aside)  # a kill here is repaired by `recover`
    os.replace(new, output)
    remove_run(aside)


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
        check_output(output, overwrite=overwrite or resume)
        self.output = Path(output)
        self.task = task
        self.output.parent.mkdir(parents=True, exist_ok=True)
        recover(self.output, log=log)
        self.folder = partial_path(self.output)
        self.resumed = False
        if self.folder.exists() or self.folder.is_symlink():
            try:
                info = owned_run(self.folder)
            except RunFolderError as error:
                raise RunFolderError(
                    f"{self.folder} exists and rnnlab cannot prove it is its own partial run, so it will not "
                    f"touch it: {error}"
                ) from None
            self._lock()
            if resume:
                if info["task"] != task:
                    self._unlock()
                    raise RunFolderError(
                        f"{self.folder} is an interrupted {info['task']!r} run, not {task!r}: cannot resume."
                    )
                self.resumed = True
                log(f"rnnlab: resuming the interrupted run in {self.folder}")
                return
            self._unlock()
            if not overwrite:
                raise RunFolderError(
                    f"An interrupted run is at {self.folder}. Continue it with --resume, "
                    "or discard it with --overwrite."
                )
            remove_run(self.folder)
            log(f"rnnlab: discarded the interrupted run in {self.folder} (--overwrite)")
        elif resume:
            log(f"rnnlab: no interrupted run at {self.folder}; starting a new one")
        self.folder.mkdir()
        self._lock()
        self.info = {
            "task": task,
            "status": "training",
            "run_id": new_run_id(),
            "created": now(),
            "pid": os.getpid(),
            "host": platform.node(),
            "rnnlab_version": _version(),
        }
        write_json(self.folder / RUN_FILE, self.info)

    def _lock(self):
        self._lock_file = open(self.folder / LOCK_FILE, "a+")  # noqa: SIM115  (held while training)
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

    def discard(self):
        """Deletes the partial run this writer made (a training that failed before its first
        checkpoint: nothing to resume)."""
        self.close()
        if self.folder.exists():
            remove_run(self.folder)

    def record(self, **fields):
        """Adds `fields` to the run's `run.json` (temp file, then rename)."""
        self.info.update(fields)
        write_json(self.folder / RUN_FILE, self.info)

    def finish(self, extra=None):
        """Marks the run finished and swaps it into `output`; returns `output`."""
        info = {**self.info, **(extra or {}), "status": "finished", "finished": now()}
        write_json(self.folder / RUN_FILE, info)
        lock = self.folder / LOCK_FILE
        self._unlock()
        lock.unlink(missing_ok=True)
        swap_into_place(self.folder, self.output)
        return self.output


def _version():
    with contextlib.suppress(importlib.metadata.PackageNotFoundError):
        return importlib.metadata.version("rnnlab")
    return None
