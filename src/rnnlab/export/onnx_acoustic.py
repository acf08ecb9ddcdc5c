"""An acoustic model (`rnnlab.models.acoustic.build_acoustic_model`) as an ONNX graph: MFCC frames
in, the model's posteriors out; CTC decoding stays outside the graph (`rnnlab.tasks.speech.decoding`).

The input is `frames`, `(batch, steps, features)` float32, each utterance's frames padded at the
back with all-zero frames (what the model's `Masking(0.0)` masks): the graph counts each row's
non-zero frames and gives the counts to ONNX's recurrent nodes as `sequence_lens`. The output is
`probabilities` `(batch, 10)` for a digits model, or `logits` `(batch, steps, labels)` (blank
first) for a CTC model; steps past a row's length are not part of its utterance.

Example:
>>> graph, output = acoustic_graph(model)  # doctest: +SKIP
"""

import keras

from rnnlab.export.onnx_graph import FLOAT, Graph, back_padded_lengths, dense, recurrent_kind, recurrent_node
from rnnlab.layers.masking import EndMask
from rnnlab.optional import require

FRAMES = "frames"


def acoustic_graph(model, name="rnnlab_acoustic"):
    """`(ONNX ModelProto, output name)` of an acoustic model: 'probabilities' (digits) or 'logits' (CTC).

    Raises:
        ValueError: a layer ONNX's nodes cannot express here, naming it.
    """
    require("onnx", "Exporting to ONNX")
    graph = Graph()
    skipped = (keras.layers.Dropout, keras.layers.Masking, keras.layers.InputLayer, EndMask)
    layers = [x for x in model.layers if not isinstance(x, skipped)]
    lengths = back_padded_lengths(graph, FRAMES, frames=True)
    sequence = graph.op("Transpose", [FRAMES], perm=[1, 0, 2])  # (steps, batch, features)
    final = None
    while layers and recurrent_kind(layers[0]) is not None:
        sequence, (final, *_) = recurrent_node(graph, layers.pop(0), sequence, lengths)
    if final is None or len(layers) != 1 or not isinstance(layers[0], keras.layers.Dense):
        raise ValueError(
            "Expected an acoustic model of recurrent layers and one Dense layer. Received: "
            f"{[layer.name for layer in model.layers]}"
        )
    output = layers[0]
    classes = int(output.units)
    features = int(model.input_shape[-1])
    if len(model.output_shape) == 2:  # one prediction per utterance, from the final states
        graph.output("Identity", [dense(graph, output, final)], "probabilities")
        outputs = [("probabilities", FLOAT, ["batch", classes])]
    else:  # logits at every step
        batch_major = graph.op("Transpose", [sequence], perm=[1, 0, 2])
        graph.output("Identity", [dense(graph, output, batch_major)], "logits")
        outputs = [("logits", FLOAT, ["batch", "steps", classes])]
    inputs = [(FRAMES, FLOAT, ["batch", "steps", features])]
    return graph.model(name, inputs, outputs), outputs[0][0]
