"""Small data in the real formats, written by the tests themselves; a server run in a thread."""

import contextlib
import json
import socket
import threading
import time

POSITIVE = ["wonderful", "great", "brilliant", "loved", "superb", "moving", "best"]
NEGATIVE = ["awful", "boring", "terrible", "hated", "worst", "dull", "waste"]
NEUTRAL = ["the", "film", "movie", "a", "plot", "actors", "was", "and", "it", "story"]


def review(rng, positive, length=30):
    """A review whose sentiment words give away its label."""
    cue = POSITIVE if positive else NEGATIVE
    words = [rng.choice(cue) if rng.random() < 0.25 else rng.choice(NEUTRAL) for _ in range(length)]
    return " ".join(words).capitalize() + ".<br /><br />" + rng.choice(cue).capitalize() + "!"


def write_small_imdb(folder, rng, per_label=60, unsup=20):
    """Writes `folder/{train,test}/{pos,neg}` and `train/unsup` like aclImdb."""
    for split in ("train", "test"):
        for label, positive in (("pos", True), ("neg", False)):
            sub = folder / split / label
            sub.mkdir(parents=True)
            for i in range(per_label):
                rating = rng.randint(7, 10) if positive else rng.randint(1, 4)
                (sub / f"{i}_{rating}.txt").write_text(review(rng, positive), encoding="utf-8")
    sub = folder / "train" / "unsup"
    sub.mkdir(parents=True)
    for i in range(unsup):
        (sub / f"{i}_0.txt").write_text(review(rng, rng.random() < 0.5), encoding="utf-8")
    return folder


def layer_pair(cell, units=6, features=5, batch=None, make_fast=None, **kwargs):
    """Keras' recurrent layer and rnnlab's (`make_fast(units, **kwargs)`, default the named
    class), built, with the same random weights."""
    import keras
    import numpy as np

    import rnnlab.layers
    from rnnlab.cells import LAYER_NAMES

    stock = getattr(keras.layers, LAYER_NAMES[cell])(units, **kwargs)
    fast = (make_fast or getattr(rnnlab.layers, LAYER_NAMES[cell]))(units, **kwargs)
    stock.build((batch, None, features))
    fast.build((batch, None, features))
    rng = np.random.default_rng(0)
    weights = [rng.normal(0, 0.4, w.shape).astype("float32") for w in stock.get_weights()]
    stock.set_weights(weights)
    fast.set_weights(weights)
    return stock, fast


def masked_inputs(batch=4, timesteps=9, features=5):
    """Random inputs and a mask with front padding, back padding and a gap."""
    import numpy as np

    rng = np.random.default_rng(1)
    x = rng.normal(size=(batch, timesteps, features)).astype("float32")
    mask = np.ones((batch, timesteps), bool)
    mask[0, :3] = False  # front padding
    mask[1, -2:] = False  # back padding
    mask[-1, 4:6] = False  # a gap in the middle
    return x, mask


def to_numpy(tensor):
    """A tensor of any backend as a NumPy array (also torch tensors that require grad)."""
    from keras import ops

    return ops.convert_to_numpy(tensor)


def free_port():
    """A TCP port on loopback that nothing listens on now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@contextlib.contextmanager
def running(config):
    """Runs `uvicorn.Server(config)` in a thread until the block ends."""
    import uvicorn

    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.time() + 30
    while not server.started:
        assert time.time() < deadline, "the server did not start in 30 s"
        time.sleep(0.05)
    try:
        yield server
    finally:
        server.should_exit = True
        thread.join(timeout=10)


def cli_in_fresh_process(*calls):
    """Runs `rnnlab.cli.main(argv)` for each argv of `calls` in a fresh Python process; returns
    `(exit codes, the backends it imported, stdout, stderr)`."""
    import subprocess
    import sys

    code = (
        "import json, sys\nfrom rnnlab.cli import main\n"
        f"codes = [main(argv) for argv in {[list(map(str, argv)) for argv in calls]!r}]\n"
        "backends = sorted(m for m in ('keras', 'jax', 'tensorflow', 'torch') if m in sys.modules)\n"
        "print(json.dumps([codes, backends]))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    codes, backends = json.loads(done.stdout.strip().splitlines()[-1])
    return codes, backends, done.stdout, done.stderr
