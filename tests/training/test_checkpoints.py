"""Checkpoints: written whole or not at all, the newest two kept, a damaged one skipped."""

import numpy as np

from rnnlab.training.checkpoints import Checkpoints


def _model(seed):
    import keras

    keras.utils.set_random_seed(seed)
    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(2, name="dense")])
    model.compile("adam", "mse", metrics=["mae"])
    model.fit(np.ones((4, 3)), np.zeros((4, 2)), verbose=0)
    return model


def test_save_restore_round_trip_with_optimizer_and_metric_state(tmp_path):
    model = _model(0)
    checkpoints = Checkpoints(tmp_path / "ck", log=lambda _: None)
    checkpoints.save(model, {"epoch": 1, "step": 0, "global_step": 5})
    other = _model(1)
    state = checkpoints.restore(other)
    assert (state["epoch"], state["global_step"]) == (1, 5)
    for a, b in zip(model.get_weights(), other.get_weights(), strict=True):
        np.testing.assert_array_equal(a, b)
    for a, b in zip(model.optimizer.variables, other.optimizer.variables, strict=True):
        np.testing.assert_array_equal(np.asarray(a), np.asarray(b))
    assert len(state["metric_values"]) == len(model.metrics_variables)


def test_only_the_newest_two_are_kept_and_a_damaged_one_is_skipped(tmp_path):
    model = _model(0)
    messages = []
    checkpoints = Checkpoints(tmp_path / "ck", log=messages.append)
    for step in (1, 2, 3):
        checkpoints.save(model, {"epoch": 0, "step": step, "global_step": step})
    assert sorted(p.name for p in (tmp_path / "ck").iterdir()) == ["step-0000000002", "step-0000000003"]
    (checkpoints.latest() / "model.weights.h5").write_bytes(b"garbage")  # e.g. a disk error
    state = checkpoints.restore(_model(1))
    assert state["global_step"] == 2 and "cannot be read" in messages[0]


def test_a_save_killed_midway_leaves_no_checkpoint_and_is_cleaned(tmp_path):
    (tmp_path / "ck" / ".tmp-dead").mkdir(parents=True)
    (tmp_path / "ck" / ".tmp-dead" / "model.weights.h5").write_bytes(b"half")
    checkpoints = Checkpoints(tmp_path / "ck", log=lambda _: None)
    assert checkpoints.latest() is None and not (tmp_path / "ck" / ".tmp-dead").exists()
    assert checkpoints.restore(_model(0)) is None
