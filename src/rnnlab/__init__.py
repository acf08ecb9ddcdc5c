"""rnnlab: recurrent neural networks with Keras 3, from the equations to applications.

Importing rnnlab makes JAX the default Keras backend (unless `KERAS_BACKEND`
is set), so import rnnlab before keras.
"""

import os

# KERAS_BACKEND as the environment gave it (None: not set), before rnnlab's default below: the
# command line tells a user's choice from that default (`rnnlab.cli.backend_for`).
ENVIRONMENT_BACKEND = os.environ.get("KERAS_BACKEND")
os.environ.setdefault("KERAS_BACKEND", "jax")

__version__ = "0.1.0"
