"""A language-model run's units over text (`rnnlab lab states`; Karpathy et al., 2015): the
states over a long text, and for each property of the text (`rnnlab.lab.states.text_features`)
the unit that tracks it best, chosen on one half and measured on the other
(`rnnlab.lab.states.unit_correlations`). The step-by-step replay is `rnnlab.lab.states`'.

    rnnlab lab states runs/shakespeare-stateful --output results/lab
"""

import numpy as np

from rnnlab.errors import InputError
from rnnlab.lab import state_plots
from rnnlab.lab.states import layer_shapes, stack_states, text_features, unit_correlations

TEXT_PANEL_TOKENS = 640  # tokens of the held-out half shown in the PNG


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


def states_record(predictor, text, source, output):
    """Draws `states-lm.png` and `states-lm.html` into `output` (when a property varies);
    returns the record's fields: the unit found for each property, the layers' shapes.

    Args:
        source: where `text` came from, in words (kept in the record).
    """
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
        "layers": layer_shapes(layers),
        "figures": figures,
    }
