"""Encoder-decoder for translation (article 6.2), with attention (article 8.1).

The encoder reads the source sentence; its final state (through a small
"bridge" layer) starts the decoder, which reads the target sentence shifted
right (teacher forcing) and predicts the next token at every step:

    source ids -> Embedding -> [Bi]RNN encoder -> states -> bridge -> decoder initial state
    target ids (shifted) -> Embedding -> RNN decoder -> [attention over encoder outputs]
                                      -> Dense(target vocabulary) logits

With `attention="none"` the decoder sees the source only through the fixed-length
state (the article's model, Sutskever et al. 2014 / Cho et al. 2014). With
`attention="luong"` (Luong et al. 2015, "general" score h W s) or
`attention="bahdanau"` (Bahdanau et al. 2015's additive score v.tanh(W h + U s)),
every decoder output attends over every encoder output, and the context joins
the decoder output in a tanh layer before the logits (Luong's "attentional
hidden state"). Since the attention reads the decoder's outputs rather than
feeding into its recurrence, both encoder and decoder run as whole-sequence
loops during training (rnnlab's native loops on JAX); Bahdanau's original
decoder, which feeds the context back into its recurrence, cannot.

Decoding new sentences (`Translator`) runs the encoder once, then the decoder's
cell step by step (greedy or beam search), with the trained model's own layers.

Example:
>>> model = build_seq2seq(source_vocab=100, target_vocab=120, units=16)  # doctest: +SKIP
>>> model({"source": src_ids, "target_in": tgt_ids}).shape  # (batch, target steps, 120)  # doctest: +SKIP
"""

import keras
import numpy as np
from keras import ops

from rnnlab.cells import check_cell
from rnnlab.decoder_search import DecoderSearch
from rnnlab.layers.attention import AdditiveAttention, LuongAttention
from rnnlab.layers.cell_step import CellStep
from rnnlab.layers.masking import EndMask
from rnnlab.models.predict import predict_rows
from rnnlab.models.recurrent import layers_by_depth, recurrent_layer

ATTENTIONS = ("none", "luong", "bahdanau")


def build_seq2seq(
    source_vocab,
    target_vocab,
    embedding_dim=128,
    units=256,
    cell="gru",
    attention="luong",
    bidirectional=True,
    encoder_layers=1,
    dropout=0.0,
    output_dropout=0.0,
    embedding_dropout=0.0,
    fast_layers=True,
):
    """Builds the encoder-decoder.

    Args:
        source_vocab, target_vocab: vocabulary sizes (id 0 is padding).
        embedding_dim: size of the token vectors (both languages).
        units: state size of the decoder and of each encoder direction.
        cell: 'simple', 'lstm' or 'gru'.
        attention: 'none' (the article's fixed-length vector), 'luong' or 'bahdanau'.
        bidirectional: read the source in both directions.
        encoder_layers: stacked encoder layers.
        dropout: dropout on the recurrent layers' inputs.
        output_dropout: dropout before the output layer.
        embedding_dropout: dropout on the subword vectors (both languages).
        fast_layers: rnnlab's layers (native loops on JAX) or Keras' own.

    Returns:
        A `keras.Model` taking `{"source": (batch, S), "target_in": (batch, T)}` int ids
        and returning `(batch, T, target_vocab)` logits.
    """
    check_cell(cell)
    if attention not in ATTENTIONS:
        raise ValueError(f"Expected attention in {set(ATTENTIONS)}. Received: attention={attention!r}")
    for name, value in (("source_vocab", source_vocab), ("target_vocab", target_vocab), ("units", units)):
        if not isinstance(value, int) or value < 2:
            raise ValueError(f"Expected {name} to be an int >= 2. Received: {name}={value!r}")
    layers = keras.layers
    source = keras.Input((None,), dtype="int32", name="source")
    target_in = keras.Input((None,), dtype="int32", name="target_in")
    x = layers.Embedding(source_vocab, embedding_dim, mask_zero=True, name="source_embedding")(source)
    if embedding_dropout:
        x = layers.Dropout(embedding_dropout, name="source_embedding_dropout")(x)
    for depth in range(encoder_layers):
        last = depth == encoder_layers - 1
        rnn = recurrent_layer(
            cell,
            units,
            fast=fast_layers,
            return_sequences=True,
            return_state=last,
            dropout=dropout,
            name=f"encoder_{depth}",
        )
        if bidirectional:
            rnn = layers.Bidirectional(rnn, name=f"biencoder_{depth}")
        out = rnn(x)
        x = out[0] if last else out
    encoder_outputs, states = x, list(out[1:])
    per_direction = 2 if cell == "lstm" else 1
    if bidirectional:  # [h_f, (c_f), h_b, (c_b)] -> [h_f|h_b, (c_f|c_b)]
        states = [
            layers.Concatenate(name=f"encoder_state_{k}")([states[k], states[k + per_direction]])
            for k in range(per_direction)
        ]
    initial_state = [
        layers.Dense(units, activation="tanh", name=f"bridge_{k}")(state) for k, state in enumerate(states)
    ]
    y = layers.Embedding(target_vocab, embedding_dim, mask_zero=True, name="target_embedding")(target_in)
    if embedding_dropout:
        y = layers.Dropout(embedding_dropout, name="target_embedding_dropout")(y)
    decoder = recurrent_layer(
        cell, units, fast=fast_layers, return_sequences=True, dropout=dropout, name="decoder"
    )
    h = decoder(y, initial_state=initial_state)
    if attention != "none":
        attend = LuongAttention if attention == "luong" else AdditiveAttention
        context, _ = attend(name="attention")(h, encoder_outputs, source)
        h = layers.Concatenate(name="decoder_and_context")([h, context])
        h = layers.Dense(units, activation="tanh", name="attentional")(h)
    if output_dropout:
        h = layers.Dropout(output_dropout, name="output_dropout")(h)
    logits = layers.Dense(target_vocab, name="logits")(h)
    return keras.Model({"source": source, "target_in": target_in}, logits, name=f"{cell}_seq2seq_{attention}")


class Translator(DecoderSearch):
    """Greedy and beam-search decoding (`rnnlab.decoder_search`) with a trained `build_seq2seq`
    model's layers.

    Args:
        model: the trained (or reloaded) model.
        start_id, end_id: the target vocabulary's start and end ids.

    Example:
    >>> translator = Translator(model, start_id=1, end_id=3)  # doctest: +SKIP
    >>> ids, attention = translator.greedy(source_ids, max_steps=50)  # doctest: +SKIP
    """

    def __init__(self, model, start_id, end_id):
        super().__init__(start_id, end_id)
        self.model = model
        names = {layer.name for layer in model.layers}
        self.attention = model.get_layer("attention") if "attention" in names else None
        encoder_last = (layers_by_depth(model, "biencoder_") or layers_by_depth(model, "encoder_"))[-1]
        bridges = layers_by_depth(model, "bridge_")
        self.encoder = keras.Model(
            model.get_layer("source").output, [encoder_last.output[0], *[b.output for b in bridges]]
        )
        self.step_model = self._build_step_model(model)

    def _build_step_model(self, model):
        """One decoder step as a Keras model: `[tokens (rows,), encoder outputs, source ids,
        *states]` -> `[log-probabilities, attention weights (with attention), *new states]`.
        A model runs compiled (`predict_on_batch`), one program per input shape, where calling
        the layers eagerly would compile every operation for every shape."""
        cell = model.get_layer("decoder").cell
        units = model.get_layer("bridge_0").units
        encoder_outputs = keras.Input(self.encoder.outputs[0].shape[1:], name="encoder_outputs")
        source = keras.Input((None,), dtype="int32", name="source")
        tokens = keras.Input((), dtype="int32", name="tokens")
        states = [keras.Input((units,), name=f"state_{k}") for k in range(len(self.encoder.outputs) - 1)]
        # A step's token is never padding: the embedding's mask means nothing here.
        vectors = EndMask(name="no_mask")(model.get_layer("target_embedding")(tokens))
        h, *new_states = CellStep(cell, name="decoder_cell_step")(vectors, states)
        outputs = []
        if self.attention is not None:
            context, weights = self.attention(ops.expand_dims(h, 1), encoder_outputs, source)
            joined = model.get_layer("decoder_and_context")([h, context[:, 0]])
            h = model.get_layer("attentional")(joined)
            outputs.append(weights[:, 0])
        log_probs = ops.log_softmax(model.get_layer("logits")(h), axis=-1)
        return keras.Model(
            [tokens, encoder_outputs, source, *states],
            [log_probs, *outputs, *new_states],
            name="decoder_step",
        )

    def step(self, tokens, states, encoder_outputs, source):
        """One decoder step for `(rows,)` previous tokens (NumPy in, NumPy out):
        `(log_probs, states, attention)`."""
        out = predict_rows(self.step_model, [tokens, encoder_outputs, source, *states])
        if self.attention is None:
            return out[0], out[1:], None
        return out[0], out[2:], out[1]

    def encode(self, source_ids):
        """`(source, encoder outputs, decoder initial states)` as NumPy arrays."""
        source = np.asarray(source_ids, "int32")
        encoder_outputs, *states = predict_rows(self.encoder, [source])
        return source, encoder_outputs, states
