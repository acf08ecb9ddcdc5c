"""rnnlab: recurrent neural networks with Keras 3, from the equations to applications.

Importing rnnlab makes JAX the default Keras backend (unless `KERAS_BACKEND`
is set), so import rnnlab before keras.
"""

import os

os.environ.setdefault("KERAS_BACKEND", "jax")

__version__ = "0.1.0"
