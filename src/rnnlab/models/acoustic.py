"""Acoustic models (article 6.3): recurrent layers over MFCC frames.

- `output="digit"`: one prediction per utterance (softmax over the 10 digits)
  from the last layer's final state (both directions' when bidirectional).
- `output="ctc"`: logits over `[blank, label 1, ..., label N]` at every step,
  for CTC training and decoding (Graves et al., 2006).

Padding frames are all zeros and masked (`keras.layers.Masking`): a padded
step leaves the state unchanged, so padding never changes a prediction.

Example:
>>> model = build_acoustic_model(60, 10, output="digit")  # doctest: +SKIP
>>> model(np.zeros((2, 50, 60), "float32")).shape  # doctest: +SKIP
(2, 10)
"""

import keras

from rnnlab.cells import check_cell
from rnnlab.layers.masking import EndMask
from rnnlab.models.recurrent import recurrent_layer

OUTPUTS = ("digit", "ctc")


def build_acoustic_model(
    num_features,
    num_classes,
    output="digit",
    cell="gru",
    units=128,
    num_layers=2,
    bidirectional=True,
    dropout=0.1,
    output_dropout=0.2,
    fast_layers=True,
):
    """Builds a recurrent model over feature frames.

    Args:
        num_features: numbers per frame (`FeatureSettings.num_features`).
        num_classes: digits (10) for `output="digit"`; labels without the
            blank for `output="ctc"` (the model adds the blank as index 0).
        output: 'digit' (a softmax per utterance) or 'ctc' (logits per step).
        cell: 'simple', 'lstm' or 'gru'.
        units: state size per direction.
        num_layers: stacked recurrent layers.
        bidirectional: read the frames in both directions.
        dropout: dropout on each recurrent layer's inputs.
        output_dropout: dropout before the output layer.
        fast_layers: rnnlab's layers (native loops on JAX); False: Keras' own.

    Returns:
        A `keras.Model` from `(batch, steps, num_features)` float32 frames to
        `(batch, num_classes)` probabilities or `(batch, steps, num_classes + 1)` logits.
    """
    check_cell(cell)
    if output not in OUTPUTS:
        raise ValueError(f"Expected output in {set(OUTPUTS)}. Received: output={output!r}")
    for name, value in (("num_features", num_features), ("units", units), ("num_layers", num_layers)):
        if not isinstance(value, int) or value < 1:
            raise ValueError(f"Expected {name} to be a positive int. Received: {name}={value!r}")
    if num_classes < 2:
        raise ValueError(f"Expected num_classes >= 2. Received: num_classes={num_classes}")
    frames = keras.Input((None, num_features), dtype="float32", name="frames")
    x = keras.layers.Masking(0.0, name="padding")(frames)
    for depth in range(num_layers):
        last = depth == num_layers - 1
        rnn = recurrent_layer(
            cell,
            units,
            fast=fast_layers,
            return_sequences=not (last and output == "digit"),
            dropout=dropout,
            name=f"rnn_{depth}",
        )
        x = keras.layers.Bidirectional(rnn, name=f"birnn_{depth}")(x) if bidirectional else rnn(x)
    if output_dropout:
        x = keras.layers.Dropout(output_dropout, name="output_dropout")(x)
    if output == "digit":
        outputs = keras.layers.Dense(num_classes, activation="softmax", name="digit")(x)
    else:
        logits = keras.layers.Dense(num_classes + 1, name="ctc_logits")(x)
        outputs = EndMask(name="end_mask")(logits)  # CTC is one loss per sequence, not per step
    return keras.Model(frames, outputs, name=f"acoustic_{output}")
