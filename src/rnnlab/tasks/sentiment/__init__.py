"""Sentiment analysis on IMDb (article sections 5 and 6.1), and text classification with any
labels: `config`, `preprocessor` (no Keras: exported models' runtimes read it too), `task`
(`TASK`, `SentimentPredictor`)."""
