"""A pytest plugin: Keras' own RNN tests run against rnnlab's layers.

Keras' test modules (`keras/src/layers/rnn/*_test.py` in the installed
package) use `layers.SimpleRNN`, `layers.LSTM` and `layers.GRU` through their
module attribute `layers` (`from keras.src import layers`). After collection,
this plugin replaces that attribute, in each collected module, by a module
that gives rnnlab's classes for those three names and Keras' for every other
(`Bidirectional`, `Input`, ...). No Keras file is copied or changed.

With `RNNLAB_KERAS_SUITE_REPORT=path.json` it writes, per test: its outcome,
how many rnnlab layers it built and how many of their calls ran the native
loop and Keras' loop.

Example:
    KERAS_BACKEND=jax python -m pytest -p rnnlab_keras_plugin \\
        .venv/lib/python3.11/site-packages/keras/src/layers/rnn/lstm_test.py
"""

import json
import os
import types

import pytest

SWAPPED = ("SimpleRNN", "LSTM", "GRU")

_counts = {"built": 0, "native": 0, "keras_loop": 0, "file": ""}
_report = {}


def rnnlab_layers_module():
    """Keras' `keras.src.layers` with rnnlab's SimpleRNN, LSTM and GRU."""
    from keras.src import layers as keras_layers

    import rnnlab.layers

    module = types.ModuleType("rnnlab_swapped_layers")
    module.__getattr__ = lambda name: getattr(keras_layers, name)  # everything else: Keras' own
    for name in SWAPPED:
        setattr(module, name, getattr(rnnlab.layers, name))
    return module


def _count_layers():
    """Counts rnnlab layers built, and which loop their calls ran."""
    from rnnlab.layers import fast_rnn

    init, uses_native = fast_rnn._NativeLoop.__init__, fast_rnn._NativeLoop.uses_native_loop

    def counting_init(self, *args, **kwargs):
        _counts["built"] += 1
        init(self, *args, **kwargs)

    def counting_uses_native(self, *args, **kwargs):
        native = uses_native(self, *args, **kwargs)
        _counts["native" if native else "keras_loop"] += 1
        return native

    fast_rnn._NativeLoop.__init__ = counting_init
    fast_rnn._NativeLoop.uses_native_loop = counting_uses_native


def pytest_collection_modifyitems(session, config, items):
    from keras.src import layers as keras_layers

    swapped = rnnlab_layers_module()
    for module in {item.module for item in items if getattr(item, "module", None) is not None}:
        if getattr(module, "layers", None) is keras_layers:
            module.layers = swapped
    _count_layers()


@pytest.hookimpl(tryfirst=True)  # before a skip mark ends the setup
def pytest_runtest_setup(item):
    _counts.update(built=0, native=0, keras_loop=0)
    _counts["file"] = item.path.name


def pytest_runtest_logreport(report):
    file = _counts["file"]
    name = report.nodeid.split(".py::")[-1].lstrip(":")  # Class::test
    entry = _report.setdefault(f"{file}::{name}", {"file": file, "outcome": "passed"})
    if report.failed:
        entry["outcome"] = "failed" if report.when == "call" else "error"
    elif report.skipped:
        entry["outcome"] = "xfailed" if hasattr(report, "wasxfail") else "skipped"
    elif report.when == "call" and hasattr(report, "wasxfail"):
        entry["outcome"] = "xpassed"
    if report.when == "teardown":
        entry.update({key: _counts[key] for key in ("built", "native", "keras_loop")})


def pytest_sessionfinish(session, exitstatus):
    path = os.environ.get("RNNLAB_KERAS_SUITE_REPORT")
    if path:
        with open(path, "w") as f:
            json.dump(_report, f, indent=1, sort_keys=True)
