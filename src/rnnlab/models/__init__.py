"""Keras model builders, one per application, each configured by arguments."""

from rnnlab.models.classifier import build_classifier

__all__ = ["build_classifier"]
