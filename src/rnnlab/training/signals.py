"""Ctrl-C and SIGTERM during training: the run stops at the next batch boundary and can be
resumed from its last checkpoint."""

import signal


class TrainingInterrupted(Exception):
    """Training stopped by Ctrl-C or SIGTERM; the run can be resumed.

    Attributes:
        exit_code: 130 for SIGINT, 143 for SIGTERM.
        message: one line: where the checkpoint is and how to resume.
    """

    def __init__(self, message, exit_code):
        super().__init__(message)
        self.message = message
        self.exit_code = exit_code


class Terminated(KeyboardInterrupt):
    """Raised in the main thread by the SIGTERM handler."""


class StopSignals:
    """Catches SIGINT and SIGTERM while training (a context manager).

    The handler raises at once; `check()` raises again at a batch boundary in case
    the first exception was swallowed (by a library's `except Exception` or a thread).

    Example:
    >>> with StopSignals() as signals:  # doctest: +SKIP
    ...     for batch in batches:
    ...         train(batch)
    ...         signals.check()
    """

    HANDLED = (signal.SIGTERM, signal.SIGINT)

    def __init__(self):
        self.received = None
        self._previous = {}

    def __enter__(self):
        self.received = None
        self._previous = {sig: signal.signal(sig, self._on_signal) for sig in self.HANDLED}
        return self

    def __exit__(self, *exc):
        for sig, handler in self._previous.items():
            signal.signal(sig, handler)
        return False

    def _on_signal(self, signum, frame):
        self.received = signum
        raise self._interrupt()

    def _interrupt(self):
        return Terminated() if self.received == signal.SIGTERM else KeyboardInterrupt()

    def check(self):
        """Raises if a signal arrived (even if its exception was swallowed)."""
        if self.received is not None:
            raise self._interrupt()

    def exit_code(self, interrupt):
        """143 for SIGTERM, 130 for Ctrl-C."""
        terminated = isinstance(interrupt, Terminated) or self.received == signal.SIGTERM
        return 143 if terminated else 130
