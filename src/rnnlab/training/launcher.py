"""`rnnlab launch --processes N -- train TASK ...`: N training processes on this machine.

Each process runs `rnnlab train ... --distributed` with the coordinator on a free loopback
port; process 0 prints as a single run would and writes the run, the others print nothing
(their last lines are shown if they fail). On several machines, start the same command on
each with `--coordinator HOST:PORT --num-processes N --process-id I` instead (see the scaling
page of the docs).

When a process dies, the launcher stops the others at once (JAX's collectives would wait for
the dead one until their timeout) and exits with the dead process's code.

Example:
>>> free_port() > 0
True
"""

import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from rnnlab import runs

GRACE_S = 5.0  # how long a stopped process may take to exit before it is killed
FINISH_S = 60.0  # how long the others may run on once process 0 has written the run
POLL_S = 0.2


def free_port():
    """A TCP port on 127.0.0.1 that nothing listens on now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def check_command(command):
    """The `rnnlab` arguments to run in each process: a `train` command without launch flags.

    Raises:
        ValueError: no command, a command other than train, or flags the launcher sets itself.
    """
    command = list(command)
    if command and command[0] == "--":
        command = command[1:]
    if not command or command[0] != "train":
        raise ValueError(
            "Expected the training command after --, e.g. `rnnlab launch --processes 2 -- train "
            f"sentiment --output runs/two`. Received: {' '.join(command) or 'nothing'}."
        )
    own = sorted({flag.split("=")[0] for flag in command} & {"--distributed", "--coordinator",
                                                              "--num-processes", "--process-id"})  # fmt: skip
    if own:
        raise ValueError(f"rnnlab launch sets {', '.join(own)} itself. Received them in the command.")
    return command


def _blame(code):
    """How likely a process that ended with `code` is the cause of a failed launch (lower: more):
    killed from outside (SIGKILL, SIGTERM, a crash), then an error exit (rnnlab's own errors exit
    with 1 or 2), last SIGABRT, which JAX's coordination service sends to the others when one dies.

    Example:
    >>> sorted([-6, 2, -9], key=_blame)
    [-9, 2, -6]
    """
    if code == -signal.SIGABRT:
        return 2
    return 0 if code < 0 else 1


def _stop(processes, signal_number=signal.SIGTERM):
    for process in processes:
        if process.poll() is None:
            process.send_signal(signal_number)
    deadline = time.monotonic() + GRACE_S
    for process in processes:
        try:
            process.wait(timeout=max(0.0, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _tail(path, lines=5):
    text = Path(path).read_text(encoding="utf-8", errors="replace").strip().splitlines()
    return "\n".join(f"    {line}" for line in text[-lines:])


def launch(count, command, log=print):
    """Runs `rnnlab COMMAND` in `count` processes of one distributed run; returns the exit code.

    Args:
        count: processes to start (1 or more).
        command: `rnnlab` arguments, starting with `train` (`check_command`).
        log: where the launcher's own lines go (`print`'s signature).
    """
    if not isinstance(count, int) or count < 1:
        raise ValueError(f"Expected --processes >= 1. Received: {count!r}")
    command = check_command(command)
    coordinator = f"127.0.0.1:{free_port()}"
    logs = tempfile.TemporaryDirectory(prefix="rnnlab-launch-")
    processes, errors, finished = [], [], None
    previous = signal.signal(signal.SIGTERM, _interrupt)  # a stopped launcher stops its processes
    try:
        for index in range(count):
            argv = [sys.executable, "-m", "rnnlab", *command, "--distributed", "--coordinator", coordinator,
                    "--num-processes", str(count), "--process-id", str(index)]  # fmt: skip
            if index == 0:
                processes.append(subprocess.Popen(argv))
            else:
                errors.append(Path(logs.name) / f"process-{index}.log")
                with open(errors[-1], "wb") as stream:
                    processes.append(subprocess.Popen(argv, stdout=stream, stderr=subprocess.STDOUT))
        while True:
            codes = [process.poll() for process in processes]
            failed = [(i, code) for i, code in enumerate(codes) if code not in (None, 0)]
            if failed:
                index, code = min(failed, key=lambda item: (_blame(item[1]), item[0]))
                _stop(processes)
                how = f"was killed by signal {-code}" if code < 0 else f"exited with code {code}"
                detail = f"; its last lines:\n{_tail(errors[index - 1])}" if index and errors else ""
                log(f"rnnlab launch: process {index} of {count} {how}; stopped the others{detail}",
                    file=sys.stderr)  # fmt: skip
                _resume_hint(count, command, log)
                return code if code > 0 else 128 - code
            if all(code == 0 for code in codes):
                return 0
            if codes[0] == 0:  # process 0 wrote the run: the others have nothing left but to end
                finished = finished or time.monotonic()
                if time.monotonic() - finished > FINISH_S:
                    _stop(processes)
                    log(f"rnnlab launch: process 0 finished the run; stopped the processes still running "
                        f"{FINISH_S:.0f} s later", file=sys.stderr)  # fmt: skip
                    return 0
            time.sleep(POLL_S)
    except KeyboardInterrupt:
        _stop(processes, signal.SIGINT)
        _resume_hint(count, command, log)
        return 130
    finally:
        _stop(processes)
        signal.signal(signal.SIGTERM, previous)
        logs.cleanup()


def _resume_hint(count, command, log):
    output = _flag_value(command, "--output")
    if output and runs.partial_path(output).is_dir():
        again = " ".join(command) + ("" if "--resume" in command else " --resume")
        log(f"Resume with: rnnlab launch --processes {count} -- {again}", file=sys.stderr)


def _interrupt(*_):
    raise KeyboardInterrupt


def _flag_value(command, flag):
    for i, arg in enumerate(command):
        if arg == flag and i + 1 < len(command):
            return command[i + 1]
        if arg.startswith(flag + "="):
            return arg.split("=", 1)[1]
    return None
