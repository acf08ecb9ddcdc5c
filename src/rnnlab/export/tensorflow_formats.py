"""Sentiment classifiers and language models as TensorFlow SavedModel or TFLite files, written
through Keras' TensorFlow backend (`keras.export.ExportArchive`, then TensorFlow's TFLite converter).

- A classifier serves `token_ids` `(batch, steps)` int32, rnnlab's own input (ids padded at the
  front to the run's `maxlen`), and returns `probabilities`. TFLite's converter lowers Keras'
  recurrent loop to TFLite's builtin operators only for static shapes (with a dynamic batch it
  needs TensorFlow's own ops, "Flex", which the plain TFLite runtime lacks): the TFLite file takes
  one text at a time, `(1, maxlen)`.
- A language model serves one step, as the ONNX export does: `token` `(batch,)` and each layer's
  states in, `logits` and the new states out (`rnnlab.models.language_model.Generator`'s step).

Example:
>>> write_tensorflow("sentiment", model, preprocessor, "export/saved_model", "saved_model")  # doctest: +SKIP
"""

import shutil
import tempfile
from pathlib import Path

import keras

from rnnlab.models.language_model import Generator


def _endpoint(task, model, preprocessor, one_row):
    """`(function, input signature, the model to track)` that the export serves."""
    import tensorflow as tf

    if task == "sentiment":
        steps = preprocessor.maxlen if one_row else model.input_shape[1]
        signature = [tf.TensorSpec([1 if one_row else None, steps], tf.int32, name="token_ids")]
        return (lambda ids: {"probabilities": model(ids, training=False)}), signature, model
    step = Generator(model).step_model
    inputs = [tf.TensorSpec([None], tf.int32, name="token")]
    inputs += [tf.TensorSpec([None, x.shape[-1]], tf.float32, name=x.name) for x in step.inputs[1:]]
    names = ["logits", *(f"new_{x.name}" for x in step.inputs[1:])]

    def serve(token, *states):
        return dict(zip(names, step([token, *states], training=False), strict=True))

    return serve, inputs, step


def write_tensorflow(task, model, preprocessor, path, format):
    """Writes `path`: a SavedModel folder (`format='saved_model'`) or a `.tflite` file.

    Raises:
        ValueError: Keras runs on another backend than TensorFlow.
    """
    if keras.backend.backend() != "tensorflow":
        raise ValueError(
            f"--format {format} is written through Keras' TensorFlow backend. Received: the "
            f"{keras.backend.backend()} backend; run `rnnlab export ... --backend tensorflow`."
        )
    import tensorflow as tf

    function, signature, tracked = _endpoint(task, model, preprocessor, one_row=format == "tflite")
    archive = keras.export.ExportArchive()
    archive.track(tracked)
    archive.add_endpoint("serve", function, input_signature=signature)
    path = Path(path)
    if format == "saved_model":
        archive.write_out(str(path), verbose=False)
        return
    folder = Path(tempfile.mkdtemp(prefix=".saved_model.", dir=path.parent))
    try:
        archive.write_out(str(folder / "model"), verbose=False)
        path.write_bytes(tf.lite.TFLiteConverter.from_saved_model(str(folder / "model")).convert())
    finally:
        shutil.rmtree(folder, ignore_errors=True)
