"""The vanishing-gradient lab: how far back can each recurrent cell learn? (article 2.3, 8.2)

For each problem (`adding`, `copy`), sequence length and variant, a small model
(recurrent layer -> Dense) is trained on generated data and tested on fresh data.
Before and after training, the norm of dL/dh_t is measured at every step t, twice:
with the article's NumPy BPTT (`rnnlab.reference`, float64) and with the Keras
backend's autodiff (a zero perturbation added to each h_t, differentiated), and
the two are compared.

    rnnlab lab gradients --output results/lab [--quick]

Variants:
    simple       SimpleRNN, tanh, Glorot-uniform recurrent weights (a textbook plain RNN)
    orthogonal   SimpleRNN, tanh, orthogonal recurrent weights (Keras' default)
    irnn         SimpleRNN, ReLU, identity recurrent weights, zero bias (Le et al. 2015)
    clipped      `simple` with the gradient norm clipped to 1 (Pascanu et al. 2013)
    lstm, gru    Keras' gated cells (defaults)
"""

import dataclasses
import time
from pathlib import Path

import keras
import numpy as np

from rnnlab import backend as backends
from rnnlab import runs
from rnnlab.lab import plots, problems, records
from rnnlab.lab.perturbed import PerturbedCell, input_gradient
from rnnlab.models.recurrent import recurrent_layer
from rnnlab.reference import losses, recurrent
from rnnlab.reference import model as reference_model

VARIANTS = ("simple", "orthogonal", "irnn", "clipped", "lstm", "gru")
PROBLEMS = ("adding", "copy")
RECORD = "gradients.json"
LAB_NAME = "gradients"
REFERENCE_CELLS = {  # variant -> the reference cell with its equations (irnn: ReLU, none)
    "simple": "simple", "orthogonal": "simple", "clipped": "simple", "lstm": "lstm", "gru": "gru",
}  # fmt: skip


@dataclasses.dataclass
class GradientLabConfig:
    """Settings of `rnnlab lab gradients`.

    Attributes:
        problems: which problems (`adding`, `copy`).
        variants: which cells (see the module's docstring).
        lengths: sequence lengths (the copy task's delay between symbols and recall).
        units: state size of every recurrent layer.
        train_size, test_size: generated sequences per length.
        epochs, batch_size, learning_rate: Adam training of each model.
        probe_size: sequences whose dL/dh_t is measured.
        seed: seed of the data and the weights.
    """

    problems: tuple = PROBLEMS
    variants: tuple = VARIANTS
    lengths: tuple = (10, 25, 50, 100, 200, 400)
    units: int = 32
    train_size: int = 8192
    test_size: int = 1024
    epochs: int = 16
    batch_size: int = 64
    learning_rate: float = 2e-3
    probe_size: int = 32
    seed: int = 0

    @classmethod
    def quick(cls):
        """Under a minute on two cores: short sequences, few steps."""
        return cls(
            variants=("simple", "irnn", "lstm"),
            lengths=(10, 40),
            units=16,
            train_size=512,
            test_size=256,
            epochs=2,
            probe_size=8,
        )

    def check(self):
        for name, allowed in (("problems", PROBLEMS), ("variants", VARIANTS)):
            values = getattr(self, name)
            unknown = [v for v in values if v not in allowed]
            if not values or unknown:
                raise ValueError(f"Expected {name} among {list(allowed)}. Received: {list(values)}")
        if not self.lengths or any(not isinstance(n, int) or n < 2 for n in self.lengths):
            raise ValueError(f"Expected sequence lengths >= 2. Received: {list(self.lengths)}")
        for name in ("units", "train_size", "test_size", "epochs", "batch_size", "probe_size"):
            value = getattr(self, name)
            if not isinstance(value, int) or value < 1:
                raise ValueError(f"Expected {name} to be a positive int. Received: {value!r}")
        return self


def make_data(problem, length, n, rng):
    """`(x, y)` for `problem` at `length` (the copy task's delay)."""
    if problem == "adding":
        return problems.adding_problem(n, length, rng)
    return problems.copy_task(n, length, rng)


def build_model(problem, variant, units, features, seed):
    """`Input -> recurrent layer (variant) -> Dense`: one output after the last step for
    `adding`, class logits at every step for `copy`."""
    sequences = problem == "copy"
    options = {"return_sequences": sequences, "name": "rnn"}
    cell = {"lstm": "lstm", "gru": "gru"}.get(variant, "simple")
    if variant == "simple" or variant == "clipped":
        options["recurrent_initializer"] = keras.initializers.GlorotUniform(seed=seed + 1)
    elif variant == "irnn":
        options.update(
            activation="relu", recurrent_initializer=keras.initializers.Identity(), bias_initializer="zeros"
        )
    options["kernel_initializer"] = keras.initializers.GlorotUniform(seed=seed)
    if variant in ("orthogonal", "lstm", "gru"):
        options["recurrent_initializer"] = keras.initializers.Orthogonal(seed=seed + 1)
    outputs = problems.COPY_CLASSES if sequences else 1
    return keras.Sequential(
        [
            keras.Input((None, features)),
            recurrent_layer(cell, units, **options),
            keras.layers.Dense(outputs, kernel_initializer=keras.initializers.GlorotUniform(seed=seed + 2)),
        ],
        name=f"{problem}_{variant}",
    )


def loss_fn(problem):
    if problem == "adding":
        return keras.losses.MeanSquaredError()
    return keras.losses.SparseCategoricalCrossentropy(from_logits=True)


def score(problem, model, x, y):
    """`{"loss", and "recall_accuracy" for copy}` on `(x, y)`."""
    logits = np.asarray(keras.ops.convert_to_numpy(model.predict(x, batch_size=256, verbose=0)))
    loss = float(keras.ops.convert_to_numpy(loss_fn(problem)(y, logits)))
    if problem == "adding":
        return {"loss": loss, "solved": loss < 0.1 * problems.ADDING_BASELINE_MSE}
    recalled = logits[:, -problems.COPY_LENGTH :].argmax(-1) == y[:, -problems.COPY_LENGTH :]
    accuracy = float(recalled.mean())
    return {"loss": loss, "recall_accuracy": accuracy, "solved": accuracy >= 0.99}


def hidden_gradients_keras(problem, model, x, y):
    """dL/dh_t `(batch, steps, units)` with the backend's autodiff: the trained layer's cell
    runs in Keras' RNN loop with a zero perturbation added to every h_t, and the loss is
    differentiated with respect to the perturbations."""
    rnn, dense = model.get_layer("rnn"), model.layers[-1]
    units = rnn.cell.units
    probe = keras.layers.RNN(PerturbedCell(rnn.cell), return_sequences=problem == "copy")
    x = keras.ops.convert_to_tensor(x)
    zeros = np.zeros((*x.shape[:2], units), np.float32)

    def loss_of(perturbation):
        inputs = keras.ops.concatenate([x, perturbation], axis=-1)
        return loss_fn(problem)(y, dense(probe(inputs)))

    return input_gradient(loss_of, zeros)


def hidden_gradients_reference(problem, variant, model, x, y):
    """dL/dh_t with the NumPy reference (float64 BPTT), or None for a cell it does not have
    (`irnn`: ReLU)."""
    if variant not in REFERENCE_CELLS:
        return None
    cell = reference_model.get_cell(REFERENCE_CELLS[variant])
    kernel, recurrent_kernel, bias = (np.asarray(w, np.float64) for w in model.get_layer("rnn").get_weights())
    params = {"W_xh": kernel, "W_hh": recurrent_kernel, "b_h": bias}
    W_hy, b_y = (np.asarray(w, np.float64) for w in model.layers[-1].get_weights())
    hs, caches = recurrent.forward(cell, params, np.asarray(x, np.float64))
    d_hs = np.zeros_like(hs)
    if problem == "adding":
        prediction = hs[:, -1] @ W_hy + b_y
        d_prediction = 2.0 * (prediction - y) / prediction.size  # mean squared error
        d_hs[:, -1] = d_prediction @ W_hy.T
    else:
        probabilities = losses.softmax(hs @ W_hy + b_y)
        d_logits = probabilities.copy()
        batch, steps = y.shape
        d_logits[np.arange(batch)[:, None], np.arange(steps)[None, :], y] -= 1.0
        d_hs = d_logits / (batch * steps) @ W_hy.T  # mean over every step's cross-entropy
    return recurrent.hidden_gradients(cell, params, d_hs, caches)


def gradient_norms(gradients):
    """`||dL/dh_t||` per step t (over the batch and the units)."""
    return np.sqrt((np.asarray(gradients, np.float64) ** 2).sum(axis=(0, 2)))


def probe(problem, variant, model, x, y):
    """Norms of dL/dh_t per step from Keras (and the reference), with their agreement."""
    keras_norms = gradient_norms(hidden_gradients_keras(problem, model, x, y))
    reference = hidden_gradients_reference(problem, variant, model, x, y)
    result = {"keras": keras_norms.tolist()}
    if reference is not None:
        reference_norms = gradient_norms(reference)
        scale = max(float(reference_norms.max()), 1e-30)
        result["reference"] = reference_norms.tolist()
        # float32 autodiff vs float64 BPTT, relative to the largest norm (tiny norms are noise)
        result["max_difference_relative"] = float(np.abs(keras_norms - reference_norms).max() / scale)
    return result


def run_one(problem, variant, length, config, log=print):
    """Trains one model; returns its record (scores, gradient norms before and after)."""
    seed = config.seed
    rng = np.random.default_rng([seed, length, PROBLEMS.index(problem)])
    x_train, y_train = make_data(problem, length, config.train_size, rng)
    x_test, y_test = make_data(problem, length, config.test_size, rng)
    x_probe, y_probe = x_test[: config.probe_size], y_test[: config.probe_size]
    keras.utils.set_random_seed(seed)
    model = build_model(problem, variant, config.units, x_train.shape[-1], seed)
    optimizer = keras.optimizers.Adam(config.learning_rate, clipnorm=1.0 if variant == "clipped" else None)
    model.compile(optimizer=optimizer, loss=loss_fn(problem))
    before = probe(problem, variant, model, x_probe, y_probe)
    start = time.perf_counter()
    history = model.fit(
        x_train, y_train, batch_size=config.batch_size, epochs=config.epochs, verbose=0, shuffle=True
    )
    train_time = time.perf_counter() - start
    after = probe(problem, variant, model, x_probe, y_probe)
    result = {
        "problem": problem,
        "variant": variant,
        "length": length,
        "steps": int(x_train.shape[1]),
        "test": score(problem, model, x_test, y_test),
        "train_loss": [float(v) for v in history.history["loss"]],
        "train_time_s": round(train_time, 2),
        "gradient_norms": {"initial": before, "trained": after},
    }
    test = result["test"]
    extra = f", recall accuracy {test['recall_accuracy']:.3f}" if "recall_accuracy" in test else ""
    log(f"{problem:6s} {variant:10s} T={length:4d}: test loss {test['loss']:.4f}{extra} ({train_time:.0f} s)")
    return result


def check_output(output, overwrite=False):
    """The lab writes `gradients.json` and `gradients-*.png` into `output` and nothing else; it
    refuses to replace a `gradients.json` it did not write, and its own without `overwrite`."""
    records.check_output(output, RECORD, LAB_NAME, overwrite)


def run(config, output, overwrite=False, log=print):
    """Runs the lab and writes `gradients.json` and its plots into `output`."""
    config.check()
    check_output(output, overwrite)
    output = Path(output)
    output.mkdir(parents=True, exist_ok=True)
    backend = backends.select(None)
    provenance = runs.provenance(backend)  # the code as it was when the lab started
    start = time.perf_counter()
    results = [
        run_one(problem, variant, length, config, log=log)
        for problem in config.problems
        for variant in config.variants
        for length in config.lengths
    ]
    record = {
        "lab": LAB_NAME,
        "config": dataclasses.asdict(config),
        "results": results,
        "summary": summarize(results),
        "wall_time_s": round(time.perf_counter() - start, 1),
        **provenance,
    }
    figures = plots.draw_all(record, output)
    record["figures"] = [path.name for path in figures]
    runs.write_json(output / RECORD, record)
    log(f"Record: {output / RECORD}; plots: {', '.join(path.name for path in figures)}")
    return record


def summarize(results):
    """Per problem and variant: the longest length solved, and the largest disagreement
    between the reference and Keras' gradient norms."""
    summary = {}
    for result in results:
        entry = summary.setdefault(result["problem"], {}).setdefault(
            result["variant"], {"longest_solved": None, "max_gradient_difference_relative": None}
        )
        if result["test"]["solved"]:
            entry["longest_solved"] = max(entry["longest_solved"] or 0, result["length"])
        for stage in result["gradient_norms"].values():
            difference = stage.get("max_difference_relative")
            if difference is not None:
                entry["max_gradient_difference_relative"] = max(
                    entry["max_gradient_difference_relative"] or 0.0, difference
                )
    return summary
