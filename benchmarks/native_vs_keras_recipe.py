"""The 60-minute translation recipe's model, trained with rnnlab's native loops and with Keras'
own from the same initial weights on the same real Multi30k batches (bucketed, batch 64, dropout
on, `steps_per_execution` 32, as the recipe trains): the running training loss after every
compiled call, side by side.

    python benchmarks/native_vs_keras_recipe.py --output results/translation/native-vs-keras-recipe.json

Equal losses over hundreds of steps mean the native loops compute the same training; runs that
still end apart do so because training amplifies float rounding (`perturbation_growth.py`).
"""

import argparse
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

import rnnlab  # noqa: E402, F401  (JAX by default)
from rnnlab import config as configs  # noqa: E402
from rnnlab import runs  # noqa: E402

RECIPE = ROOT / "recipes" / "translation" / "luong-gru-60min.toml"


def build(config, preprocessor, fast):
    """The recipe's model, rnnlab's loops (`fast`) or Keras', its weights drawn from `config.seed`."""
    import keras

    from rnnlab.models.seq2seq import build_seq2seq

    keras.utils.set_random_seed(config.seed)
    names = ("embedding_dim", "units", "cell", "attention", "bidirectional", "dropout", "output_dropout")
    settings = {name: getattr(config, name) for name in (*names, "embedding_dropout")}
    return build_seq2seq(preprocessor.source_vocab, preprocessor.target_vocab, fast_layers=fast, **settings)


def losses(model, config, train, plan):
    """The running training loss after every compiled call of one pass over `plan`, and the seconds."""
    import keras

    from rnnlab.tasks import get_task

    class Batches(keras.utils.PyDataset):
        def __len__(self):
            return len(plan)

        def __getitem__(self, i):
            length, indices = plan[i]
            return train.batch(indices, length)

    loss, _ = get_task("translation").loss_and_metrics(config, None)  # its loss needs no preprocessor
    model.compile(keras.optimizers.Adam(config.learning_rate), loss, steps_per_execution=32)
    seen = []
    log = keras.callbacks.LambdaCallback(
        on_train_batch_end=lambda batch, logs: seen.append(float(logs["loss"]))
    )
    start = time.perf_counter()
    model.fit(Batches(), epochs=1, verbose=0, shuffle=False, callbacks=[log])
    return seen, time.perf_counter() - start


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--steps", type=int, default=256, help="training steps (batches)")
    parser.add_argument("--output", required=True, help="JSON record to write")
    args = parser.parse_args()
    from rnnlab.tasks import get_task

    start = time.perf_counter()
    task = get_task("translation")
    config = configs.resolve(task.config_cls, RECIPE)
    preprocessor = task.make_preprocessor(config)
    train = task.examples(config, "train", preprocessor)
    order = task.batching(config).order(train, config.batch_size, config.seed, shuffle=True)
    plan = order.plan(0)[: args.steps]
    native_model, keras_model = build(config, preprocessor, True), build(config, preprocessor, False)
    keras_model.set_weights(native_model.get_weights())
    native, native_s = losses(native_model, config, train, plan)
    keras_loops, keras_s = losses(keras_model, config, train, plan)
    native_arr, keras_arr = np.array(native), np.array(keras_loops)
    record = {
        "benchmark": "native-vs-keras-recipe",
        "steps": len(plan),
        "steps_per_execution": 32,
        "running_loss_native": native,
        "running_loss_keras": keras_loops,
        "largest_relative_difference": float(np.max(np.abs(native_arr - keras_arr) / np.abs(keras_arr))),
        "train_seconds": {"native": round(native_s, 1), "keras": round(keras_s, 1)},
        "wall_time_s": round(time.perf_counter() - start, 1),
        "command": f"python benchmarks/native_vs_keras_recipe.py --steps {args.steps} --output {args.output}",
        **runs.provenance("jax"),
    }
    runs.write_json(Path(args.output), record)
    print(f"largest relative difference of the running loss: {record['largest_relative_difference']:.2e}")


if __name__ == "__main__":
    main()
