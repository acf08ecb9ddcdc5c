"""The reproduction checks (`benchmarks/reproduce.py`): each short, fixed-seed recipe gives
the validation-loss curve recorded in `results/reproduce/reference.json`, within the
recorded tolerance (a quarter of the seed-to-seed spread). A change that moves a curve
beyond it fails here until the record is re-made with `--record`."""

import importlib.util
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
_spec = importlib.util.spec_from_file_location("reproduce", ROOT / "benchmarks" / "reproduce.py")
reproduce = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(reproduce)

DATA = {
    "sentiment": "real_imdb",
    "translation": "real_multi30k",
    "speech": "real_fsdd",
    "lm": "real_tinyshakespeare",
}


def _params():
    for name, (arguments, in_ci) in reproduce.CHECKS.items():
        yield pytest.param(name, arguments[0], id=name, marks=() if in_ci else pytest.mark.slow)


def test_every_check_has_a_reference_that_a_change_of_seed_would_fail():
    references = reproduce.load_reference()
    assert set(references) == set(reproduce.CHECKS)
    for name, reference in references.items():
        arguments, _ = reproduce.CHECKS[name]
        assert reference["command"] == "rnnlab train " + " ".join(arguments) + " --seed 0", name  # re-record
        assert reference["val_loss"] == reference["seed_curves"]["0"]
        for seed in ("1", "2"):  # the check tells another seed's curve from the recorded one
            other = reference["seed_curves"][seed]
            worst = max(abs(a - b) for a, b in zip(other, reference["val_loss"], strict=True))
            assert worst > reference["tolerance"], name


@pytest.mark.parametrize("name, task", _params())
def test_the_recorded_curve_is_reproduced(name, task, request, tmp_path, monkeypatch):
    request.getfixturevalue(DATA[task])  # skips, saying why, without the dataset
    monkeypatch.chdir(ROOT)  # the recipes' paths are relative to the checkout
    reference = reproduce.load_reference()[name]
    passed, report = reproduce.compare(name, reference, tmp_path)
    assert passed, report
