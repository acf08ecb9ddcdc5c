"""Sentiment analysis on IMDb (article sections 5 and 6.1)."""

from rnnlab.tasks.sentiment.config import SentimentConfig
from rnnlab.tasks.sentiment.preprocessor import SentimentPreprocessor
from rnnlab.tasks.sentiment.task import TASK, SentimentPredictor, explain

__all__ = [
    "TASK",
    "SentimentConfig",
    "SentimentPredictor",
    "SentimentPreprocessor",
    "explain",
]
