"""The reference against Keras on each backend, each in its own process."""

import pytest

from rnnlab import gradcheck_report
from rnnlab.backend import is_available
from rnnlab.reference import keras_check, model


@pytest.mark.parametrize("backend", ["jax", "tensorflow", "torch"])
def test_reference_equals_keras(backend):
    if not is_available(backend):
        pytest.skip(f"{backend} is not installed (pip install 'rnnlab[all]')")
    results = gradcheck_report.keras_errors(backend)
    assert set(results) == {f"{c}/{k}" for c in model.CELLS for k in ("many_to_one", "many_to_many")}
    for check, errors in results.items():
        assert errors["outputs"] < keras_check.OUTPUT_ATOL, (check, errors)
        assert errors["loss"] < keras_check.OUTPUT_ATOL, (check, errors)
        for name in model.PARAM_ORDER:
            assert errors[name] < keras_check.GRADIENT_ATOL, (check, name, errors)
