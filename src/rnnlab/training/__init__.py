"""The training engine every task shares: `train_task` (fit loop, checkpoints, resume,
signals, early stopping, split, run folder), `evaluate_run`, and `rnnlab tune`.

Its modules import Keras, on the backend `KERAS_BACKEND` names (JAX unless set): set it, or call
`rnnlab.backend.select`, before importing them to choose another.
"""
