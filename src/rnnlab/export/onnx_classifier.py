"""A sentiment classifier (`rnnlab.models.classifier.build_classifier`) as an ONNX graph built
from its weights: `Gather` for the embedding, ONNX's own `RNN`, `LSTM` and `GRU` nodes for the
recurrent layers (both directions in one node for a bidirectional layer), the pooling, and the
output layer. No rnnlab or Keras operation is left inside, so ONNX Runtime (or any ONNX runtime)
runs it alone.

The graph's input is `token_ids`, `(batch, steps)` int32. A model with masking (`mask_zero`)
takes its ids padded at the back: the graph counts each row's non-zero ids and gives the counts to
the recurrent nodes as `sequence_lens`, which is what Keras' masking computes for the front padding
rnnlab uses (masked steps never change a state). A model without masking reads every step, padding
included, so it takes exactly rnnlab's input: `maxlen` ids padded at the front.

Weights are mapped as ONNX defines its nodes (Keras' LSTM gates are i, f, c, o; ONNX's i, o, f,
c; Keras' GRU with `reset_after=True` is ONNX's GRU with `linear_before_reset=1`).

Example:
>>> graph = classifier_graph(model)  # doctest: +SKIP
>>> onnx.save(graph, "model.onnx")  # doctest: +SKIP
"""

import keras
import numpy as np

from rnnlab.optional import require

OPSET = 18
INPUT, OUTPUT = "token_ids", "probabilities"
_LOWEST = np.float32(-3.0e38)  # stands in for masked steps in a maximum


class Graph:
    """Nodes and constants of an ONNX graph being built, with fresh names."""

    def __init__(self):
        from onnx import helper, numpy_helper

        self.helper, self.numpy_helper = helper, numpy_helper
        self.nodes, self.initializers, self._count = [], [], 0

    def name(self, hint):
        self._count += 1
        return f"{hint}_{self._count}"

    def constant(self, value, hint="const"):
        name = self.name(hint)
        self.initializers.append(self.numpy_helper.from_array(np.asarray(value), name))
        return name

    def op(self, op_type, inputs, outputs=1, **attributes):
        """Adds a node; returns its output name (or names, for `outputs` > 1)."""
        names = [self.name(op_type.lower()) for _ in range(outputs)]
        self.nodes.append(self.helper.make_node(op_type, list(inputs), names, **attributes))
        return names[0] if outputs == 1 else names


def classifier_graph(model, name="rnnlab_classifier"):
    """The ONNX `ModelProto` of a classifier built by `build_classifier`.

    Args:
        model: the Keras model (rnnlab's FastRNN layers or Keras' own, trained or not).
        name: the graph's name.

    Raises:
        ValueError: a layer or setting ONNX's nodes cannot express (another activation,
            `reset_after=False`, an unknown layer), naming it.
    """
    require("onnx", "Exporting to ONNX")
    from onnx import TensorProto, helper

    graph = Graph()
    layers = [layer for layer in model.layers if not isinstance(layer, keras.layers.Dropout)]
    embedding, *rest = layers
    if not isinstance(embedding, keras.layers.Embedding):
        raise ValueError(
            f"Expected the classifier's first layer to be an Embedding. Received: {embedding.name}"
        )
    masked = bool(embedding.mask_zero)
    ids = INPUT
    lengths = None
    if masked:  # ids padded at the back: each row's length is its count of non-zero ids
        nonzero = graph.op("Not", [graph.op("Equal", [ids, graph.constant(np.int32(0))])])
        lengths = graph.op(
            "ReduceSum", [graph.op("Cast", [nonzero], to=TensorProto.INT32), graph.constant(np.array([1]))],
            keepdims=0,
        )  # fmt: skip
    vectors = graph.op("Gather", [graph.constant(layer_weights(embedding)[0], "embeddings"), ids])
    sequence = graph.op("Transpose", [vectors], perm=[1, 0, 2])  # (steps, batch, features)
    final = None
    while rest and recurrent_kind(rest[0]) is not None:
        layer = rest.pop(0)
        sequence, final = _recurrent_node(graph, layer, sequence, lengths)
    if final is None:
        raise ValueError("Expected a recurrent layer after the embedding. Received: none.")
    head = rest.pop(0) if rest and not isinstance(rest[0], keras.layers.Dense) else None
    if head is None:
        features = final
    elif isinstance(head, keras.layers.GlobalAveragePooling1D):
        features = _mean(graph, sequence, lengths)
    elif type(head).__name__ == "ConcatPooling":
        features = _concat_pooling(graph, sequence, lengths)
    else:
        raise ValueError(f"Cannot export the layer {head.name} ({type(head).__name__}) to ONNX.")
    if len(rest) != 1 or not isinstance(rest[0], keras.layers.Dense):
        raise ValueError(
            f"Expected the classifier to end with one Dense layer. Received: {[x.name for x in rest]}"
        )
    dense = rest[0]
    kernel, bias = layer_weights(dense)
    logits = graph.op("Add", [graph.op("MatMul", [features, graph.constant(kernel)]), graph.constant(bias)])
    activation = dense.activation.__name__
    if activation == "sigmoid":
        graph.nodes.append(helper.make_node("Sigmoid", [logits], [OUTPUT]))
    elif activation == "softmax":
        graph.nodes.append(helper.make_node("Softmax", [logits], [OUTPUT], axis=-1))
    else:
        raise ValueError(f"Expected a sigmoid or softmax output layer. Received: activation={activation!r}")
    steps = model.input_shape[1]  # fixed without masking, else None
    proto = helper.make_graph(
        graph.nodes,
        name,
        [helper.make_tensor_value_info(INPUT, TensorProto.INT32, ["batch", steps or "steps"])],
        [helper.make_tensor_value_info(OUTPUT, TensorProto.FLOAT, ["batch", int(kernel.shape[1])])],
        graph.initializers,
    )
    onnx_model = helper.make_model(
        proto, opset_imports=[helper.make_opsetid("", OPSET)], producer_name="rnnlab"
    )
    from onnx import checker

    checker.check_model(onnx_model, full_check=True)
    return onnx_model


def layer_weights(layer):
    """A layer's weights as float32 NumPy arrays, in Keras' order."""
    return [np.asarray(keras.ops.convert_to_numpy(w), dtype=np.float32) for w in layer.weights]


def recurrent_kind(layer):
    """'RNN', 'LSTM' or 'GRU' for a recurrent layer (or a Bidirectional one), else None."""
    inner = layer.forward_layer if isinstance(layer, keras.layers.Bidirectional) else layer
    for kind, cls in (
        ("LSTM", keras.layers.LSTM),
        ("GRU", keras.layers.GRU),
        ("RNN", keras.layers.SimpleRNN),
    ):
        if isinstance(inner, cls):
            return kind
    return None


def _check_defaults(layer, kind):
    cell = layer.cell
    if cell.activation is not keras.activations.tanh:
        raise ValueError(
            f"ONNX's {kind} node exported here uses tanh. Received: {layer.name} with another activation"
        )
    if kind != "RNN" and cell.recurrent_activation is not keras.activations.sigmoid:
        raise ValueError(
            f"ONNX's {kind} node exported here uses sigmoid gates. Received: {layer.name} with another "
            "recurrent_activation"
        )
    if kind == "GRU" and not cell.reset_after:
        raise ValueError(f"Only GRU with reset_after=True maps to ONNX's GRU here. Received: {layer.name}")


def direction_weights(layer, kind):
    """`(W, R, B)` of one direction in ONNX's layout: W `(gates*units, inputs)`, R `(gates*units,
    units)`, B `(2*gates*units,)` (the input bias, then the recurrent bias)."""
    _check_defaults(layer, kind)
    weights = layer_weights(layer)
    kernel, recurrent = weights[0], weights[1]
    units = recurrent.shape[0]
    gates = recurrent.shape[1] // units
    if len(weights) > 2:
        bias = weights[2].reshape(-1, gates * units)
        input_bias = bias[0]
        recurrent_bias = bias[1] if len(bias) > 1 else np.zeros(gates * units, np.float32)
    else:
        input_bias = recurrent_bias = np.zeros(gates * units, np.float32)
    order = [0, 3, 1, 2] if kind == "LSTM" else list(range(gates))  # Keras i,f,c,o -> ONNX i,o,f,c

    def gate_rows(matrix):  # (inputs, gates*units) -> ONNX's (gates*units, inputs), gates reordered
        blocks = np.split(matrix.T, gates, axis=0)
        return np.concatenate([blocks[i] for i in order], axis=0)

    reorder = lambda vector: np.concatenate([np.split(vector, gates)[i] for i in order])  # noqa: E731
    return (
        gate_rows(kernel),
        gate_rows(recurrent),
        np.concatenate([reorder(input_bias), reorder(recurrent_bias)]),
    )


def _recurrent_node(graph, layer, sequence, lengths):
    """One recurrent (or bidirectional) layer as an ONNX node; returns the next `(steps, batch,
    features)` sequence and the final state `(batch, directions * units)`."""
    kind = recurrent_kind(layer)
    directions = (
        [layer.forward_layer, layer.backward_layer]
        if isinstance(layer, keras.layers.Bidirectional)
        else [layer]
    )
    parts = [direction_weights(d, kind) for d in directions]
    w, r, b = (np.stack([p[i] for p in parts]) for i in range(3))
    units = r.shape[-1]
    attributes = {"hidden_size": int(units), "direction": "bidirectional" if len(parts) == 2 else "forward"}
    if kind == "GRU":
        attributes["linear_before_reset"] = 1
    outputs = 3 if kind == "LSTM" else 2
    inputs = [sequence, graph.constant(w, "W"), graph.constant(r, "R"), graph.constant(b, "B"), lengths or ""]
    all_steps, last, *_ = graph.op(kind, inputs, outputs=outputs, **attributes)
    flat = graph.constant(np.array([0, 0, -1]))
    sequence = graph.op("Reshape", [graph.op("Transpose", [all_steps], perm=[0, 2, 1, 3]), flat])
    final = graph.op(
        "Reshape", [graph.op("Transpose", [last], perm=[1, 0, 2]), graph.constant(np.array([0, -1]))]
    )
    return sequence, final


def _mean(graph, sequence, lengths):
    """The mean over steps of `(steps, batch, features)`: over each row's own steps when masked
    (ONNX zeroes the outputs past a row's length)."""
    axis = graph.constant(np.array([0]))
    if lengths is None:
        return graph.op("ReduceMean", [sequence, axis], keepdims=0)
    total = graph.op("ReduceSum", [sequence, axis], keepdims=0)
    count = graph.op("Unsqueeze", [graph.op("Cast", [lengths], to=1), graph.constant(np.array([1]))])
    return graph.op("Div", [total, graph.op("Max", [count, graph.constant(np.float32(1.0))])])


def _concat_pooling(graph, sequence, lengths):
    """`rnnlab.layers.pooling.ConcatPooling`: `[last, max, mean]` over steps."""
    batch_major = graph.op("Transpose", [sequence], perm=[1, 0, 2])  # (batch, steps, features)
    steps_axis = graph.constant(np.array([1]))
    mean = _mean(graph, sequence, lengths)
    if lengths is None:
        last = graph.op("Gather", [batch_major, graph.constant(np.int64(-1))], axis=1)
        maximum = graph.op("ReduceMax", [batch_major, steps_axis], keepdims=0)
        return graph.op("Concat", [last, maximum, mean], axis=-1)
    shape = graph.op("Shape", [batch_major])
    steps = graph.op("Gather", [shape, graph.constant(np.int64(1))])
    positions = graph.op(
        "Range", [graph.constant(np.int32(0)), graph.op("Cast", [steps], to=6), graph.constant(np.int32(1))]
    )  # (steps,) int32
    row_lengths = graph.op("Unsqueeze", [lengths, steps_axis])  # (batch, 1)
    keep = graph.op("Less", [graph.op("Unsqueeze", [positions, graph.constant(np.array([0]))]), row_lengths])
    keep3 = graph.op("Unsqueeze", [keep, graph.constant(np.array([2]))])  # (batch, steps, 1)
    maximum = graph.op(
        "ReduceMax",
        [graph.op("Where", [keep3, batch_major, graph.constant(_LOWEST)]), steps_axis],
        keepdims=0,
    )
    is_last = graph.op("Equal", [graph.op("Unsqueeze", [positions, graph.constant(np.array([0]))]),
                                 graph.op("Sub", [row_lengths, graph.constant(np.int32(1))])])  # fmt: skip
    weight = graph.op("Unsqueeze", [graph.op("Cast", [is_last], to=1), graph.constant(np.array([2]))])
    last = graph.op("ReduceSum", [graph.op("Mul", [batch_major, weight]), steps_axis], keepdims=0)
    return graph.op("Concat", [last, maximum, mean], axis=-1)
