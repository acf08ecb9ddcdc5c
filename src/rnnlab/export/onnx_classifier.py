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

Example:
>>> graph = classifier_graph(model)  # doctest: +SKIP
>>> onnx.save(graph, "model.onnx")  # doctest: +SKIP
"""

import keras
import numpy as np

from rnnlab.export.onnx_graph import (
    FLOAT,
    INT32,
    Graph,
    back_padded_lengths,
    dense,
    layer_weights,
    recurrent_kind,
    recurrent_node,
)
from rnnlab.layers.pooling import ConcatPooling
from rnnlab.optional import require

INPUT, OUTPUT = "token_ids", "probabilities"
_LOWEST = np.float32(-3.0e38)  # stands in for masked steps in a maximum


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
    graph = Graph()
    layers = [layer for layer in model.layers if not isinstance(layer, keras.layers.Dropout)]
    embedding, *rest = layers
    if not isinstance(embedding, keras.layers.Embedding):
        raise ValueError(
            f"Expected the classifier's first layer to be an Embedding. Received: {embedding.name}"
        )
    # Masked ids come padded at the back: each row's length is its count of non-zero ids.
    lengths = back_padded_lengths(graph, INPUT) if embedding.mask_zero else None
    vectors = graph.op("Gather", [graph.constant(layer_weights(embedding)[0], "embeddings"), INPUT])
    sequence = graph.op("Transpose", [vectors], perm=[1, 0, 2])  # (steps, batch, features)
    final = None
    while rest and recurrent_kind(rest[0]) is not None:
        sequence, (final, *_) = recurrent_node(graph, rest.pop(0), sequence, lengths)
    if final is None:
        raise ValueError("Expected a recurrent layer after the embedding. Received: none.")
    head = rest.pop(0) if rest and not isinstance(rest[0], keras.layers.Dense) else None
    if head is None:
        features = final
    elif isinstance(head, keras.layers.GlobalAveragePooling1D):
        features = _mean(graph, sequence, lengths)
    elif isinstance(head, ConcatPooling):
        features = _concat_pooling(graph, sequence, lengths)
    else:
        raise ValueError(f"Cannot export the layer {head.name} ({type(head).__name__}) to ONNX.")
    if len(rest) != 1 or not isinstance(rest[0], keras.layers.Dense):
        raise ValueError(
            f"Expected the classifier to end with one Dense layer. Received: {[x.name for x in rest]}"
        )
    activation = rest[0].activation.__name__
    if activation not in ("sigmoid", "softmax"):
        raise ValueError(f"Expected a sigmoid or softmax output layer. Received: activation={activation!r}")
    graph.output("Identity", [dense(graph, rest[0], features)], OUTPUT)
    steps = model.input_shape[1]  # fixed without masking, else None
    return graph.model(
        name, [(INPUT, INT32, ["batch", steps or "steps"])], [(OUTPUT, FLOAT, ["batch", rest[0].units])]
    )


def _mean(graph, sequence, lengths):
    """The mean over steps of `(steps, batch, features)`: over each row's own steps when masked
    (ONNX zeroes the outputs past a row's length)."""
    axis = graph.constant(np.array([0]))
    if lengths is None:
        return graph.op("ReduceMean", [sequence, axis], keepdims=0)
    total = graph.op("ReduceSum", [sequence, axis], keepdims=0)
    count = graph.op("Unsqueeze", [graph.op("Cast", [lengths], to=FLOAT), graph.constant(np.array([1]))])
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
        "Range",
        [graph.constant(np.int32(0)), graph.op("Cast", [steps], to=INT32), graph.constant(np.int32(1))],
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
    weight = graph.op("Unsqueeze", [graph.op("Cast", [is_last], to=FLOAT), graph.constant(np.array([2]))])
    last = graph.op("ReduceSum", [graph.op("Mul", [batch_major, weight]), steps_axis], keepdims=0)
    return graph.op("Concat", [last, maximum, mean], axis=-1)
