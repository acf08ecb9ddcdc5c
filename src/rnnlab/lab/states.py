"""Seeing inside a trained model: its recurrent states, step by step (article 3.1).

The embedding and recurrent layers of a saved run are replayed one step at a
time with their own cells (`rnnlab.layers.CellStep`), so every state is kept:
h_t for every cell, and the LSTM's memory c_t too. Replaying gives the same
outputs as the layers themselves (a test compares them); masked models skip
padding, and unmasked ones read it as they were trained to.

- `sentiment_trace`: the units of h_t word by word, and P(positive) had the
  review stopped after each word (the model's own prediction for each prefix).
- `lm_activations` and `unit_correlations`: Karpathy et al. (2015)'s cell
  activations over text, and which unit, if any, tracks a property of the text
  (inside quotes, position in the line, ...): chosen by correlation on one half
  of a held-out text and measured on the other half.

    rnnlab lab states RUN_DIR --output DIR [--text TEXT]
"""

import dataclasses
import time
from pathlib import Path

import keras
import numpy as np

from rnnlab import runs
from rnnlab.data.batches import pad as pad_front
from rnnlab.errors import InputError
from rnnlab.lab import records, state_plots
from rnnlab.layers.cell_step import CellStep
from rnnlab.tasks.base import load_predictor, predict_padded
from rnnlab.tasks.lm.task import load_streams
from rnnlab.tasks.sentiment.preprocessor import START

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


@dataclasses.dataclass
class SentimentTrace:
    """What a sentiment model does word by word.

    Attributes:
        tokens: the tokens the model reads (`[START]` first when it fits in `maxlen`).
        probabilities: `(steps,)`: P(positive) for the text cut after each token.
        layers: a `LayerStates` per recurrent layer, batch of one.
    """

    tokens: list
    probabilities: np.ndarray
    layers: list


def sentiment_trace(predictor, text):
    """The states and running P(positive) of a sentiment run (`SentimentPredictor`) on `text`.

    Only what the model reads is traced: the last `maxlen` tokens (with `[START]` first).
    An unmasked model reads front padding first, and a prefix gets more of it than the
    whole text, so its P(positive) for a prefix can differ slightly from the output
    layer applied to that step's h_t; a masked model's are equal.

    Example:
    >>> trace = sentiment_trace(SentimentPredictor("runs/gru-fast"), "a fine film")  # doctest: +SKIP
    >>> trace.tokens, trace.probabilities.shape  # doctest: +SKIP
    (['[START]', 'a', 'fine', 'film'], (4,))
    """
    if not isinstance(text, str):
        raise InputError(f"Expected a text (str). Received: {type(text).__name__}")
    tokens, ids = predictor.preprocessor.tokens_and_ids(text)
    if len(ids) == 0:
        raise InputError(
            "Expected a text with at least one word the run's tokenizer reads (IMDb runs read English "
            f"words or subwords). Received: {text[:80]!r}"
        )
    maxlen = predictor.preprocessor.maxlen
    read = np.concatenate([[START], ids]).astype("int32")[-maxlen:]
    shown = (["[START]", *tokens])[-maxlen:]
    prefixes = pad_front([read[: t + 1] for t in range(len(read))], maxlen)
    probabilities = predict_padded(predictor.model, prefixes)[:, 0]
    masked = bool(getattr(predictor.model.get_layer("embedding"), "mask_zero", False))
    steps = read[None] if masked else pad_front([read], maxlen)  # as the model reads it
    layers = stack_states(predictor.model, steps)
    for layer in layers:  # keep the steps of the text itself
        layer.states = {name: s[:, -len(read) :] for name, s in layer.states.items()}
        layer.outputs = layer.outputs[:, -len(read) :]
    return SentimentTrace(list(shown), probabilities, layers)


def lm_activations(predictor, text, rows=16):
    """The states of a language-model run (`LMPredictor`) over `text`.

    The text is cut into `rows` equal parts read side by side (each from zero
    states), and put back in order.

    Returns:
        `(tokens, layers)`: each token as text, and a `LayerStates` per recurrent
        layer whose arrays are `(1, steps, units)`.
    """
    ids = np.asarray(predictor.preprocessor.encode(text), "int32")
    rows = max(1, min(rows, len(ids) // 64))
    steps = len(ids) // rows
    if steps < 1:
        raise InputError(f"Expected a text of at least one token. Received: {text[:40]!r}")
    ids = ids[: rows * steps]
    layers = stack_states(predictor.model, ids.reshape(rows, steps))
    for layer in layers:
        layer.states = {name: s.reshape(1, rows * steps, -1) for name, s in layer.states.items()}
        layer.outputs = layer.outputs.reshape(1, rows * steps, -1)
    return [predictor.preprocessor.decode([i]) for i in ids], layers


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
        layers: `LayerStates` with `(1, steps, units)` arrays (from `lm_activations`).
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
TEXT_PANEL_TOKENS = 640  # tokens of the held-out half shown in the PNG


def run(run_dir, output, text=None, chars=DEFAULT_CHARS, overwrite=False, backend=None, log=print):
    """Writes `states-<task>.json` and its figures into `output` for a sentiment or
    language-model run.

    Args:
        run_dir: a folder written by `rnnlab train sentiment` or `rnnlab train lm`.
        output: folder for the record and figures.
        text: sentiment: the review to read (required); language model: the text to
            read (default: the first `chars` characters of the run's held-out text).
        chars: language model: characters read when `text` is None.
    """
    folder, info = runs.open_run(run_dir)
    task = info["task"]
    if task not in ("sentiment", "lm"):
        raise ValueError(
            f"Expected a sentiment or lm run. Received: a {task} run ({run_dir}). Translation "
            "attention and speech CTC alignments are drawn by `rnnlab translate RUN TEXT --plot FILE` "
            "and `rnnlab transcribe RUN WAV --plot FILE`."
        )
    record_name = f"states-{task}.json"
    records.check_output(output, record_name, LAB_NAME, overwrite)
    if task == "sentiment" and not text:
        raise ValueError("Expected --text: the review to read word by word. Received: none.")
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
    output.mkdir(parents=True, exist_ok=True)
    if task == "sentiment":
        body = _sentiment_record(predictor, text, output)
    else:
        body = _lm_record(predictor, text, chars, output)
    record = {"lab": LAB_NAME, "run": str(run_dir), **body,
              "wall_time_s": round(time.perf_counter() - start, 1), **provenance}  # fmt: skip
    runs.write_json(output / record_name, record)
    log(f"Record: {output / record_name}; figures: {', '.join(record['figures'])}")
    return record


def _sentiment_record(predictor, text, output):
    trace = sentiment_trace(predictor, text)
    figure = state_plots.sentiment_figure(trace, output / "states-sentiment.png")
    swings = np.diff(trace.probabilities)
    order = np.argsort(np.abs(swings))[::-1][:5]
    return {
        "text": text,
        "tokens": trace.tokens,
        "probabilities": [round(float(p), 6) for p in trace.probabilities],
        "probability": float(trace.probabilities[-1]),
        "largest_changes": [
            {"token": trace.tokens[i + 1], "position": int(i + 1), "change": round(float(swings[i]), 6)}
            for i in order
        ],
        "layers": _shapes(trace.layers),
        "figures": [figure.name],
    }


def _lm_record(predictor, text, chars, output):
    source = "--text"
    if not text:
        held_out = load_streams(predictor.config)["test"]
        text = held_out if isinstance(held_out, str) else "\n".join(held_out)
        text = text[:chars]
        source = f"the first {len(text)} characters of the run's held-out text ({predictor.config.corpus})"
    tokens, layers = lm_activations(predictor, text)
    features = text_features(tokens)
    found = unit_correlations(layers, features)
    half = len(tokens) // 2
    shown = tokens[half : half + TEXT_PANEL_TOKENS]
    panels, all_panels = [], []
    for name, unit in found.items():
        if not unit["varies"]:
            continue
        values = next(x for x in layers if x.name == unit["layer"]).states[unit["state"]][0, :, unit["unit"]]
        title = (f"{name}: {unit['layer']} {unit['state']}[{unit['unit']}], "
                 f"r = {unit['held_out_r']:+.2f} on held-out text")  # fmt: skip
        panels.append((title, values[half : half + TEXT_PANEL_TOKENS]))
        all_panels.append((title, values))
    figures = []
    if panels:
        figures.append(state_plots.unit_text_figure(shown, panels, output / "states-lm.png").name)
        figures.append(state_plots.unit_text_html(tokens, all_panels, output / "states-lm.html").name)
    return {
        "text_source": source,
        "tokens_read": len(tokens),
        "level": predictor.preprocessor.level,
        "units": found,
        "layers": _shapes(layers),
        "figures": figures,
    }


def _shapes(layers):
    """`{layer: {state: [units]}}` for a record."""
    return {layer.name: {k: list(v.shape[2:]) for k, v in layer.states.items()} for layer in layers}
