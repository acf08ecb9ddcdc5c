"""Models that leave rnnlab: `rnnlab export RUN --format onnx` writes the run's model as an ONNX
graph of ONNX's own nodes (`onnx_classifier`) with its preprocessing and a `manifest.json`
(`exporter`); `runtime` runs such a folder with ONNX Runtime, without Keras or a backend."""
