"""ULMFiT's fine-tuning tricks (Howard & Ruder, 2018, section 3.2 and 3.3) for Keras models.

- Discriminative learning rates: each layer learns at the rate of the layer above it divided by
  a factor (2.6 in ULMFiT), so the pretrained lower layers change least.
- Gradual unfreezing: at first only the output layer trains; one more layer, top down, joins
  every `unfreeze_every` steps.
- The slanted triangular schedule: a short linear rise to the peak rate, then a long linear
  decay to a fraction of it.

The first two are per-variable multipliers of the optimizer's learning rate, applied in its
update step (`LayerwiseAdam` and friends), so one compiled train step serves every stage: a
frozen layer's multiplier is 0 until its step comes. Its gradients are still computed and still
feed the optimizer's moment estimates, so Adam's first steps on a newly unfrozen layer use
moments of real gradients, not of zeros.

Example:
>>> rates = layer_rates(model, discriminative=2.6, unfreeze_every=625)  # doctest: +SKIP
>>> optimizer = layerwise_optimizer("adam")(learning_rate=1e-3, layer_rates=rates)  # doctest: +SKIP
"""

import keras
from keras import ops


def layer_groups(model):
    """The layers of `model` that own trainable weights, from the output layer down."""
    return [layer for layer in reversed(model.layers) if layer.trainable_weights]


def layer_rates(model, discriminative=1.0, unfreeze_every=0):
    """Per-variable `(factor, start_step)` for a model's layers, top down.

    Args:
        model: a model whose `layers` run from input to output (a `Sequential` classifier).
        discriminative: the layer at depth d (0: the output layer) learns at
            `learning_rate / discriminative**d`.
        unfreeze_every: the layer at depth d starts training at step `d * unfreeze_every`
            (0: every layer trains from the first step).

    Returns:
        `{path: (factor, start_step)}` for every trainable variable, its path taken from its
        layer's name on (so that it matches before and after `load_model`; see `rate_for`).
    """
    if discriminative < 1:
        raise ValueError(f"Expected discriminative >= 1. Received: discriminative={discriminative!r}")
    if unfreeze_every < 0:
        raise ValueError(f"Expected unfreeze_every >= 0 steps. Received: unfreeze_every={unfreeze_every!r}")
    rates = {}
    for depth, layer in enumerate(layer_groups(model)):
        for variable in layer.trainable_weights:
            key = _from_layer(variable.path, layer.name)
            rates[key] = (float(discriminative) ** -depth, int(depth * unfreeze_every))
    return rates


def _from_layer(path, layer_name):
    """A variable's path from its layer's name on: a fresh model's paths start with the model's
    name ('lstm_classifier/rnn_0/lstm_cell/kernel'), a loaded model's do not ('rnn_0/...')."""
    parts = path.split("/")
    return "/".join(parts[parts.index(layer_name) :]) if layer_name in parts else path


def rate_for(rates, path):
    """The `(factor, start_step)` of the longest ending of `path` found in `rates`, or None."""
    parts = path.split("/")
    for i in range(len(parts)):
        rate = rates.get("/".join(parts[i:]))
        if rate is not None:
            return rate
    return None


def _layer_rate(rates, layer):
    return rate_for(rates, layer.trainable_weights[0].path) or (1.0, 0)


def describe_rates(model, rates, steps_per_epoch):
    """One line per layer: its learning-rate factor and the epoch it starts training."""
    lines = []
    for layer in layer_groups(model):
        factor, start = _layer_rate(rates, layer)
        epoch = start / steps_per_epoch
        lines.append(f"  {layer.name}: x{factor:.4g} of the learning rate, from epoch {epoch:.2f}")
    return "\n".join(lines)


def never_trained(model, rates, total_steps):
    """Names of the layers whose start step is not reached within `total_steps`."""
    return [layer.name for layer in layer_groups(model) if _layer_rate(rates, layer)[1] >= total_steps]


class LayerRatesMixin:
    """Multiplies the learning rate of each variable by its `layer_rates` factor, and by 0
    before its start step. Variables not in `layer_rates` use the plain learning rate."""

    def __init__(self, *args, layer_rates=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.layer_rates = {
            str(path): (float(factor), int(start)) for path, (factor, start) in (layer_rates or {}).items()
        }

    def build(self, variables):
        super().build(variables)
        self._variable_rates = [rate_for(self.layer_rates, v.path) for v in self._trainable_variables]
        if self.layer_rates and not any(self._variable_rates):
            raise ValueError(
                f"None of the {len(self._trainable_variables)} variables has a rate in layer_rates. "
                f"Received: layer_rates for {sorted(self.layer_rates)[:3]}..., variables "
                f"{[v.path for v in self._trainable_variables[:3]]}..."
            )

    def _rate_of(self, variable):
        # TensorFlow hands update_step its own variables: find the Keras variable by index
        return self._variable_rates[self._get_variable_index(variable)]

    def _rate_multiplier(self, variable):
        factor, start = self._rate_of(variable) or (1.0, 0)
        multiplier = ops.cast(factor, variable.dtype)
        if start > 0:
            multiplier = multiplier * ops.cast(ops.greater_equal(self.iterations, start), variable.dtype)
        return multiplier

    def update_step(self, gradient, variable, learning_rate):
        if self._rate_of(variable) is not None:
            learning_rate = ops.cast(learning_rate, variable.dtype) * self._rate_multiplier(variable)
        return super().update_step(gradient, variable, learning_rate)

    def _apply_weight_decay(self, variables):  # AdamW: decay at each variable's own rate
        if self.weight_decay is None:
            return
        for variable in variables:
            if self._use_weight_decay(variable):
                rate = ops.cast(self.learning_rate, variable.dtype) * self._rate_multiplier(variable)
                variable.assign(variable - variable * ops.cast(self.weight_decay, variable.dtype) * rate)

    def get_config(self):
        config = super().get_config()
        config["layer_rates"] = {path: list(rate) for path, rate in self.layer_rates.items()}
        return config


@keras.saving.register_keras_serializable(package="rnnlab")
class LayerwiseAdam(LayerRatesMixin, keras.optimizers.Adam):
    """`keras.optimizers.Adam` with per-layer learning rates (see `LayerRatesMixin`)."""


@keras.saving.register_keras_serializable(package="rnnlab")
class LayerwiseAdamW(LayerRatesMixin, keras.optimizers.AdamW):
    """`keras.optimizers.AdamW` with per-layer learning rates (see `LayerRatesMixin`)."""


@keras.saving.register_keras_serializable(package="rnnlab")
class LayerwiseRMSprop(LayerRatesMixin, keras.optimizers.RMSprop):
    """`keras.optimizers.RMSprop` with per-layer learning rates (see `LayerRatesMixin`)."""


@keras.saving.register_keras_serializable(package="rnnlab")
class LayerwiseSGD(LayerRatesMixin, keras.optimizers.SGD):
    """`keras.optimizers.SGD` with per-layer learning rates (see `LayerRatesMixin`)."""


LAYERWISE = {"adam": LayerwiseAdam, "adamw": LayerwiseAdamW, "rmsprop": LayerwiseRMSprop, "sgd": LayerwiseSGD}


def layerwise_optimizer(name):
    """The per-layer-rate optimizer class for an optimizer name of `TrainConfig.optimizer`."""
    if name not in LAYERWISE:
        raise ValueError(f"Expected optimizer in {set(LAYERWISE)}. Received: optimizer={name!r}")
    return LAYERWISE[name]


@keras.saving.register_keras_serializable(package="rnnlab")
class SlantedTriangular(keras.optimizers.schedules.LearningRateSchedule):
    """ULMFiT's slanted triangular learning rate (Howard & Ruder, 2018, equation 3).

    Rises linearly from `peak / ratio` to `peak` over the first `cut_frac` of the steps, then
    falls linearly back to `peak / ratio` at `total_steps` (and stays there). The fall lasts
    `total_steps - cut` steps; the paper's `cut * (1 / cut_frac - 1)` is the same number when
    `total_steps * cut_frac` is whole, and otherwise would not end at `total_steps`.

    Args:
        peak: the highest learning rate.
        total_steps: steps of the whole run.
        cut_frac: fraction of the steps spent rising (ULMFiT: 0.1).
        ratio: how much smaller the lowest rate is than the peak (ULMFiT: 32).

    Example:
    >>> schedule = SlantedTriangular(0.01, total_steps=100)
    >>> round(float(schedule(10)), 6), round(float(schedule(100)), 6)
    (0.01, 0.000313)
    """

    def __init__(self, peak, total_steps, cut_frac=0.1, ratio=32.0):
        if not total_steps >= 1:
            raise ValueError(f"Expected total_steps >= 1. Received: total_steps={total_steps!r}")
        if not 0 < cut_frac < 1:
            raise ValueError(f"Expected 0 < cut_frac < 1. Received: cut_frac={cut_frac!r}")
        if not ratio >= 1:
            raise ValueError(f"Expected ratio >= 1. Received: ratio={ratio!r}")
        self.peak, self.total_steps, self.cut_frac, self.ratio = peak, int(total_steps), cut_frac, ratio

    def __call__(self, step):
        step = ops.cast(step, "float32")
        cut = float(max(1, int(self.total_steps * self.cut_frac)))  # the paper's floor(T * cut_frac)
        rising = step / cut
        falling = 1.0 - (step - cut) / max(1.0, self.total_steps - cut)
        p = ops.clip(ops.where(step < cut, rising, falling), 0.0, 1.0)
        return self.peak * (1.0 + p * (self.ratio - 1.0)) / self.ratio

    def get_config(self):
        return {
            "peak": self.peak,
            "total_steps": self.total_steps,
            "cut_frac": self.cut_frac,
            "ratio": self.ratio,
        }
