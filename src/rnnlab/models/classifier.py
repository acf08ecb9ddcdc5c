"""Sequence classifier: Embedding -> recurrent layer(s) -> Dense (article section 5).

One builder for every variant: the cell, direction, depth, masking,
regularisation and pretrained embeddings are arguments, not copies of the
model. With the defaults it is exactly the article's model:

    Embedding(10000, 32) -> SimpleRNN(64) -> Dense(1, sigmoid)
"""

import keras

from rnnlab.cells import check_cell
from rnnlab.layers.pooling import ConcatPooling
from rnnlab.models.recurrent import recurrent_layer

POOLINGS = ("last", "mean", "concat")


def _check_positive_int(name, value):
    if not isinstance(value, int) or isinstance(value, bool) or value < 1:
        raise ValueError(f"Expected {name} to be a positive int. Received: {name}={value!r}")


def _check_rate(name, value):
    if not 0.0 <= value < 1.0:
        raise ValueError(f"Expected 0 <= {name} < 1. Received: {name}={value!r}")


def build_classifier(
    vocab_size=10000,
    embedding_dim=32,
    units=64,
    cell="simple",
    num_classes=2,
    sequence_length=None,
    num_layers=1,
    bidirectional=False,
    mask_zero=False,
    dropout=0.0,
    recurrent_dropout=0.0,
    output_dropout=0.0,
    l1=0.0,
    l2=0.0,
    pooling="last",
    embedding_matrix=None,
    trainable_embeddings=True,
    fast_layers=True,
):
    """Builds a recurrent text classifier.

    Args:
        vocab_size: rows of the embedding matrix (the article's `max_features`).
        embedding_dim: size of each word vector.
        units: size of the recurrent state h_t (per direction).
        cell: 'simple' (SimpleRNN), 'lstm' or 'gru'.
        num_classes: 2 gives one sigmoid output (binary cross-entropy);
            more gives a softmax over classes.
        sequence_length: fixed input length, or None for any length
            (variable-length batches).
        num_layers: stacked recurrent layers.
        bidirectional: read each sequence in both directions and concatenate.
        mask_zero: treat index 0 as padding; masked steps leave the state
            unchanged, so padding never changes a prediction.
        dropout: dropout on the recurrent layers' inputs.
        recurrent_dropout: dropout on the recurrent connections.
        output_dropout: dropout before the output layer.
        l1, l2: weight penalties on every recurrent and output kernel.
        pooling: 'last' (final state, the article's choice), 'mean' (average
            of every step's output, padding excluded when masked) or 'concat'
            (last, max and mean side by side: ULMFiT's concat pooling).
        embedding_matrix: optional `(vocab_size, embedding_dim)` array of
            pretrained vectors (word2vec, GloVe) to start from.
        trainable_embeddings: False freezes the embedding matrix.
        fast_layers: use `rnnlab.layers.SimpleRNN/LSTM/GRU` (FastRNN: same
            weights and outputs as Keras' layers, native loops on JAX where
            the configuration allows); False uses Keras' own layers.

    Returns:
        A `keras.Sequential` taking `(batch, timesteps)` int token ids and
        returning `(batch, 1)` probabilities (or `(batch, num_classes)`).

    Example:
    >>> model = build_classifier(cell="gru", bidirectional=True, mask_zero=True)  # doctest: +SKIP
    >>> model(np.zeros((2, 100), "int32")).shape  # (batch, 1)  # doctest: +SKIP
    (2, 1)
    """
    check_cell(cell)
    if pooling not in POOLINGS:
        raise ValueError(f"Expected pooling in {set(POOLINGS)}. Received: pooling={pooling!r}")
    for name, value in (
        ("vocab_size", vocab_size),
        ("embedding_dim", embedding_dim),
        ("units", units),
        ("num_layers", num_layers),
    ):
        _check_positive_int(name, value)
    for name, value in (
        ("dropout", dropout),
        ("recurrent_dropout", recurrent_dropout),
        ("output_dropout", output_dropout),
    ):
        _check_rate(name, value)
    if num_classes < 2:
        raise ValueError(f"Expected num_classes >= 2. Received: num_classes={num_classes}")
    if embedding_matrix is not None and tuple(embedding_matrix.shape) != (vocab_size, embedding_dim):
        raise ValueError(
            f"Expected embedding_matrix of shape {(vocab_size, embedding_dim)}. "
            f"Received: shape={tuple(embedding_matrix.shape)}"
        )

    regularizer = keras.regularizers.L1L2(l1=l1, l2=l2) if (l1 or l2) else None
    layers = [
        keras.Input((sequence_length,), dtype="int32", name="token_ids"),
        keras.layers.Embedding(
            vocab_size,
            embedding_dim,
            mask_zero=mask_zero,
            trainable=trainable_embeddings,
            embeddings_initializer=(
                keras.initializers.Constant(embedding_matrix) if embedding_matrix is not None else "uniform"
            ),
            name="embedding",
        ),
    ]
    for depth in range(num_layers):
        rnn = recurrent_layer(
            cell,
            units,
            fast=fast_layers,
            return_sequences=depth < num_layers - 1 or pooling != "last",
            dropout=dropout,
            recurrent_dropout=recurrent_dropout,
            kernel_regularizer=regularizer,
            recurrent_regularizer=regularizer,
            name=f"rnn_{depth}" if num_layers > 1 else "rnn",
        )
        layers.append(keras.layers.Bidirectional(rnn, name=f"bi{rnn.name}") if bidirectional else rnn)
    if pooling == "mean":
        layers.append(keras.layers.GlobalAveragePooling1D(name="mean_pool"))
    elif pooling == "concat":
        layers.append(ConcatPooling(name="concat_pool"))
    if output_dropout:
        layers.append(keras.layers.Dropout(output_dropout, name="output_dropout"))
    activation, outputs = ("sigmoid", 1) if num_classes == 2 else ("softmax", num_classes)
    layers.append(
        keras.layers.Dense(outputs, activation=activation, kernel_regularizer=regularizer, name="output")
    )
    return keras.Sequential(layers, name=f"{cell}_classifier")
