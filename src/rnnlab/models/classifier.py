"""Sequence classifier: Embedding -> recurrent layer(s) -> Dense (article section 5).

One builder for every variant: the cell is an argument, not a copy of the
model. With the defaults it is exactly the article's model:

    Embedding(10000, 32) -> SimpleRNN(64) -> Dense(1, sigmoid)
"""

RNN_LAYERS = {"simple": "SimpleRNN", "lstm": "LSTM", "gru": "GRU"}


def build_classifier(
    vocab_size=10000,
    embedding_dim=32,
    units=64,
    cell="simple",
    num_classes=2,
    sequence_length=None,
):
    """Builds the article's classifier for any recurrent cell.

    Args:
        vocab_size: rows of the embedding matrix (the article's `max_features`).
        embedding_dim: size of each word vector.
        units: size of the recurrent state h_t.
        cell: 'simple' (SimpleRNN), 'lstm' or 'gru'.
        num_classes: 2 gives one sigmoid output (binary cross-entropy);
            more gives a softmax over classes.
        sequence_length: fixed input length, or None for any length.

    Returns:
        An unbuilt-weights `keras.Sequential` taking `(batch, timesteps)`
        int token ids and returning `(batch, 1)` probabilities (or
        `(batch, num_classes)`).

    Example:
    >>> model = build_classifier(cell="gru")  # doctest: +SKIP
    >>> model(np.zeros((2, 100), "int32")).shape  # (batch, 1)  # doctest: +SKIP
    (2, 1)
    """
    import keras

    if cell not in RNN_LAYERS:
        raise ValueError(f"Expected cell in {set(RNN_LAYERS)}. Received: cell={cell!r}")
    for name, value in (("vocab_size", vocab_size), ("embedding_dim", embedding_dim), ("units", units)):
        if not isinstance(value, int) or value < 1:
            raise ValueError(f"Expected {name} to be a positive int. Received: {name}={value!r}")
    if num_classes < 2:
        raise ValueError(f"Expected num_classes >= 2. Received: num_classes={num_classes}")
    output = (
        keras.layers.Dense(1, activation="sigmoid", name="output")
        if num_classes == 2
        else keras.layers.Dense(num_classes, activation="softmax", name="output")
    )
    return keras.Sequential(
        [
            keras.Input((sequence_length,), dtype="int32", name="token_ids"),
            keras.layers.Embedding(vocab_size, embedding_dim, name="embedding"),
            getattr(keras.layers, RNN_LAYERS[cell])(units, name="rnn"),
            output,
        ],
        name=f"{cell}_classifier",
    )
