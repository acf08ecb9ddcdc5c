"""Errors shared across rnnlab.

`InputError` marks input a Predictor cannot use (an empty text, a sound file that is not
sound). It is a `ValueError`, so callers catching that keep working; the web API answers it
with 422 and treats any other exception as a server failure (500).
"""


class InputError(ValueError):
    """Input a model cannot use; the message says what was received and what is expected."""


class RunChanged(ValueError):
    """A run folder whose parts disagree (checked when it is opened): it was edited after training.

    Example:
    >>> str(RunChanged("runs/a", "config.toml says 200"))
    'runs/a: config.toml says 200; the run folder was changed after training.'
    """

    def __init__(self, folder, disagreement):
        super().__init__(f"{folder}: {disagreement}; the run folder was changed after training.")
