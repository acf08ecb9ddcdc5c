"""The NumPy reference against hand-computed numbers and finite differences."""

import numpy as np
import pytest

from rnnlab.reference import embedding, gradcheck, gru, losses, lstm, model, recurrent, simple_rnn


def test_embedding_lookup_and_gradient_accumulate_repeated_ids():
    W = np.arange(8.0).reshape(4, 2)
    ids = np.array([[3, 1, 3]])
    np.testing.assert_array_equal(embedding.forward(W, ids), [[[6, 7], [2, 3], [6, 7]]])
    d = np.ones((1, 3, 2))
    np.testing.assert_array_equal(embedding.backward(d, ids, 4), [[0, 0], [1, 1], [0, 0], [2, 2]])


def test_embedding_rejects_out_of_range_ids():
    with pytest.raises(ValueError, match=r"Expected token ids in \[0, 4\). Received: min=0, max=4"):
        embedding.forward(np.zeros((4, 2)), np.array([0, 4]))


def test_simple_rnn_forward_matches_hand_computation():
    # h_1 = tanh(0.5 * 1 + 0 + 0.1) = tanh(0.6); h_2 = tanh(0.5 * 2 + 0.3 * h_1 + 0.1)
    params = {"W_xh": np.array([[0.5]]), "W_hh": np.array([[0.3]]), "b_h": np.array([0.1])}
    hs, _ = recurrent.forward(simple_rnn, params, np.array([[[1.0], [2.0]]]))
    h1 = np.tanh(0.6)
    np.testing.assert_allclose(hs[0, :, 0], [h1, np.tanh(1.0 + 0.3 * h1 + 0.1)])


def test_lstm_step_matches_hand_computation():
    # Every pre-activation is 1 (x=1, weights 0.25 on each of 4 gates, bias 0.75).
    params = {"W_xh": np.full((1, 4), 0.25), "W_hh": np.zeros((1, 4)), "b_h": np.full(4, 0.75)}
    h, (h_again, c), _ = lstm.step(np.array([[1.0]]), lstm.initial_state(1, params), params)
    s = 1 / (1 + np.exp(-1.0))
    expected_c = s * np.tanh(1.0)  # i * g, since c_0 = 0
    np.testing.assert_allclose(c, [[expected_c]])
    np.testing.assert_allclose(h, [[s * np.tanh(expected_c)]])
    np.testing.assert_array_equal(h, h_again)


def test_gru_step_matches_hand_computation():
    # x = 1, h_0 = 0: z = r = sigmoid(0.5), hh = tanh(0.5 + r * 0.2), h = (1 - z) * hh
    params = {
        "W_xh": np.full((1, 3), 0.5),
        "W_hh": np.zeros((1, 3)),
        "b_h": np.array([[0.0, 0.0, 0.0], [0.0, 0.0, 0.2]]),
    }
    h, _, _ = gru.step(np.array([[1.0]]), gru.initial_state(1, params), params)
    z = r = 1 / (1 + np.exp(-0.5))
    np.testing.assert_allclose(h, [[(1 - z) * np.tanh(0.5 + r * 0.2)]])


def test_binary_cross_entropy_value_and_gradient():
    logits = np.array([[0.3], [-1.2]])
    targets = np.array([[1.0], [0.0]])
    p = 1 / (1 + np.exp(-logits))
    loss, d = losses.binary_cross_entropy(logits, targets)
    np.testing.assert_allclose(loss, -(np.log(p[0, 0]) + np.log(1 - p[1, 0])) / 2)
    np.testing.assert_allclose(d, (p - targets) / 2)


def test_categorical_cross_entropy_accepts_labels_or_one_hot():
    logits = np.array([[2.0, 0.5, -1.0], [0.0, 0.0, 0.0]])
    loss_labels, d_labels = losses.categorical_cross_entropy(logits, np.array([0, 2]))
    loss_onehot, d_onehot = losses.categorical_cross_entropy(logits, np.eye(3)[[0, 2]])
    probs = np.exp(logits) / np.exp(logits).sum(-1, keepdims=True)
    np.testing.assert_allclose(loss_labels, -(np.log(probs[0, 0]) + np.log(probs[1, 2])) / 2)
    np.testing.assert_allclose(loss_labels, loss_onehot)
    np.testing.assert_allclose(d_labels, d_onehot)


def test_categorical_cross_entropy_rejects_wrong_target_shape():
    with pytest.raises(ValueError, match=r"Received: shape=\(3,\)"):
        losses.categorical_cross_entropy(np.zeros((2, 3)), np.zeros(3, dtype=int))


@pytest.mark.parametrize("cell", sorted(model.CELLS))
@pytest.mark.parametrize("return_sequences", [False, True], ids=["many_to_one", "many_to_many"])
def test_bptt_matches_finite_differences(cell, return_sequences):
    errors = gradcheck.check(cell, return_sequences)
    assert set(errors) == {*model.PARAM_ORDER, "inputs"}
    assert max(errors.values()) < 1e-6, errors


def test_gradcheck_detects_a_wrong_gradient(monkeypatch):
    # A broken backward step must fail the check: drop the recurrent term.
    original = simple_rnn.step_backward

    def broken(d_h, d_state, cache, params):
        d_x, d_state_prev, d_params = original(d_h, d_state, cache, params)
        d_params["W_hh"] = d_params["W_hh"] * 0.9
        return d_x, d_state_prev, d_params

    monkeypatch.setattr(simple_rnn, "step_backward", broken)
    assert gradcheck.check("simple")["W_hh"] > 1e-3


def test_unknown_cell_lists_valid_ones():
    with pytest.raises(ValueError, match=r"Expected cell in .*Received: cell='rnn'"):
        model.forward(model.init_params("simple", 5, 2, 3, 1), np.array([[1]]), cell="rnn")


def test_forward_shapes_many_to_one_and_many_to_many():
    params = model.init_params("lstm", 10, 3, 4, 5)
    ids = np.zeros((2, 7), dtype=int)
    assert model.forward(params, ids, "lstm").shape == (2, 5)
    assert model.forward(params, ids, "lstm", return_sequences=True).shape == (2, 7, 5)


def test_every_exported_name_exists():
    import rnnlab.reference as reference

    assert [name for name in reference.__all__ if not hasattr(reference, name)] == []


def test_module_docstring_names_real_modules_and_functions():
    # Every `name` the package docstring puts in backticks is one of its modules, a parameter
    # name or a Keras weight name; every `module.name` resolves.
    import importlib
    import re

    import rnnlab.reference as reference

    def resolves(name):
        try:
            importlib.import_module(f"rnnlab.reference.{name}")
        except ModuleNotFoundError:
            return hasattr(reference, name)
        return True

    names = set(re.findall(r"`(\w+)`", reference.__doc__))
    weight_names = {*model.PARAM_ORDER, "kernel", "recurrent_kernel", "bias"}
    assert {"embedding", "simple_rnn", "recurrent", "gradcheck", "keras_check"} <= names
    assert sorted(name for name in names - weight_names if not resolves(name)) == []
    dotted = re.findall(r"`(\w+)\.(\w+)`", reference.__doc__)
    assert ("keras_check", "build_keras_model") in dotted
    for module_name, attribute in dotted:
        assert hasattr(importlib.import_module(f"rnnlab.reference.{module_name}"), attribute), attribute
