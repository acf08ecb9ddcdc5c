"""Building ONNX graphs from Keras layers' weights, shared by every export: a small graph
builder, ONNX's own `RNN`/`LSTM`/`GRU` nodes for Keras' recurrent layers (whole sequences, or one
step with states carried by the caller), `Dense` layers, and lengths of back-padded inputs.

Weights are mapped as ONNX defines its nodes (Keras' LSTM gates are i, f, c, o; ONNX's i, o, f,
c; Keras' GRU with `reset_after=True` is ONNX's GRU with `linear_before_reset=1`).

Example:
>>> graph = Graph()  # doctest: +SKIP
>>> sequence, finals = recurrent_node(graph, model.get_layer("rnn_0"), "frames_tbf", None)  # doctest: +SKIP
"""

import keras
import numpy as np

OPSET = 18
FLOAT, INT32 = 1, 6  # onnx.TensorProto's FLOAT and INT32


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

    def output(self, op_type, inputs, name, **attributes):
        """Adds a node whose one output is the graph output `name`."""
        self.nodes.append(self.helper.make_node(op_type, list(inputs), [name], **attributes))
        return name

    def model(self, name, inputs, outputs):
        """The checked `ModelProto`; `inputs` and `outputs` are `(name, onnx dtype, shape)`."""
        from onnx import checker

        info = lambda n, dtype, shape: self.helper.make_tensor_value_info(n, dtype, shape)  # noqa: E731
        proto = self.helper.make_graph(
            self.nodes, name, [info(*x) for x in inputs], [info(*x) for x in outputs], self.initializers
        )
        model = self.helper.make_model(
            proto, opset_imports=[self.helper.make_opsetid("", OPSET)], producer_name="rnnlab"
        )
        checker.check_model(model, full_check=True)
        return model


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
            f"ONNX's {kind} node exported here uses tanh. Received: {layer.name} with activation "
            f"{getattr(cell.activation, '__name__', '(a callable)')!r}"
        )
    if kind != "RNN" and cell.recurrent_activation is not keras.activations.sigmoid:
        raise ValueError(
            f"ONNX's {kind} node exported here uses sigmoid gates. Received: {layer.name} with "
            f"recurrent_activation {getattr(cell.recurrent_activation, '__name__', '(a callable)')!r}"
        )
    if kind == "GRU" and not cell.reset_after:
        raise ValueError(f"Only GRU with reset_after=True maps to ONNX's GRU here. Received: {layer.name}")


def direction_weights(layer, kind):
    """`(W, R, B)` of one direction in ONNX's layout: W `(gates*units, inputs)`, R `(gates*units,
    units)`, B `(2*gates*units,)` (the input bias, then the recurrent bias)."""
    _check_defaults(layer, kind)
    weights = layer_weights(layer.cell)  # the cell's: a stateful layer also holds its states
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


def recurrent_node(graph, layer, sequence, lengths):
    """One recurrent (or bidirectional) layer as an ONNX node over `(steps, batch, features)`;
    `lengths` (or None) are each row's steps. Returns the next `(steps, batch, directions * units)`
    sequence and the final states `[h, (c for an LSTM)]`, each `(batch, directions * units)`: both
    directions joined, as Keras' `Bidirectional` joins its outputs."""
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
    all_steps, *lasts = graph.op(kind, inputs, outputs=outputs, **attributes)
    flat = graph.constant(np.array([0, 0, -1]))
    sequence = graph.op("Reshape", [graph.op("Transpose", [all_steps], perm=[0, 2, 1, 3]), flat])
    by_row = graph.constant(np.array([0, -1]))
    finals = [graph.op("Reshape", [graph.op("Transpose", [last], perm=[1, 0, 2]), by_row]) for last in lasts]
    return sequence, finals


def recurrent_step(graph, layer, x, states):
    """One step of a (one-direction) recurrent layer: `x` `(batch, features)` and its states
    (names of `(batch, units)` tensors: h, then c for an LSTM) -> the new states' names (the first is
    the layer's output).

    Raises:
        ValueError: a bidirectional or unknown layer, naming it.
    """
    kind = recurrent_kind(layer)
    if kind is None or isinstance(layer, keras.layers.Bidirectional):
        raise ValueError(f"Cannot export the layer {layer.name} ({type(layer).__name__}) as one ONNX step.")
    w, r, b = direction_weights(layer, kind)
    attributes = {"hidden_size": int(r.shape[-1]), "direction": "forward"}
    if kind == "GRU":
        attributes["linear_before_reset"] = 1
    first = graph.constant(np.array([0]))
    weights = [graph.constant(w[None], "W"), graph.constant(r[None], "R"), graph.constant(b[None], "B")]
    initial = [graph.op("Unsqueeze", [s, first]) for s in states]  # (1 direction, batch, units)
    _, *finals = graph.op(kind, [graph.op("Unsqueeze", [x, first]), *weights, "", *initial],
                          outputs=1 + len(states), **attributes)  # fmt: skip
    return [graph.op("Squeeze", [final, first]) for final in finals]


def state_count(layer):
    """How many state tensors a recurrent layer carries: 2 for an LSTM (h, c), else 1."""
    return 2 if recurrent_kind(layer) == "LSTM" else 1


def dense(graph, layer, x, activation=True):
    """A `Dense` layer on the last axis of `x` (its activation too, unless `activation=False`).

    Raises:
        ValueError: an activation other than linear, tanh, sigmoid or softmax.
    """
    kernel, *bias = layer_weights(layer)
    y = graph.op("MatMul", [x, graph.constant(kernel)])
    if bias:
        y = graph.op("Add", [y, graph.constant(bias[0])])
    name = layer.activation.__name__
    if not activation or name == "linear":
        return y
    if name in ("tanh", "sigmoid"):
        return graph.op(name.capitalize(), [y])
    if name == "softmax":
        return graph.op("Softmax", [y], axis=-1)
    raise ValueError(f"Cannot export {layer.name}'s activation {name!r} to ONNX.")


def back_padded_lengths(graph, padded, frames=False):
    """`(batch,)` int32 lengths of back-padded rows: the count of non-zero ids in `(batch, steps)`
    int32 ids, or (`frames=True`) of frames with a non-zero number in `(batch, steps, features)`
    float32 frames; what Keras' `mask_zero` and `Masking(0.0)` mask."""
    zero = np.float32(0.0) if frames else np.int32(0)
    nonzero = graph.op(
        "Cast", [graph.op("Not", [graph.op("Equal", [padded, graph.constant(zero)])])], to=INT32
    )
    if frames:
        nonzero = graph.op("ReduceMax", [nonzero, graph.constant(np.array([2]))], keepdims=0)
    return graph.op("ReduceSum", [nonzero, graph.constant(np.array([1]))], keepdims=0)
