"""The language-model builder: weight tying, and step-by-step generation equal to the
whole-sequence forward pass."""

import numpy as np
import pytest

from rnnlab.models.language_model import Generator, build_language_model


@pytest.mark.parametrize("cell, tie", [("lstm", True), ("gru", False), ("simple", True)])
def test_stepping_the_cells_gives_the_whole_sequence_logits(cell, tie):
    model = build_language_model(
        17, embedding_dim=8, units=8, cell=cell, num_layers=2, dropout=0.3, tie_weights=tie
    )
    ids = np.random.default_rng(0).integers(1, 17, size=(1, 9)).astype("int32")
    whole = np.asarray(model(ids, training=False))[0]
    generator = Generator(model)
    states = generator.initial_states(1)
    for t in range(9):
        logits, states = generator.step(ids[0, t : t + 1], states)
        np.testing.assert_allclose(logits[0], whole[t], rtol=1e-4, atol=1e-5)


def test_tied_weights_are_one_matrix_and_survive_a_reload(tmp_path):
    import keras

    from rnnlab import saving

    tied = build_language_model(30, embedding_dim=6, units=6, num_layers=1, tie_weights=True)
    untied = build_language_model(30, embedding_dim=6, units=6, num_layers=1, tie_weights=False)
    assert untied.count_params() - tied.count_params() == 6 * 30  # the output matrix is gone (bias stays)
    ids = np.arange(1, 8, dtype="int32")[None]
    tied.save(tmp_path / "m.keras")
    again = saving.load_model(tmp_path / "m.keras")
    np.testing.assert_allclose(np.asarray(again(ids)), np.asarray(tied(ids)), atol=1e-6)
    embedding = again.get_layer("embedding").embeddings
    expected = np.asarray(keras.ops.convert_to_numpy(embedding))
    hidden = np.ones((1, 6), "float32")
    logits = np.asarray(again.get_layer("embedding")(hidden, reverse=True))
    bias = np.asarray(keras.ops.convert_to_numpy(again.get_layer("embedding").bias))
    np.testing.assert_allclose(logits[0], expected.sum(axis=1) + bias, rtol=1e-5)


def test_sampling_is_seeded_respects_top_k_and_never_emits_padding():
    model = build_language_model(12, embedding_dim=4, units=4, num_layers=1)
    generator = Generator(model)
    a = generator.sample([3, 4], 40, temperature=1.5, seed=1)
    assert a == generator.sample([3, 4], 40, temperature=1.5, seed=1) and len(a) == 40
    assert 0 not in a and all(1 <= t < 12 for t in a)
    logits, _ = generator.read([3, 4])
    top = int(np.argmax(logits[1:]) + 1)
    assert generator.sample([3, 4], 1, top_k=1, seed=5) == [top]
    with pytest.raises(ValueError, match="temperature > 0"):
        generator.sample([3], 5, temperature=0)
    with pytest.raises(ValueError, match="empty prompt"):
        generator.sample([], 5)
    with pytest.raises(ValueError, match="units == embedding_dim"):
        build_language_model(12, embedding_dim=4, units=8, tie_weights=True)


def test_a_stateful_model_continues_from_the_previous_batch():
    stateful = build_language_model(
        11, embedding_dim=4, units=5, cell="lstm", num_layers=2, dropout=0.0, stateful_batch_size=2
    )
    plain = build_language_model(11, embedding_dim=4, units=5, cell="lstm", num_layers=2, dropout=0.0)
    plain.set_weights(stateful.get_weights())
    ids = np.random.default_rng(1).integers(1, 11, size=(2, 12)).astype("int32")
    whole = np.asarray(plain(ids))
    first, second = np.asarray(stateful(ids[:, :7])), np.asarray(stateful(ids[:, 7:]))
    np.testing.assert_allclose(np.concatenate([first, second], axis=1), whole, rtol=1e-4, atol=1e-5)
    for layer in stateful.layers:
        if getattr(layer, "stateful", False):
            layer.reset_state()
    np.testing.assert_allclose(np.asarray(stateful(ids[:, 7:])), np.asarray(plain(ids[:, 7:])), atol=1e-5)
    with pytest.raises(ValueError, match="stateful_batch_size"):
        build_language_model(11, stateful_batch_size=0)
