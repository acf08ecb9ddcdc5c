"""Measures one peer on a list of workloads; prints one JSON line. Run by `runner`.

    python -m rnnlab.bench.worker PEER WORKLOADS_JSON SECONDS WINDOWS

Peers: 'rnnlab' (the sentiment task's own model and compile settings, all
defaults: FastRNN layers on JAX), 'rnnlab-stock' (the same with
`--no-fast-layers`: Keras' layers), 'keras-jax', 'keras-tensorflow',
'keras-torch' (stock Keras layers, written as the article does) and
'torch-native' (PyTorch's own nn.RNN/nn.LSTM/nn.GRU, a plain training loop).
"""

import json
import os
import resource
import sys
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


def keras_runner(peer, workload):
    import keras

    from rnnlab.models.classifier import RNN_LAYERS

    if peer.startswith("rnnlab"):
        from rnnlab.tasks.sentiment.config import SentimentConfig
        from rnnlab.tasks.sentiment.task import build_model

        config = SentimentConfig(
            cell=workload.cell,
            max_features=workload.vocab_size,
            maxlen=workload.maxlen,
            embedding_dim=workload.embedding_dim,
            units=workload.units,
            batch_size=workload.batch_size,
            fast_layers=peer == "rnnlab",
        )
        model = build_model(config, workload.vocab_size)  # compiled as `rnnlab train sentiment` does
    else:  # stock Keras, written as the article does
        model = keras.Sequential(
            [
                keras.Input((workload.maxlen,), dtype="int32"),
                keras.layers.Embedding(workload.vocab_size, workload.embedding_dim),
                getattr(keras.layers, RNN_LAYERS[workload.cell])(workload.units),
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


def main():
    from rnnlab.bench.workloads import Workload

    peer, workloads, seconds, windows = (
        sys.argv[1],
        json.loads(sys.argv[2]),
        float(sys.argv[3]),
        int(sys.argv[4]),
    )
    if peer not in PEERS:
        raise SystemExit(f"Expected peer in {PEERS}. Received: {peer!r}")
    results = {}
    for spec in workloads:
        workload = Workload(**{k: v for k, v in spec.items() if k != "name"})
        runner = torch_runner(workload) if peer == "torch-native" else keras_runner(peer, workload)
        results[workload.name] = _time_windows(runner, workload.batch_size, seconds, windows)
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(
        json.dumps({"peer": peer, "rates": results, "peak_memory_mb": round(peak_mb, 1), "pid": os.getpid()})
    )


if __name__ == "__main__":
    if sys.argv[1] in KERAS_PEERS:
        os.environ["KERAS_BACKEND"] = KERAS_PEERS[sys.argv[1]]
    main()
