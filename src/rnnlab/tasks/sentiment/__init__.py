"""Sentiment analysis on IMDb (article sections 5 and 6.1)."""

from rnnlab.tasks.sentiment.config import SentimentConfig
from rnnlab.tasks.sentiment.preprocessor import SentimentPreprocessor
from rnnlab.tasks.sentiment.task import TASK, SentimentPredictor, evaluate, explain, predict, train

Config = SentimentConfig

__all__ = [
    "TASK",
    "Config",
    "SentimentConfig",
    "SentimentPredictor",
    "SentimentPreprocessor",
    "evaluate",
    "explain",
    "predict",
    "train",
]
