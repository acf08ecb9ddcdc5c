"""Text preprocessing shared by the text tasks."""

from rnnlab.text.words import WordTokenizer

__all__ = ["WordTokenizer"]
