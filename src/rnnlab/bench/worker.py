"""Measures one peer on a list of workloads; prints one JSON line. Run by `runner`.

    python -m rnnlab.bench.worker PEER WORKLOADS_JSON SECONDS WINDOWS

Peers: 'rnnlab' (the sentiment task's own model and compile settings, all
defaults: FastRNN layers on JAX), 'rnnlab-stock' (the same with
`--no-fast-layers`: Keras' layers), 'keras-jax', 'keras-tensorflow',
'keras-torch' (stock Keras layers, written as the article does) and
'torch-native' (PyTorch's own nn.RNN/nn.LSTM/nn.GRU, a plain training loop).
"""

import argparse
import json
import os
import resource
import time

import numpy as np

KERAS_PEERS = {
    "rnnlab": "jax",
    "rnnlab-stock": "jax",
    "keras-jax": "jax",
    "keras-tensorflow": "tensorflow",
    "keras-torch": "torch",
}
PEERS = (*KERAS_PEERS, "torch-native")


def _data(workload, batches, seed=0):
    rng = np.random.default_rng(seed)
    n = workload.batch_size * batches
    x = rng.integers(1, workload.vocab_size, (n, workload.maxlen)).astype("int32")
    y = rng.integers(0, 2, (n, 1)).astype("float32")
    return x, y


def _time_windows(run_batches, batch_size, seconds, windows):
    """Samples/s over `windows` windows of about `seconds` each, after warm-up."""
    run_batches(2)  # compile / warm up
    start = time.perf_counter()
    run_batches(2)
    per_batch = max((time.perf_counter() - start) / 2, 1e-5)
    batches = max(3, int(seconds / per_batch))
    rates = []
    for _ in range(windows):
        start = time.perf_counter()
        run_batches(batches)
        rates.append(batches * batch_size / (time.perf_counter() - start))
    return rates


def rnnlab_model(config, vocab_size):
    """The sentiment task's model, compiled as `rnnlab train sentiment` compiles it (JAX)."""
    from types import SimpleNamespace

    from rnnlab.tasks import get_task

    task = get_task("sentiment")
    # The task builds from a fitted preprocessor, of which the model only needs the vocabulary size.
    model = task.build_model(config, SimpleNamespace(vocab_size=vocab_size))
    return task.compile(model, config, "jax")


def keras_runner(peer, workload):
    import keras

    from rnnlab.cells import LAYER_NAMES

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
    cache = {}

    def run_batches(n):
        if n not in cache:
            cache[n] = _data(workload, n)
        x, y = cache[n]
        if workload.mode == "train":
            model.fit(x, y, batch_size=workload.batch_size, epochs=1, verbose=0, shuffle=False)
        else:
            model.predict(x, batch_size=workload.batch_size, verbose=0)

    return run_batches


def torch_runner(workload):
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

    model = Classifier()
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

    from rnnlab.bench.workloads import Workload

    results = {}
    for spec in args.workloads:
        workload = Workload(**{k: v for k, v in spec.items() if k != "name"})
        if args.peer == "torch-native":
            runner = torch_runner(workload)
        else:
            runner = keras_runner(args.peer, workload)
        results[workload.name] = _time_windows(runner, workload.batch_size, args.seconds, args.windows)
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    record = {"peer": args.peer, "rates": results, "peak_memory_mb": round(peak_mb, 1), "pid": os.getpid()}
    print(json.dumps(record))


if __name__ == "__main__":
    main()
