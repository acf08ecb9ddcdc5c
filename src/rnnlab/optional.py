"""Optional dependencies, imported where they are used, with the exact install
hint when missing.

Extras (see pyproject.toml): `text` (gensim: word2vec, GloVe, stop words;
tokenizers: BPE subwords), `tune` (KerasTuner), `tensorflow`, `torch`, `onnx` (ONNX Runtime, a benchmark
peer); `all`
installs every one.

Example:
>>> gensim = require("gensim", "word2vec embeddings")  # doctest: +SKIP
"""

import importlib

EXTRAS = {  # module -> (pip package, rnnlab extra)
    "gensim": ("gensim", "text"),
    "tokenizers": ("tokenizers", "text"),
    "keras_tuner": ("keras-tuner", "tune"),
    "sacrebleu": ("sacrebleu", "translation"),
    "soundfile": ("soundfile", "speech"),
    "librosa": ("librosa", "speech"),
    "jiwer": ("jiwer", "speech"),
    "fastapi": ("fastapi", "serve"),
    "onnx": ("onnx", "onnx"),
    "onnxruntime": ("onnxruntime", "onnx"),
    "uvicorn": ("uvicorn", "serve"),
}


def require(module, purpose):
    """Imports `module`, or raises ImportError naming what needs it and how to install it.

    Args:
        module: the top-level module, e.g. 'gensim'.
        purpose: what the user asked for, e.g. 'BPE subwords (--tokenizer subword)'.
    """
    try:
        return importlib.import_module(module)
    except ImportError:
        package, extra = EXTRAS.get(module, (module, None))
        hint = f"pip install 'rnnlab[{extra}]'" if extra else f"pip install {package}"
        raise ImportError(f"{purpose} needs the {package} package, which is not installed: {hint}") from None
