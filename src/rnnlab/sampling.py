"""Sampling token ids from a recurrent model one step at a time, carrying its states (no Keras).

A stepper has `initial_states(batch)` and `step(tokens, states) -> (logits (batch, vocab), states)`:
`rnnlab.models.language_model.Generator` (Keras) and `rnnlab.export.runtime`'s ONNX stepper.

Example:
>>> ids = sample_ids(stepper, [5, 9, 2], length=100, temperature=0.8, seed=0)  # doctest: +SKIP
"""

import numpy as np


def read(stepper, prompt):
    """`(logits after the prompt, states)`: the prompt is read once, one step per token."""
    if len(prompt) == 0:
        raise ValueError("Expected a prompt of at least one token. Received: an empty prompt.")
    states = stepper.initial_states(1)
    for token in prompt:
        logits, states = stepper.step([token], states)
    return logits[0], states


def sample_ids(stepper, prompt, length, temperature=1.0, top_k=None, seed=None, banned=(0,)):
    """`length` new token ids after `prompt`.

    Args:
        stepper: `initial_states(batch)` and `step(tokens, states) -> (logits (batch, vocab), states)`.
        prompt: token ids to start from.
        length: tokens to generate.
        temperature: > 0; lower is more conservative (the logits are divided by it).
        top_k: sample only among the k most likely tokens (None: all).
        seed: seed of the sampling (the same seed gives the same text).
        banned: ids never generated (padding).
    """
    if temperature <= 0:
        raise ValueError(f"Expected temperature > 0. Received: {temperature!r}")
    if top_k is not None and top_k < 1:
        raise ValueError(f"Expected top_k >= 1. Received: {top_k!r}")
    rng = np.random.default_rng(seed)
    logits, states = read(stepper, prompt)
    out = []
    for _ in range(length):
        scaled = np.array(logits, dtype=np.float64)
        scaled[list(banned)] = -np.inf
        if top_k is not None and top_k < len(scaled):
            threshold = np.partition(scaled, -top_k)[-top_k]
            scaled[scaled < threshold] = -np.inf
        # The maximum first, then the temperature: a tiny temperature cannot overflow (inf - inf).
        with np.errstate(over="ignore"):  # a tiny temperature sends the others to -inf: p = 0
            probs = np.exp((scaled - scaled.max()) / temperature)
        token = int(rng.choice(len(probs), p=probs / probs.sum()))
        out.append(token)
        step_logits, states = stepper.step([token], states)
        logits = step_logits[0]
    return out
