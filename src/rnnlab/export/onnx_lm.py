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

import keras
import numpy as np

from rnnlab.export.onnx_classifier import OPSET, Graph, direction_weights, layer_weights, recurrent_kind
from rnnlab.optional import require

TOKEN, LOGITS = "token", "logits"


def lm_step_graph(model, name="rnnlab_lm_step"):
    """`(ONNX ModelProto, state sizes per layer)` of one step of a language model.

    Raises:
        ValueError: a layer ONNX's nodes cannot express here, naming it.
    """
    require("onnx", "Exporting to ONNX")
    from onnx import TensorProto, checker, helper

    graph = Graph()
    embedding = model.get_layer("embedding")
    matrix, *reverse_bias = layer_weights(embedding)
    layers = sorted((layer for layer in model.layers if layer.name.startswith("rnn_")), key=lambda x: x.name)
    x = graph.op("Gather", [graph.constant(matrix, "embeddings"), TOKEN])  # (batch, features)
    inputs, outputs, sizes = [], [], []
    for depth, layer in enumerate(layers):
        kind = recurrent_kind(layer)
        if kind is None or isinstance(layer, keras.layers.Bidirectional):
            raise ValueError(
                f"Cannot export the layer {layer.name} ({type(layer).__name__}) as one ONNX step."
            )
        w, r, b = direction_weights(layer, kind)
        units = r.shape[-1]
        count = 2 if kind == "LSTM" else 1
        names = [f"state_{depth}_{k}" for k in range(count)]
        inputs += names
        sizes.append([int(units)] * count)
        first = graph.constant(np.array([0]))
        states = [graph.op("Unsqueeze", [n, first]) for n in names]  # (1 direction, batch, units)
        attributes = {"hidden_size": int(units), "direction": "forward"}
        if kind == "GRU":
            attributes["linear_before_reset"] = 1
        weights = [graph.constant(w[None], "W"), graph.constant(r[None], "R"), graph.constant(b[None], "B")]
        node_inputs = [graph.op("Unsqueeze", [x, first]), *weights, "", *states]
        _, *finals = graph.op(kind, node_inputs, outputs=1 + count, **attributes)
        new_names = [f"new_state_{depth}_{k}" for k in range(count)]
        for final, new_name in zip(finals, new_names, strict=True):
            graph.nodes.append(helper.make_node("Squeeze", [final, first], [new_name]))
        outputs += new_names
        x = new_names[0]  # the layer's output is its h
    names = [layer.name for layer in model.layers]
    if "logits" in names:
        kernel, bias = layer_weights(model.get_layer("logits"))
    else:  # tied: the embedding matrix in reverse
        kernel = np.ascontiguousarray(matrix.T)
        bias = reverse_bias[0] if reverse_bias else np.zeros(matrix.shape[0], np.float32)
    product = graph.op("MatMul", [x, graph.constant(kernel)])
    graph.nodes.append(helper.make_node("Add", [product, graph.constant(bias)], [LOGITS]))
    vocab = int(kernel.shape[1])
    float_input = lambda n, size: helper.make_tensor_value_info(n, TensorProto.FLOAT, ["batch", size])  # noqa: E731
    flat_sizes = [size for layer_sizes in sizes for size in layer_sizes]
    proto = helper.make_graph(
        graph.nodes,
        name,
        [helper.make_tensor_value_info(TOKEN, TensorProto.INT32, ["batch"]),
         *(float_input(n, size) for n, size in zip(inputs, flat_sizes, strict=True))],
        [helper.make_tensor_value_info(LOGITS, TensorProto.FLOAT, ["batch", vocab]),
         *(float_input(n, size) for n, size in zip(outputs, flat_sizes, strict=True))],
        graph.initializers,
    )  # fmt: skip
    onnx_model = helper.make_model(
        proto, opset_imports=[helper.make_opsetid("", OPSET)], producer_name="rnnlab"
    )
    checker.check_model(onnx_model, full_check=True)
    return onnx_model, sizes
