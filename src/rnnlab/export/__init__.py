"""Models that leave rnnlab: `rnnlab export RUN --format onnx|saved_model|tflite` writes the run's
model (ONNX graphs of ONNX's own nodes: `onnx_classifier`, `onnx_lm`, `onnx_acoustic`,
`onnx_seq2seq`; or TensorFlow's formats: `tensorflow_formats`) with its preprocessing and a
`manifest.json` (`exporter`); `runtime` runs an ONNX export with ONNX Runtime, without Keras or a
backend."""
