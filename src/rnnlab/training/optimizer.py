"""The optimizer of a run: Adam (or another Keras optimizer), its learning-rate schedule
(constant, cosine with warm-up, step decay, ULMFiT's slanted triangle) and, for fine-tuning,
per-layer learning rates."""

import keras

from rnnlab.finetuning import SlantedTriangular, layerwise_optimizer
from rnnlab.tasks.config import OPTIMIZERS


def learning_rate_schedule(config, steps_per_epoch):
    """The learning rate, a number or a Keras schedule over `config.epochs * steps_per_epoch` steps.

    Example:
    >>> from rnnlab.tasks.config import TrainConfig
    >>> learning_rate_schedule(TrainConfig(learning_rate=0.01), 100)
    0.01
    """
    total = config.epochs * steps_per_epoch
    if config.lr_schedule == "cosine":
        return keras.optimizers.schedules.CosineDecay(
            0.0 if config.warmup_steps else config.learning_rate,
            decay_steps=max(1, total - config.warmup_steps),
            warmup_target=config.learning_rate if config.warmup_steps else None,
            warmup_steps=config.warmup_steps,
        )
    if config.lr_schedule == "step":  # constant, then x lr_decay after each later epoch
        decays = range(max(0, config.epochs - config.lr_decay_start))
        if decays:
            return keras.optimizers.schedules.PiecewiseConstantDecay(
                [steps_per_epoch * (config.lr_decay_start + k) - 1 for k in decays],  # step <= boundary
                [config.learning_rate * config.lr_decay**k for k in range(len(decays) + 1)],
            )
    if config.lr_schedule == "slanted":
        return SlantedTriangular(config.learning_rate, total)
    return config.learning_rate


def make_optimizer(config, steps_per_epoch, layer_rates=None):
    """The config's optimizer with its schedule and `clipnorm`.

    Args:
        steps_per_epoch: batches per epoch, for a schedule over the whole run.
        layer_rates: per-variable learning-rate factors (`rnnlab.finetuning.layer_rates`), or
            None for one rate for every weight.
    """
    learning_rate = learning_rate_schedule(config, steps_per_epoch)
    if layer_rates:
        return layerwise_optimizer(config.optimizer)(
            learning_rate=learning_rate, clipnorm=config.clipnorm, layer_rates=layer_rates
        )
    return getattr(keras.optimizers, OPTIMIZERS[config.optimizer])(
        learning_rate=learning_rate, clipnorm=config.clipnorm
    )
