"""Generated requests (hypothesis) never get a 500: a short run of `benchmarks/serve_fuzz.py`
(the recorded run makes 10,000 cases)."""

import importlib.util
from pathlib import Path

import pytest

pytest.importorskip("fastapi")
pytest.importorskip("hypothesis")

SCRIPT = Path(__file__).parents[2] / "benchmarks" / "serve_fuzz.py"


def _fuzzer():
    spec = importlib.util.spec_from_file_location("serve_fuzz", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_generated_requests_never_fail_the_server(predictors):
    from rnnlab.serve import Limits, create_app

    app = create_app(list(predictors.values()), limits=Limits(max_generate_length=16))
    record = _fuzzer().fuzz_app(app, cases=300, log=lambda *_: None)
    assert record["cases"] == 300 and record["errors_500"] == 0 and not record["failures"]
    assert set(record["by_path"]) >= {"/v1/sentiment", "/v1/translation", "/v1/lm", "/v1/speech"}
    assert int(record["statuses"].get("200", 0)) > 0 and int(record["statuses"].get("422", 0)) > 0
