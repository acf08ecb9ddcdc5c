"""Recurrent language models (article 3.2, 7.2): predict the next token at every step.

    ids -> Embedding -> dropout -> [RNN -> dropout] x layers -> logits over the vocabulary

With `tie_weights` the output layer is the embedding matrix run in reverse
(`rnnlab.layers.TiedEmbedding`; the last layer's state size must equal the
embedding size, as in Zaremba-style models with tying). `Generator` samples
text one token at a time with the trained layers' cells, carrying the states:
the prompt is read once and each new token costs one step.

Example:
>>> model = build_language_model(65, embedding_dim=32, units=64)  # doctest: +SKIP
>>> model(np.zeros((2, 10), "int32")).shape  # doctest: +SKIP
(2, 10, 65)
"""

import keras
import numpy as np

from rnnlab import sampling
from rnnlab.cells import check_cell
from rnnlab.layers.cell_step import CellStep
from rnnlab.layers.masking import EndMask
from rnnlab.layers.tied_embedding import TiedEmbedding
from rnnlab.models.predict import predict_rows
from rnnlab.models.recurrent import layers_by_depth, recurrent_layer


def build_language_model(
    vocab_size,
    embedding_dim=256,
    units=512,
    cell="lstm",
    num_layers=2,
    dropout=0.2,
    tie_weights=False,
    fast_layers=True,
    stateful_batch_size=None,
):
    """Builds a stacked recurrent language model.

    Args:
        vocab_size: tokens (id 0 is padding and never predicted in training).
        embedding_dim: size of each token vector.
        units: state size of each recurrent layer.
        cell: 'simple', 'lstm' or 'gru'.
        num_layers: stacked recurrent layers.
        dropout: dropout on the embeddings and on each recurrent layer's output.
        tie_weights: share the embedding matrix with the output layer (needs
            `units == embedding_dim`).
        fast_layers: rnnlab's layers (native loops on JAX); False: Keras' own
            loop (for a stateful model: rnnlab's layers with `native=False`).
        stateful_batch_size: make the recurrent layers stateful (each batch starts
            from the previous batch's final states) for batches of exactly this
            many rows; None: every batch starts from zero states.

    Returns:
        A `keras.Model` from `(batch, steps)` int ids to `(batch, steps, vocab_size)` logits.
    """
    check_cell(cell)
    for name, value in (("vocab_size", vocab_size), ("embedding_dim", embedding_dim), ("units", units),
                        ("num_layers", num_layers)):  # fmt: skip
        if not isinstance(value, int) or value < 1:
            raise ValueError(f"Expected {name} to be a positive int. Received: {name}={value!r}")
    if tie_weights and units != embedding_dim:
        raise ValueError(
            "tie_weights needs units == embedding_dim. "
            f"Received: units={units}, embedding_dim={embedding_dim}"
        )
    if stateful_batch_size is not None and (
        not isinstance(stateful_batch_size, int) or stateful_batch_size < 1
    ):
        raise ValueError(
            f"Expected stateful_batch_size to be a positive int. Received: {stateful_batch_size!r}"
        )
    stateful = stateful_batch_size is not None
    layer_options = {"fast": fast_layers}
    if stateful:  # rnnlab's layers track their states (carried inside fit on JAX; Keras' own are not)
        layer_options = {"fast": True, "stateful": True, **({} if fast_layers else {"native": False})}
    ids = keras.Input(batch_shape=(stateful_batch_size, None), dtype="int32", name="ids")
    embedding = TiedEmbedding(vocab_size, embedding_dim, reverse_bias=tie_weights, name="embedding")
    x = embedding(ids)
    if dropout:
        x = keras.layers.Dropout(dropout, name="embedding_dropout")(x)
    for depth in range(num_layers):
        x = recurrent_layer(cell, units, return_sequences=True, name=f"rnn_{depth}", **layer_options)(x)
        if dropout:
            x = keras.layers.Dropout(dropout, name=f"dropout_{depth}")(x)
    if tie_weights:
        logits = embedding(x, reverse=True)
    else:
        logits = keras.layers.Dense(vocab_size, name="logits")(x)
    return keras.Model(ids, logits, name="language_model")


class Generator:
    """Samples from a trained language model step by step, carrying the recurrent states.

    Args:
        model: a model from `build_language_model` (trained, or reloaded).

    Example:
    >>> ids = Generator(model).sample([5, 9, 2], length=100, temperature=0.8, seed=0)  # doctest: +SKIP
    """

    def __init__(self, model):
        names = [layer.name for layer in model.layers]
        embedding = model.get_layer("embedding")
        steps = [CellStep(layer.cell, name=f"{layer.name}_step") for layer in layers_by_depth(model, "rnn_")]
        self.state_sizes = [step.state_sizes for step in steps]
        # One step as a compiled model: [token, *states of every layer] -> [logits, *new states].
        token = keras.Input((), dtype="int32", name="token")
        inputs = [
            keras.Input((size,), name=f"state_{depth}_{k}")
            for depth, sizes in enumerate(self.state_sizes)
            for k, size in enumerate(sizes)
        ]
        x = EndMask(name="no_mask")(embedding(token))  # a read token is never padding
        new_states, position = [], 0
        for step, sizes in zip(steps, self.state_sizes, strict=True):
            x, *state = step(x, inputs[position : position + len(sizes)])
            position += len(sizes)
            new_states += state
        logits = model.get_layer("logits")(x) if "logits" in names else embedding(x, reverse=True)
        self.step_model = keras.Model([token, *inputs], [logits, *new_states], name="generator_step")

    def initial_states(self, batch_size):
        return [[np.zeros((batch_size, size), "float32") for size in sizes] for sizes in self.state_sizes]

    def step(self, tokens, states):
        """`(logits (batch, vocab), states)` after reading `tokens` `(batch,)`."""
        flat = [np.asarray(s, "float32") for layer_states in states for s in layer_states]
        logits, *flat = predict_rows(self.step_model, [np.asarray(tokens, "int32"), *flat])
        new_states, position = [], 0
        for sizes in self.state_sizes:
            new_states.append(flat[position : position + len(sizes)])
            position += len(sizes)
        return np.asarray(logits, dtype=np.float64), new_states

    def read(self, prompt):
        """`(logits after the prompt, states)`: the prompt is read once, one step per token."""
        return sampling.read(self, prompt)

    def sample(self, prompt, length, temperature=1.0, top_k=None, seed=None, banned=(0,)):
        """`length` new token ids after `prompt` (`rnnlab.sampling.sample_ids`)."""
        return sampling.sample_ids(self, prompt, length, temperature, top_k, seed, banned)
