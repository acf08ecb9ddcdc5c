"""Text generation from a language model's one-step function, without Keras: the run's predictor
(`rnnlab.models.language_model.Generator`) and an exported model (`rnnlab.export.runtime`) both
give a stepper (`initial_states(batch)`, `step(tokens, states) -> (logits, states)`) and share the
prompt handling here and the sampling of `rnnlab.sampling`, so the same seed gives the same text.

Example:
>>> text = continue_text(preprocessor, stepper, "ROMEO:", length=100, seed=0)  # doctest: +SKIP
"""

import dataclasses

from rnnlab.config import option
from rnnlab.errors import InputError
from rnnlab.sampling import sample_ids

MAX_PROMPT_CHARS = 10_000
MAX_LENGTH = 100_000
START_ID = 1  # subwords: [START], before every document


@dataclasses.dataclass
class GenerateOptions:
    """What `LMPredictor.predict` (and `rnnlab predict` on an lm run) takes."""

    length: int = option(200, "tokens to generate", min=1, max=MAX_LENGTH)
    temperature: float = option(
        1.0, "sampling temperature; lower is safer", min=0, min_exclusive=True, max=100
    )
    top_k: int | None = option(None, "sample among the k most likely tokens (none: all)", min=1)
    seed: int | None = option(0, "seed of the sampling (none: random)", min=0, max=2**32 - 1)


def continue_text(preprocessor, stepper, prompt, length=500, temperature=1.0, top_k=None, seed=None):
    """`length` tokens continuing `prompt`, as text (without the prompt).

    Raises:
        InputError: an empty or too long prompt, a length or top_k out of range.
    """
    if not isinstance(prompt, str) or not preprocessor.tokens(prompt):
        raise InputError(f"Expected a non-empty prompt. Received: {prompt!r}")
    if len(prompt) > MAX_PROMPT_CHARS:
        raise InputError(
            f"Expected a prompt of at most {MAX_PROMPT_CHARS} characters. Received: {len(prompt)}"
        )
    if not isinstance(length, int) or not 1 <= length <= MAX_LENGTH:
        raise InputError(f"Expected 1 <= length <= {MAX_LENGTH}. Received: {length!r}")
    if top_k is not None and top_k < 1:
        raise InputError(f"Expected top_k >= 1. Received: {top_k!r}")
    prompt_ids = list(preprocessor.encode(prompt))
    if preprocessor.level == "subword":
        prompt_ids = [START_ID, *prompt_ids]  # as every training document starts
    ids = sample_ids(
        stepper, prompt_ids, length, temperature=temperature, top_k=top_k, seed=seed,
        banned=preprocessor.banned,  # never padding or [UNK]
    )  # fmt: skip
    if preprocessor.level == "subword":  # decoded with the prompt: spacing at the seam is kept
        return preprocessor.decode(prompt_ids + ids)[len(preprocessor.decode(prompt_ids)) :]
    return preprocessor.decode(ids)


def joiner(preprocessor):
    """What goes between a prompt and its continuation: a space between words."""
    return " " if preprocessor.level == "word" else ""


def line(preprocessor, record, source):
    """The terminal line of a generation: the prompt and its continuation, quoted (one line)."""
    return repr(source + joiner(preprocessor) + record["text"])


def warnings(preprocessor, source):
    """Warnings for a prompt: tokens never seen in training."""
    unknown = preprocessor.unknown(source)
    return [f"{unknown} token(s) of the prompt were never seen in training"] if unknown else []
