"""The training engine every task shares: `train_task` (fit loop, checkpoints, resume,
signals, early stopping, split, run folder), `evaluate_run`, and `rnnlab tune`.

Importing this package imports Keras: select the backend first (`rnnlab.backend.select`).
"""
