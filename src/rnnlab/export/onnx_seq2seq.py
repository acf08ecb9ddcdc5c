"""A translation model (`rnnlab.models.seq2seq.build_seq2seq`) as two ONNX graphs, what greedy and
beam search need (`rnnlab.decoder_search`):

    encoder.onnx        source (batch, source steps) int32 ids padded at the back
                        -> encoder_outputs (batch, source steps, features) and the decoder's
                           initial states state_0 (h), state_1 (c, LSTM) (batch, units)
    decoder_step.onnx   token (batch,) int32, encoder_outputs, source, state_K
                        -> log_probs (batch, target vocabulary), attention (batch, source steps)
                           (models with attention), new_state_K

The encoder is ONNX's recurrent nodes with each row's length (its count of non-zero ids) and the
bridge layers; the step is one node over one step, Luong's or Bahdanau's attention over the source's
non-padding steps, the attentional layer and the output layer, as `Translator`'s step model computes.

Example:
>>> graphs = seq2seq_graphs(model)  # doctest: +SKIP
>>> sorted(graphs)  # doctest: +SKIP
['decoder_step.onnx', 'encoder.onnx']
"""

import numpy as np

from rnnlab.export.onnx_graph import (
    FLOAT,
    INT32,
    Graph,
    back_padded_lengths,
    dense,
    layer_weights,
    recurrent_node,
    recurrent_step,
    state_count,
)
from rnnlab.layers.attention import LuongAttention
from rnnlab.optional import require

_MASKED = np.float32(-1e9)  # the score of a padding step, as the attention layers give it


def _layer_names(model):
    return {layer.name for layer in model.layers}


def encoder_graph(model, name="rnnlab_encoder"):
    """The encoder's `ModelProto`: source ids -> encoder outputs and the decoder's initial states."""
    graph = Graph()
    names = _layer_names(model)
    lengths = back_padded_lengths(graph, "source")
    vectors = graph.op(
        "Gather", [graph.constant(layer_weights(model.get_layer("source_embedding"))[0]), "source"]
    )
    sequence = graph.op("Transpose", [vectors], perm=[1, 0, 2])  # (steps, batch, features)
    depth = 0
    while f"encoder_{depth}" in names or f"biencoder_{depth}" in names:
        layer = model.get_layer(f"biencoder_{depth}" if f"biencoder_{depth}" in names else f"encoder_{depth}")
        sequence, finals = recurrent_node(graph, layer, sequence, lengths)
        depth += 1
    graph.output("Transpose", [sequence], "encoder_outputs", perm=[1, 0, 2])
    bridges = sorted(n for n in names if n.startswith("bridge_"))
    for k, bridge in enumerate(bridges):
        graph.output("Identity", [dense(graph, model.get_layer(bridge), finals[k])], f"state_{k}")
    units = int(model.get_layer("bridge_0").units)
    return graph.model(
        name,
        [("source", INT32, ["batch", "source_steps"])],
        [("encoder_outputs", FLOAT, ["batch", "source_steps", "features"]),
         *((f"state_{k}", FLOAT, ["batch", units]) for k in range(len(bridges)))],
    )  # fmt: skip


def _scores(graph, attention, h, values):
    """`(batch, source steps)` scores of the decoder output `h` against the encoder outputs."""
    weights = layer_weights(attention)
    if isinstance(attention, LuongAttention):  # h W s_j
        query = graph.op("MatMul", [h, graph.constant(weights[0])])  # (batch, features)
        column = graph.op("Unsqueeze", [query, graph.constant(np.array([2]))])  # (batch, features, 1)
        return graph.op("Squeeze", [graph.op("MatMul", [values, column]), graph.constant(np.array([2]))])
    query_kernel, key_kernel, bias, score_vector = weights  # v . tanh(W_q h + W_k s_j + b)
    query = graph.op("MatMul", [h, graph.constant(query_kernel)])
    keys = graph.op("Add", [graph.op("MatMul", [values, graph.constant(key_kernel)]), graph.constant(bias)])
    hidden = graph.op(
        "Tanh", [graph.op("Add", [keys, graph.op("Unsqueeze", [query, graph.constant(np.array([1]))])])]
    )
    return graph.op("MatMul", [hidden, graph.constant(score_vector)])


def decoder_step_graph(model, name="rnnlab_decoder_step"):
    """One decoder step's `ModelProto` (see the module's docstring for its inputs and outputs)."""
    graph = Graph()
    names = _layer_names(model)
    decoder = model.get_layer("decoder")
    states = [f"state_{k}" for k in range(state_count(decoder))]
    x = graph.op("Gather", [graph.constant(layer_weights(model.get_layer("target_embedding"))[0]), "token"])
    finals = recurrent_step(graph, decoder, x, states)
    for final, state in zip(finals, states, strict=True):
        graph.output("Identity", [final], f"new_{state}")
    h = finals[0]
    outputs = []
    if "attention" in names:
        scores = _scores(graph, model.get_layer("attention"), h, "encoder_outputs")
        keep = graph.op("Not", [graph.op("Equal", ["source", graph.constant(np.int32(0))])])
        scores = graph.op("Where", [keep, scores, graph.constant(_MASKED)])
        weights = graph.output("Softmax", [scores], "attention", axis=-1)
        row = graph.op("Unsqueeze", [weights, graph.constant(np.array([1]))])  # (batch, 1, source steps)
        context = graph.op(
            "Squeeze", [graph.op("MatMul", [row, "encoder_outputs"]), graph.constant(np.array([1]))]
        )
        h = dense(graph, model.get_layer("attentional"), graph.op("Concat", [h, context], axis=-1))
        outputs.append(("attention", FLOAT, ["batch", "source_steps"]))
    logits = dense(graph, model.get_layer("logits"), h)
    graph.output("LogSoftmax", [logits], "log_probs", axis=-1)
    units, vocab = int(decoder.cell.units), int(model.get_layer("logits").units)
    return graph.model(
        name,
        [("token", INT32, ["batch"]), ("encoder_outputs", FLOAT, ["batch", "source_steps", "features"]),
         ("source", INT32, ["batch", "source_steps"]), *((s, FLOAT, ["batch", units]) for s in states)],
        [("log_probs", FLOAT, ["batch", vocab]), *outputs,
         *((f"new_{s}", FLOAT, ["batch", units]) for s in states)],
    )  # fmt: skip


def seq2seq_graphs(model):
    """`{file name: ModelProto}`: the encoder and one decoder step.

    Raises:
        ValueError: a layer ONNX's nodes cannot express here, naming it.
    """
    require("onnx", "Exporting to ONNX")
    return {"encoder.onnx": encoder_graph(model), "decoder_step.onnx": decoder_step_graph(model)}
