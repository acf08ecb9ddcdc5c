"""Seeing inside a trained model: its recurrent states, step by step (article 3.1).

The embedding and recurrent layers of a saved run are replayed one step at a
time with their own cells (`rnnlab.layers.CellStep`), so every state is kept:
h_t for every cell, and the LSTM's memory c_t too. Replaying gives the same
outputs as the layers themselves (a test compares them); masked models skip
padding, and unmasked ones read it as they were trained to.

- `stack_states`: every layer's states for a batch of token ids.
- `text_features` and `unit_correlations`: Karpathy et al. (2015)'s question of
  which unit, if any, tracks a property of the text (inside quotes, position in
  the line, ...): chosen by correlation on one half of a held-out text and
  measured on the other half.
- `run`: `rnnlab lab states` for a run whose task has a states lab
  (`Task.states_lab`: what the task reads and draws, e.g. a running prediction
  word by word, or units over text).

    rnnlab lab states RUN_DIR --output DIR [--text TEXT]
"""

import dataclasses
import time
from pathlib import Path

import keras
import numpy as np

from rnnlab import runs
from rnnlab.lab import records
from rnnlab.layers.cell_step import CellStep
from rnnlab.tasks import get_task
from rnnlab.tasks.base import implementing, load_predictor, missing_hook_error

STATE_NAMES = {1: ("h",), 2: ("h", "c")}  # Keras' state order: LSTM [h, c]; SimpleRNN, GRU [h]


@dataclasses.dataclass
class LayerStates:
    """Every state of one recurrent layer at every step.

    Attributes:
        name: the layer's name in the model.
        states: `{state name: (batch, steps, units)}`, e.g. `h` and `c` for an LSTM
            (`forward_h`, `backward_h`, ... for a bidirectional layer).
        outputs: `(batch, steps, output units)`: what the next layer reads.
    """

    name: str
    states: dict
    outputs: np.ndarray


def recurrent_layers(model):
    """The model's recurrent layers (or `Bidirectional` wrappers) in order, checking that only
    dropout sits between the embedding and the last of them (it is inactive when predicting)."""
    layers, seen_embedding = [], False
    for layer in model.layers:
        if layer.name == "embedding":
            seen_embedding = True
        elif hasattr(layer, "cell") or isinstance(layer, keras.layers.Bidirectional):
            layers.append(layer)
        elif seen_embedding and not isinstance(layer, (keras.layers.Dropout, keras.layers.InputLayer)):
            break  # pooling, output layers: the recurrent stack has ended
    if not seen_embedding or not layers:
        raise ValueError(
            f"Expected a model with a layer named 'embedding' followed by recurrent layers. "
            f"Received layers: {[layer.name for layer in model.layers]}"
        )
    return layers


def _step_cell(cell, inputs):
    """Runs `cell` over `inputs` `(batch, steps, features)` from zero states; returns
    `(outputs (batch, steps, units), [each state (batch, steps, size)])`."""
    step = CellStep(cell)
    batch = inputs.shape[0]
    states = [np.zeros((batch, size), "float32") for size in step.state_sizes]
    outputs, history = [], [[] for _ in states]
    for t in range(inputs.shape[1]):
        output, *states = step(inputs[:, t], states)
        states = [keras.ops.convert_to_numpy(s) for s in states]
        outputs.append(keras.ops.convert_to_numpy(output))
        for kept, state in zip(history, states, strict=True):
            kept.append(state)
    return np.stack(outputs, 1), [np.stack(kept, 1) for kept in history]


def step_layer(layer, inputs):
    """Replays one recurrent layer (or `Bidirectional` wrapper, merged by concatenation) over
    `inputs` `(batch, steps, features)`; returns a `LayerStates`."""
    if isinstance(layer, keras.layers.Bidirectional):
        if layer.merge_mode != "concat":
            raise ValueError(f"Expected merge_mode='concat'. Received: {layer.merge_mode!r}")
        forward, forward_states = _step_cell(layer.forward_layer.cell, inputs)
        backward, backward_states = _step_cell(layer.backward_layer.cell, inputs[:, ::-1])
        names = STATE_NAMES[len(forward_states)]
        states = {f"forward_{n}": s for n, s in zip(names, forward_states, strict=True)}
        states |= {f"backward_{n}": s[:, ::-1] for n, s in zip(names, backward_states, strict=True)}
        return LayerStates(layer.name, states, np.concatenate([forward, backward[:, ::-1]], -1))
    outputs, states = _step_cell(layer.cell, inputs)
    names = STATE_NAMES[len(states)]
    return LayerStates(layer.name, dict(zip(names, states, strict=True)), outputs)


def stack_states(model, ids):
    """Every recurrent layer's states for token ids `(batch, steps)`, all steps read (padding
    too: leave it out for masked models)."""
    x = keras.ops.convert_to_numpy(model.get_layer("embedding")(np.asarray(ids, "int32")))
    result = []
    for layer in recurrent_layers(model):
        states = step_layer(layer, x.astype("float32"))
        result.append(states)
        x = states.outputs
    return result


def text_features(tokens):
    """Properties of a text at each token, for finding units that track them.

    Returns `{name: (steps,) float array}`:
        in_quotes: 1 inside double quotes (after an odd number of `"`);
        in_parentheses: 1 inside ( ... );
        line_position: characters since the last newline;
        word_position: characters since the last space or newline;
        caps_line: 1 while the line so far has letters and all are capitals
            (Tiny Shakespeare's speaker names).
    """
    names = ("in_quotes", "in_parentheses", "line_position", "word_position", "caps_line")
    values = {name: np.zeros(len(tokens)) for name in names}
    quotes = depth = line = word = 0
    line_text = ""
    for i, token in enumerate(tokens):
        for char in token:
            quotes += char == '"'
            depth = max(0, depth + (char == "(") - (char == ")"))
            line, word = (0, 0) if char == "\n" else (line + 1, 0 if char == " " else word + 1)
            line_text = "" if char == "\n" else line_text + char
        values["in_quotes"][i] = quotes % 2
        values["in_parentheses"][i] = depth > 0
        values["line_position"][i] = line
        values["word_position"][i] = word
        letters = [c for c in line_text if c.isalpha()]
        values["caps_line"][i] = bool(letters) and all(c.isupper() for c in letters)
    return values


def _correlations(activations, feature):
    """Pearson correlation of each column of `activations` `(steps, units)` with `feature`."""
    a = activations - activations.mean(0)
    f = feature - feature.mean()
    denominator = np.sqrt((a**2).sum(0) * (f**2).sum())
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(denominator > 0, (a * f[:, None]).sum(0) / denominator, 0.0)


def unit_correlations(layers, features):
    """For each feature, the unit that tracks it best: chosen on the text's first half by
    |correlation|, and its correlation measured on the second half (held out).

    Args:
        layers: `LayerStates` with `(1, steps, units)` arrays (one text read in order).
        features: `{name: (steps,) array}` (from `text_features`).

    Returns:
        `{feature: {"layer", "state", "unit", "selection_r", "held_out_r", "varies"}}`;
        a feature constant on either half gets `varies: False` and no unit.
    """
    found = {}
    for name, feature in features.items():
        half = len(feature) // 2
        first, second = feature[:half], feature[half:]
        if first.std() == 0 or second.std() == 0:
            found[name] = {"varies": False}
            continue
        best = None
        for layer in layers:
            for state, values in layer.states.items():
                r = _correlations(values[0, :half], first)
                unit = int(np.argmax(np.abs(r)))
                if best is None or abs(r[unit]) > abs(best["selection_r"]):
                    best = {"layer": layer.name, "state": state, "unit": unit, "selection_r": float(r[unit])}
        values = next(x for x in layers if x.name == best["layer"]).states[best["state"]][0, half:]
        best["held_out_r"] = float(_correlations(values[:, [best["unit"]]], second)[0])
        found[name] = {**best, "varies": True}
    return found


LAB_NAME = "states"
DEFAULT_CHARS = 20_000
MAX_CHARS = 200_000  # every state of every step is kept: 2 x LSTM(512) over 200k characters is 3 GB


def run(run_dir, output, text=None, chars=DEFAULT_CHARS, overwrite=False, backend=None, log=print):
    """Writes `states-<task>.json` and its figures into `output` for a run whose task has a
    states lab (`Task.states_lab`).

    Args:
        run_dir: a folder written by `rnnlab train`.
        output: folder for the record and figures.
        text: the text to read, or None: the task's default (a task may require a text).
        chars: characters of the task's default text to read when `text` is None.

    Raises:
        ValueError: a run of a task without a states lab (before its model loads), an
            output holding a record this lab did not write, `chars` or `text` out of range.
    """
    folder, info = runs.open_run(run_dir)
    task = get_task(info["task"])
    if task.name not in implementing("states_lab"):
        raise missing_hook_error(task, "states_lab", "rnnlab lab states", run_dir)
    record_name = f"states-{task.name}.json"
    records.check_output(output, record_name, LAB_NAME, overwrite)
    if not 1000 <= chars <= MAX_CHARS:
        raise ValueError(
            f"Expected 1000 <= --chars <= {MAX_CHARS} (two halves to select and test units; every "
            f"state of every step is kept in memory). Received: {chars}"
        )
    if text is not None and len(text) > MAX_CHARS:
        raise ValueError(f"Expected --text of at most {MAX_CHARS} characters. Received: {len(text)}")
    start = time.perf_counter()
    predictor = load_predictor(folder, backend)
    provenance = runs.provenance(keras.backend.backend())
    output = Path(output)
    body = task.states_lab(predictor, output, text=text, chars=chars)
    record = {"lab": LAB_NAME, "run": str(run_dir), **body,
              "wall_time_s": round(time.perf_counter() - start, 1), **provenance}  # fmt: skip
    runs.write_json(output / record_name, record)
    log(f"Record: {output / record_name}; figures: {', '.join(record['figures'])}")
    return record


def layer_shapes(layers):
    """`{layer: {state: [units]}}` of `LayerStates`, for a record."""
    return {layer.name: {k: list(v.shape[2:]) for k, v in layer.states.items()} for layer in layers}
