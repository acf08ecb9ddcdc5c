"""Measures one peer on a list of workloads; prints one JSON line. Run by `runner`.

    python -m rnnlab.bench.worker PEER WORKLOADS_JSON SECONDS WINDOWS

Peers: 'rnnlab' (the sentiment task's own model and compile settings, all
defaults: FastRNN layers on JAX), 'rnnlab-stock' (the same with
`--no-fast-layers`: Keras' layers), 'keras-jax', 'keras-tensorflow',
'keras-torch' (stock Keras layers, written as the article does) and
'torch-native' (PyTorch's own nn.RNN/nn.LSTM/nn.GRU, a plain training loop).
For the translation workload the Keras peers train `build_seq2seq` with Keras'
layers and loss, rnnlab the translation task's own model and compile settings,
and torch-native the same encoder-decoder written with nn.GRU/nn.LSTM.
'onnxruntime' (inference only) runs torch-native's classifier exported with
`torch.onnx.export` in ONNX Runtime's CPU provider. Every peer runs with the
thread count the runner passes in RNNLAB_BENCH_THREADS (PyTorch: intra-op
threads, one inter-op thread, denormals flushed to zero as XLA's CPU backend
does; ONNX Runtime: the same through its session options; TensorFlow: intra-op
threads, one inter-op thread; JAX: XLA's own pool, left as it is). For the
language-model workload rnnlab trains the lm task's stateful model as `rnnlab
train lm --stateful` compiles it (with its exact cross-entropy metric, and each
gradient clipped to norm 0.25), the Keras peers `build_language_model` with
Keras' layers and loss (not stateful: Keras' own layers do not carry states
inside `fit` on JAX; carrying costs nothing measurable), and torch-native the
model and loop of pytorch/examples `word_language_model` (states detached
between windows, plain SGD by hand). The Keras and PyTorch peers clip the
global gradient norm to 0.25; every peer uses SGD at 1.0 and dropout 0.2.
"""

import argparse
import json
import os
import resource
import tempfile
import time
import warnings
from types import SimpleNamespace

import numpy as np

from rnnlab.bench.workloads import workload_from_dict
from rnnlab.cells import LAYER_NAMES
from rnnlab.optional import require
from rnnlab.tasks import get_task
from rnnlab.tasks.lm.config import LMConfig

KERAS_PEERS = {
    "rnnlab": "jax",
    "rnnlab-stock": "jax",
    "keras-jax": "jax",
    "keras-tensorflow": "tensorflow",
    "keras-torch": "torch",
}
PEERS = (*KERAS_PEERS, "torch-native", "onnxruntime")
WARM_TOLERANCE, WARM_MAX_WINDOWS, WARM_MAX_SECONDS = 0.10, 8, 20.0


def usable_cores():
    """CPU cores this process may run on (its affinity where the system has one)."""
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()


def bench_threads():
    """Threads each peer is given: RNNLAB_BENCH_THREADS (set by the runner), else the usable cores."""
    if os.environ.get("RNNLAB_BENCH_THREADS"):
        return int(os.environ["RNNLAB_BENCH_THREADS"])
    return usable_cores()


TORCH_PEERS = ("torch-native", "onnxruntime", "keras-torch")  # onnxruntime exports with PyTorch


def set_threads(peer, threads):
    """Fixes the peer's library threads before it runs anything; returns what was set.

    PyTorch peers: `threads` intra-op threads, one inter-op thread, denormals flushed
    (ONNX Runtime gets the same in `onnx_session`); keras-tensorflow: `threads` intra-op,
    one inter-op; JAX peers: XLA's defaults, recorded. Every peer also records the
    OMP_NUM_THREADS and MKL_NUM_THREADS it runs under (the runner sets both to `threads`).

    Example:
    >>> set_threads("keras-jax", 2)["xla_intra_op"]  # JAX: nothing set, only recorded
    "XLA's default: one thread per usable core"
    """
    settings = {name: os.environ.get(name, "unset") for name in ("OMP_NUM_THREADS", "MKL_NUM_THREADS")}
    if peer in TORCH_PEERS:
        settings.update(_set_torch_threads(threads))
        if peer == "onnxruntime":
            settings.update({"ort_intra_op": threads, "ort_inter_op": 1, "ort_denormal_as_zero": True})
    elif peer == "keras-tensorflow":
        settings.update(_set_tensorflow_threads(threads))
    else:
        settings.update(_xla_threads())
    return settings


def _set_torch_threads(threads):
    import torch

    torch.set_num_threads(threads)
    torch.set_num_interop_threads(1)  # only before PyTorch's first parallel work
    torch.set_flush_denormal(True)  # as XLA's CPU backend; denormals slow Intel CPUs many-fold
    return {"torch_intra_op": threads, "torch_inter_op": 1, "flush_denormal": True}


def _set_tensorflow_threads(threads):
    import tensorflow as tf

    tf.config.threading.set_intra_op_parallelism_threads(threads)
    tf.config.threading.set_inter_op_parallelism_threads(1)
    return {"tf_intra_op": threads, "tf_inter_op": 1}


def _xla_threads():
    """XLA's CPU settings, left as they are: its intra-op pool (one thread per usable core,
    which rnnlab's native loops share, capped by RNNLAB_NATIVE_THREADS where set)."""
    return {
        "xla_intra_op": "XLA's default: one thread per usable core",
        "usable_cores": usable_cores(),
        "XLA_FLAGS": os.environ.get("XLA_FLAGS", ""),
        "RNNLAB_NATIVE_THREADS": os.environ.get("RNNLAB_NATIVE_THREADS", "unset"),
    }


def _data(workload, batches, seed=0):
    rng = np.random.default_rng(seed)
    n = workload.batch_size * batches
    x = rng.integers(1, workload.vocab_size, (n, workload.maxlen)).astype("int32")
    y = rng.integers(0, 2, (n, 1)).astype("float32")
    return x, y


def _seq2seq_data(workload, batches, seed=0):
    rng = np.random.default_rng(seed)
    n, vocab = workload.batch_size * batches, workload.vocab_size
    x = {
        "source": rng.integers(4, vocab, (n, workload.source_len)).astype("int32"),
        "target_in": rng.integers(4, vocab, (n, workload.target_len)).astype("int32"),
    }
    return x, rng.integers(4, vocab, (n, workload.target_len)).astype("int32")


def _lm_data(workload, batches, seed=0):
    """Consecutive windows of one random token stream per row, in stateful order."""
    rng = np.random.default_rng(seed)
    rows, steps = workload.batch_size, batches * workload.seq_len
    stream = rng.integers(1, workload.vocab_size, (rows, steps + 1)).astype("int32")

    def windows(array):  # (rows, batches * seq_len) -> (batches * rows, seq_len), batch-major
        return array.reshape(rows, batches, workload.seq_len).transpose(1, 0, 2).reshape(-1, workload.seq_len)

    return windows(stream[:, :-1]), windows(stream[:, 1:])


LM_LEARNING_RATE, LM_CLIP, LM_DROPOUT = 1.0, 0.25, 0.2


def lm_keras_runner(peer, workload):
    import keras

    if peer.startswith("rnnlab"):
        from rnnlab.training.setup import compiled_model

        config = LMConfig(
            corpus="ptb",
            stateful=True,
            cell=workload.cell,
            seq_len=workload.seq_len,
            batch_size=workload.batch_size,
            embedding_dim=workload.embedding_dim,
            units=workload.units,
            num_layers=workload.num_layers,
            dropout=LM_DROPOUT,
            optimizer="sgd",
            learning_rate=LM_LEARNING_RATE,
            clipnorm=LM_CLIP,
            fast_layers=peer == "rnnlab",
        )
        task = get_task("lm")
        # The task builds from a fitted preprocessor, of which the model only needs the length.
        model = compiled_model(task, config, range(workload.vocab_size), None, "jax", steps=1)
    else:  # Keras' own layers and loss
        from rnnlab.models.language_model import build_language_model

        model = build_language_model(
            workload.vocab_size,
            embedding_dim=workload.embedding_dim,
            units=workload.units,
            cell=workload.cell,
            num_layers=workload.num_layers,
            dropout=LM_DROPOUT,
            fast_layers=False,
        )
        model.compile(
            optimizer=keras.optimizers.SGD(LM_LEARNING_RATE, global_clipnorm=LM_CLIP),
            loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
        )
    return _keras_batches(model, workload, _lm_data)


def lm_torch_runner(workload):
    """pytorch/examples `word_language_model` (RNNModel, `train()`): embedding, dropout,
    nn.LSTM with dropout between layers, dropout, linear decoder; states detached
    between windows; gradients clipped at 0.25; plain SGD by hand."""
    import torch
    from torch import nn

    torch.manual_seed(0)
    rnn = {"simple": nn.RNN, "lstm": nn.LSTM, "gru": nn.GRU}[workload.cell]
    e, u, vocab, layers = workload.embedding_dim, workload.units, workload.vocab_size, workload.num_layers

    class RNNModel(nn.Module):
        def __init__(self):
            super().__init__()
            self.drop = nn.Dropout(LM_DROPOUT)
            self.encoder = nn.Embedding(vocab, e)
            self.rnn = rnn(e, u, layers, dropout=LM_DROPOUT, batch_first=True)
            self.decoder = nn.Linear(u, vocab)

        def forward(self, x, hidden):
            output, hidden = self.rnn(self.drop(self.encoder(x)), hidden)
            return self.decoder(self.drop(output)), hidden

    model = RNNModel()
    loss_fn = nn.CrossEntropyLoss()
    cache = {}

    def detach(hidden):
        return tuple(h.detach() for h in hidden) if isinstance(hidden, tuple) else hidden.detach()

    def run_batches(n):
        if n not in cache:
            x, y = _lm_data(workload, n)
            cache[n] = (torch.from_numpy(x).long(), torch.from_numpy(y).long())
        x, y = cache[n]
        b = workload.batch_size
        zeros = torch.zeros(layers, b, u)
        hidden = (zeros, zeros.clone()) if workload.cell == "lstm" else zeros
        model.train()
        for i in range(n):
            hidden = detach(hidden)
            model.zero_grad()
            logits, hidden = model(x[i * b : (i + 1) * b], hidden)
            loss = loss_fn(logits.reshape(-1, vocab), y[i * b : (i + 1) * b].reshape(-1))
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), LM_CLIP)
            for p in model.parameters():
                p.data.add_(p.grad, alpha=-LM_LEARNING_RATE)

    return run_batches


def warm_until_stable(
    run_window,
    tolerance=WARM_TOLERANCE,
    max_windows=WARM_MAX_WINDOWS,
    max_seconds=WARM_MAX_SECONDS,
    clock=time.perf_counter,
):
    """Runs warm-up windows until two in a row are within `tolerance` of each other.

    Args:
        run_window: runs one window and returns its rate.
        tolerance: relative difference of two consecutive rates counted as stable.
        max_windows, max_seconds: caps on the warm-up.
        clock: the time source (tests inject one).

    Returns:
        (windows run, whether it became stable).

    Example:
    >>> rates = iter([50.0, 80.0, 100.0, 101.0])  # 80 -> 100 is 20% apart, 100 -> 101 1%
    >>> warm_until_stable(lambda: next(rates))
    (4, True)
    """
    start, previous = clock(), None
    for count in range(1, max_windows + 1):
        rate = run_window()
        if previous is not None and abs(rate - previous) <= tolerance * max(rate, previous):
            return count, True
        previous = rate
        if clock() - start >= max_seconds:
            return count, False
    return max_windows, False


def _time_windows(run_batches, batch_size, seconds, windows):
    """Units/s (`batch_size` units per batch) over `windows` windows of about
    `seconds` each, after compilation and a warm-up that runs until stable;
    returns (rates, warm-up windows, stable)."""
    run_batches(2)  # compile / warm up
    start = time.perf_counter()
    run_batches(2)
    per_batch = max((time.perf_counter() - start) / 2, 1e-5)
    batches = max(3, int(seconds / per_batch))

    def window():
        start = time.perf_counter()
        run_batches(batches)
        return batches * batch_size / (time.perf_counter() - start)

    warm, stable = warm_until_stable(window)
    return [window() for _ in range(windows)], warm, stable


def rnnlab_model(config, vocab_size):
    """The sentiment task's model, compiled as `rnnlab train sentiment` compiles it (JAX)."""
    from rnnlab.training.setup import compiled_model

    task = get_task("sentiment")
    # The task builds from a fitted preprocessor, of which the model only needs the vocabulary size.
    return compiled_model(task, config, SimpleNamespace(vocab_size=vocab_size), None, "jax", steps=1)


def seq2seq_keras_runner(peer, workload):
    import keras

    vocab = workload.vocab_size
    if peer.startswith("rnnlab"):
        from rnnlab.tasks.translation.config import TranslationConfig
        from rnnlab.training.setup import compiled_model

        config = TranslationConfig(
            cell=workload.cell,
            attention=workload.attention,
            embedding_dim=workload.embedding_dim,
            units=workload.units,
            batch_size=workload.batch_size,
            dropout=0.0,
            output_dropout=0.0,
            fast_layers=peer == "rnnlab",
        )
        task = get_task("translation")
        vocabularies = SimpleNamespace(source_vocab=vocab, target_vocab=vocab)
        model = compiled_model(task, config, vocabularies, None, "jax", steps=1)
    else:  # Keras' own layers and loss, compiled as the Keras guides do
        from rnnlab.models.seq2seq import build_seq2seq

        model = build_seq2seq(
            vocab,
            vocab,
            embedding_dim=workload.embedding_dim,
            units=workload.units,
            cell=workload.cell,
            attention=workload.attention,
            fast_layers=False,
        )
        loss = keras.losses.SparseCategoricalCrossentropy(from_logits=True, ignore_class=0)
        model.compile(optimizer="adam", loss=loss)
    return _keras_batches(model, workload, _seq2seq_data)


def keras_runner(peer, workload):
    import keras

    if workload.kind == "seq2seq":
        return seq2seq_keras_runner(peer, workload)
    if workload.kind == "lm":
        return lm_keras_runner(peer, workload)

    if peer.startswith("rnnlab"):
        from rnnlab.tasks.sentiment.config import SentimentConfig

        config = SentimentConfig(
            cell=workload.cell,
            max_features=workload.vocab_size,
            maxlen=workload.maxlen,
            embedding_dim=workload.embedding_dim,
            units=workload.units,
            batch_size=workload.batch_size,
            fast_layers=peer == "rnnlab",
        )
        model = rnnlab_model(config, workload.vocab_size)
    else:  # stock Keras, written as the article does
        model = keras.Sequential(
            [
                keras.Input((workload.maxlen,), dtype="int32"),
                keras.layers.Embedding(workload.vocab_size, workload.embedding_dim),
                getattr(keras.layers, LAYER_NAMES[workload.cell])(workload.units),
                keras.layers.Dense(1, activation="sigmoid"),
            ]
        )
        model.compile(optimizer="adam", loss="binary_crossentropy", metrics=["accuracy"])
    return _keras_batches(model, workload, _data)


def _keras_batches(model, workload, make_data):
    """`run_batches(n)`: fits (or predicts) `n` batches of `make_data(workload, n)`, made once per n."""
    from rnnlab.layers.loop_report import recurrent_loops

    cache = {}

    def run_batches(n):
        if n not in cache:
            cache[n] = make_data(workload, n)
        x, y = cache[n]
        if workload.mode == "train":
            model.fit(x, y, batch_size=workload.batch_size, epochs=1, verbose=0, shuffle=False)
        else:
            model.predict(x, batch_size=workload.batch_size, verbose=0)

    run_batches.loops = recurrent_loops(model)  # which loop each recurrent layer runs, and why
    return run_batches


def seq2seq_torch_runner(workload):
    """The same encoder-decoder in plain PyTorch: bidirectional encoder, tanh bridge
    from its final states, decoder from the bridge, Luong or additive attention over
    the encoder outputs, tanh(W [h; context]), logits; Adam, a standard loop."""
    import torch
    from torch import nn

    torch.manual_seed(0)
    rnn = {"lstm": nn.LSTM, "gru": nn.GRU}[workload.cell]
    e, u, vocab = workload.embedding_dim, workload.units, workload.vocab_size

    class Seq2Seq(nn.Module):
        def __init__(self):
            super().__init__()
            self.source_embedding = nn.Embedding(vocab, e, padding_idx=0)
            self.target_embedding = nn.Embedding(vocab, e, padding_idx=0)
            self.encoder = rnn(e, u, batch_first=True, bidirectional=True)
            states = 2 if workload.cell == "lstm" else 1
            self.bridges = nn.ModuleList([nn.Linear(2 * u, u) for _ in range(states)])
            self.decoder = rnn(e, u, batch_first=True)
            if workload.attention == "luong":
                self.score = nn.Linear(2 * u, u, bias=False)
            elif workload.attention == "bahdanau":
                self.query, self.key = nn.Linear(u, u, bias=False), nn.Linear(2 * u, u)
                self.vector = nn.Linear(u, 1, bias=False)
            self.attentional = nn.Linear(3 * u, u)
            self.logits = nn.Linear(u, vocab)

        def forward(self, source, target_in):
            outputs, final = self.encoder(self.source_embedding(source))
            finals = final if isinstance(final, tuple) else (final,)
            # (2, batch, u) per state -> (1, batch, 2u) -> bridge -> (1, batch, u)
            states = tuple(
                torch.tanh(bridge(torch.cat([f[0], f[1]], -1))).unsqueeze(0)
                for bridge, f in zip(self.bridges, finals, strict=True)
            )
            h, _ = self.decoder(self.target_embedding(target_in), states if len(states) > 1 else states[0])
            if workload.attention == "none":
                return self.logits(h)
            if workload.attention == "luong":
                scores = torch.bmm(h, self.score(outputs).transpose(1, 2))
            else:
                hidden = torch.tanh(self.query(h).unsqueeze(2) + self.key(outputs).unsqueeze(1))
                scores = self.vector(hidden).squeeze(-1)
            scores = scores.masked_fill((source == 0).unsqueeze(1), -1e9)
            context = torch.bmm(torch.softmax(scores, -1), outputs)
            return self.logits(torch.tanh(self.attentional(torch.cat([h, context], -1))))

    model = Seq2Seq()
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    loss_fn = nn.CrossEntropyLoss(ignore_index=0)
    cache = {}

    def run_batches(n):
        if n not in cache:
            x, y = _seq2seq_data(workload, n)
            cache[n] = (
                torch.from_numpy(x["source"]).long(),
                torch.from_numpy(x["target_in"]).long(),
                torch.from_numpy(y).long(),
            )
        source, target_in, target_out = cache[n]
        b = workload.batch_size
        model.train()
        for i in range(n):
            rows = slice(i * b, (i + 1) * b)
            optimizer.zero_grad()
            logits = model(source[rows], target_in[rows])
            loss = loss_fn(logits.reshape(-1, vocab), target_out[rows].reshape(-1))
            loss.backward()
            optimizer.step()

    return run_batches


def torch_classifier(workload):
    """The article's model in plain PyTorch (logits; seeded), as torch-native and onnxruntime run it."""
    import torch

    torch.manual_seed(0)
    rnn = {"simple": torch.nn.RNN, "lstm": torch.nn.LSTM, "gru": torch.nn.GRU}[workload.cell]

    class Classifier(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.embedding = torch.nn.Embedding(workload.vocab_size, workload.embedding_dim)
            self.rnn = rnn(workload.embedding_dim, workload.units, batch_first=True)
            self.output = torch.nn.Linear(workload.units, 1)

        def forward(self, x):
            outputs, _ = self.rnn(self.embedding(x))
            return self.output(outputs[:, -1])

    return Classifier()


def probability_model(model):
    """P(positive) = sigmoid(logits) of a classifier, as one module (what is exported and run)."""
    import torch

    class Probability(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.model = model

        def forward(self, x):
            return torch.sigmoid(self.model(x))

    return Probability()


def onnx_session(model, workload, threads, path):
    """Exports `model` (P(positive) of (batch, maxlen) int64 ids) to ONNX at `path`; returns
    an ONNX Runtime session of it."""
    import torch

    ort = require("onnxruntime", "the onnxruntime benchmark peer")
    example = torch.zeros((workload.batch_size, workload.maxlen), dtype=torch.long)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        names = {"input_names": ["ids"], "output_names": ["p"]}
        torch.onnx.export(model.eval(), (example,), path, **names, dynamo=False)
    options = ort.SessionOptions()
    options.intra_op_num_threads, options.inter_op_num_threads = threads, 1
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    options.add_session_config_entry("session.set_denormal_as_zero", "1")
    return ort.InferenceSession(path, options, providers=["CPUExecutionProvider"])


def onnx_runner(workload, threads):
    """torch-native's classifier, exported, in ONNX Runtime (inference only)."""
    if workload.kind != "classifier" or workload.mode != "infer":
        raise ValueError(
            f"Expected a classifier inference workload for onnxruntime. Received: {workload.name}"
        )
    model = probability_model(torch_classifier(workload))
    with tempfile.TemporaryDirectory(prefix="rnnlab-onnx-") as folder:  # the session holds the model
        session = onnx_session(model, workload, threads, f"{folder}/model.onnx")
    cache = {}

    def run_batches(n):
        if n not in cache:
            cache[n] = _data(workload, n)[0].astype("int64")
        x, b = cache[n], workload.batch_size
        for i in range(n):
            session.run(None, {"ids": x[i * b : (i + 1) * b]})

    return run_batches


def torch_runner(workload):
    import torch

    if workload.kind == "seq2seq":
        return seq2seq_torch_runner(workload)
    if workload.kind == "lm":
        return lm_torch_runner(workload)

    model = torch_classifier(workload)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    loss_fn = torch.nn.BCEWithLogitsLoss()
    cache = {}

    def run_batches(n):
        if n not in cache:
            x, y = _data(workload, n)
            cache[n] = (torch.from_numpy(x).long(), torch.from_numpy(y))
        x, y = cache[n]
        b = workload.batch_size
        if workload.mode == "train":
            model.train()
            for i in range(n):
                optimizer.zero_grad()
                loss = loss_fn(model(x[i * b : (i + 1) * b]), y[i * b : (i + 1) * b])
                loss.backward()
                optimizer.step()
        else:
            model.eval()
            with torch.inference_mode():
                for i in range(n):
                    torch.sigmoid(model(x[i * b : (i + 1) * b]))

    return run_batches


def _workload_list(text):
    try:
        specs = json.loads(text)
    except json.JSONDecodeError as error:
        raise argparse.ArgumentTypeError(
            f"expected a JSON list of workloads, got {text[:80]!r}: {error}"
        ) from None
    if not isinstance(specs, list) or not all(isinstance(spec, dict) for spec in specs):
        raise argparse.ArgumentTypeError(f"expected a JSON list of workload objects, got {text[:80]!r}")
    return specs


def parse_args(argv=None):
    """The worker's four arguments; a missing or malformed one exits with a usage message (status 2)."""
    parser = argparse.ArgumentParser(
        prog="python -m rnnlab.bench.worker",
        description="Measures one peer on a list of workloads; prints one JSON line (see rnnlab.bench).",
    )
    parser.add_argument("peer", choices=PEERS, metavar="PEER", help=f"one of: {', '.join(PEERS)}")
    parser.add_argument(
        "workloads", type=_workload_list, metavar="WORKLOADS_JSON", help="JSON list of Workload.to_dict()"
    )
    parser.add_argument("seconds", type=float, metavar="SECONDS", help="length of one timing window")
    parser.add_argument("windows", type=int, metavar="WINDOWS", help="timing windows per workload")
    return parser.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    if args.peer in KERAS_PEERS:  # before Keras is imported: it picks its backend once
        os.environ["KERAS_BACKEND"] = KERAS_PEERS[args.peer]
    threads = bench_threads()
    settings = set_threads(args.peer, threads)
    results, warmup, loops = {}, {}, {}
    for spec in args.workloads:
        workload = workload_from_dict(spec)
        if args.peer == "torch-native":
            runner = torch_runner(workload)
        elif args.peer == "onnxruntime":
            runner = onnx_runner(workload, threads)
        else:
            runner = keras_runner(args.peer, workload)
        rates, warm, stable = _time_windows(runner, workload.per_batch, args.seconds, args.windows)
        results[workload.name] = rates
        warmup[workload.name] = {"windows": warm, "stable": stable}
        loops[workload.name] = getattr(runner, "loops", None)  # Keras peers' recurrent layers
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    record = {
        "peer": args.peer,
        "rates": results,
        "warmup": warmup,
        "recurrent_loops": loops,
        "threads": settings,
        "peak_memory_mb": round(peak_mb, 1),
        "pid": os.getpid(),
    }
    print(json.dumps(record))


if __name__ == "__main__":
    main()
