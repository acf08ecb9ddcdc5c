"""Keras' own RNN tests that rnnlab's layers are not expected to pass, per backend, with the reason.

Keys are `file::Class::test` as `rnnlab_keras_plugin` reports them. A test listed
here may fail; a test not listed must pass (or be skipped by Keras itself).
Keras' own skips (tests of one backend or of CUDA) are not exclusions: they
skip with Keras' layers too.
"""

# Keras 3.15.1's simple_rnn_test.py, lstm_test.py, gru_test.py and bidirectional_test.py.
KERAS_TEST_FILES = ("simple_rnn_test.py", "lstm_test.py", "gru_test.py", "bidirectional_test.py")

# Every test passes on every backend: nothing is excluded.
EXCLUDED = {"jax": {}, "tensorflow": {}, "torch": {}}

# At least this share of the tests that build one of rnnlab's layers must pass.
MIN_PASS_RATE = 0.95
