"""A language model (`rnnlab.models.language_model.build_language_model`) as the ONNX graph of one
step: `token` `(batch,)` int32 and each layer's states (`state_L_K`, `(batch, units)` float32:
h, then c for an LSTM) in; `logits` `(batch, vocab)` and the new states (`new_state_L_K`) out.
Generation runs this step outside Keras, carrying the states (`rnnlab.export.runtime`), exactly as
`rnnlab.models.language_model.Generator` runs the Keras cells.

The embedding is a `Gather`; each recurrent layer is ONNX's `RNN`, `LSTM` or `GRU` node over one
step with the states as `initial_h` (and `initial_c`); the output layer is the `Dense` layer or,
with tied weights, the embedding matrix transposed plus its bias. Dropout is left out (inference).

Example:
>>> graph, states = lm_step_graph(model)  # doctest: +SKIP
"""

import numpy as np

from rnnlab.export.onnx_graph import FLOAT, INT32, Graph, layer_weights, recurrent_step, state_count
from rnnlab.models.recurrent import layers_by_depth
from rnnlab.optional import require

TOKEN, LOGITS = "token", "logits"


def lm_step_graph(model, name="rnnlab_lm_step"):
    """`(ONNX ModelProto, state sizes per layer)` of one step of a language model.

    Raises:
        ValueError: a layer ONNX's nodes cannot express here, naming it.
    """
    require("onnx", "Exporting to ONNX")
    graph = Graph()
    embedding = model.get_layer("embedding")
    matrix, *reverse_bias = layer_weights(embedding)
    layers = layers_by_depth(model, "rnn_")
    x = graph.op("Gather", [graph.constant(matrix, "embeddings"), TOKEN])  # (batch, features)
    inputs, outputs, sizes = [], [], []
    for depth, layer in enumerate(layers):
        names = [f"state_{depth}_{k}" for k in range(state_count(layer))]
        finals = recurrent_step(graph, layer, x, names)
        for final, name in zip(finals, names, strict=True):
            graph.output("Identity", [final], f"new_{name}")
        units = int(layer.cell.units)
        inputs += [(n, FLOAT, ["batch", units]) for n in names]
        outputs += [(f"new_{n}", FLOAT, ["batch", units]) for n in names]
        sizes.append([units] * len(names))
        x = finals[0]  # the layer's output is its h
    if "logits" in [layer.name for layer in model.layers]:
        kernel, bias = layer_weights(model.get_layer("logits"))
    else:  # tied: the embedding matrix in reverse
        kernel = np.ascontiguousarray(matrix.T)
        bias = reverse_bias[0] if reverse_bias else np.zeros(matrix.shape[0], np.float32)
    product = graph.op("MatMul", [x, graph.constant(kernel)])
    graph.output("Add", [product, graph.constant(bias)], LOGITS)
    model_proto = graph.model(
        name,
        [(TOKEN, INT32, ["batch"]), *inputs],
        [(LOGITS, FLOAT, ["batch", int(kernel.shape[1])]), *outputs],
    )
    return model_proto, sizes
