"""The reproduction checks (`benchmarks/reproduce.py`): each short, fixed-seed recipe gives a
validation-loss curve that is a draw from the distribution recorded in
`results/reproduce/reference.json` (per epoch, within three standard deviations of the recorded
seeds' mean). A change that moves a curve beyond it fails here until the record is re-made with
`--record`."""

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


def test_every_check_has_a_reference_whose_band_comes_from_its_seeds():
    references = reproduce.load_reference()
    assert set(references) == set(reproduce.CHECKS)
    for name, reference in references.items():
        arguments, _ = reproduce.CHECKS[name]
        assert reference["command"] == "rnnlab train " + " ".join(arguments) + " --seed 0", name  # re-record
        curves = [reference["seed_curves"][seed] for seed in ("0", "1", "2")]
        assert reference["val_loss"] == curves[0]
        for epoch, values in enumerate(zip(*curves, strict=True)):
            mean = sum(values) / 3
            sd = (sum((v - mean) ** 2 for v in values) / 2) ** 0.5
            assert reference["seed_mean_by_epoch"][epoch] == pytest.approx(mean, rel=1e-12)
            assert reference["tolerance_by_epoch"][epoch] == pytest.approx(3 * sd, rel=1e-12)


def test_a_curve_outside_the_band_at_one_epoch_fails():
    reference = {"seed_mean_by_epoch": [1.0, 0.5], "tolerance_by_epoch": [0.1, 0.2]}
    assert reproduce.within([1.0, 0.5], reference) == (True, 0.0)
    assert reproduce.within([1.09, 0.31], reference)[0]
    passed, excess = reproduce.within([1.0, 0.71], reference)
    assert not passed and excess == pytest.approx(1.05)
    assert reproduce.within([1.0], reference) == (False, float("inf"))  # an epoch missing


@pytest.mark.parametrize("name, task", _params())
def test_the_recorded_curve_is_reproduced(name, task, request, tmp_path, monkeypatch):
    request.getfixturevalue(DATA[task])  # skips, saying why, without the dataset
    monkeypatch.chdir(ROOT)  # the recipes' paths are relative to the checkout
    reference = reproduce.load_reference()[name]
    passed, report = reproduce.compare(name, reference, tmp_path)
    assert passed, report
