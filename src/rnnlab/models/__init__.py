"""Keras model builders, one per application, each configured by arguments."""

from rnnlab.models.classifier import RNN_LAYERS, build_classifier

__all__ = ["RNN_LAYERS", "build_classifier"]
