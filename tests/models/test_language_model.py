"""The language-model builder: weight tying, and step-by-step generation equal to the
whole-sequence forward pass."""

import numpy as np
import pytest

from rnnlab.models.language_model import Generator, build_language_model


def numpy(x):
    """A copy as NumPy, on any backend."""
    import keras

    return np.array(keras.ops.convert_to_numpy(x))


@pytest.mark.parametrize("cell, tie", [("lstm", True), ("gru", False), ("simple", True)])
def test_stepping_the_cells_gives_the_whole_sequence_logits(cell, tie):
    model = build_language_model(
        17, embedding_dim=8, units=8, cell=cell, num_layers=2, dropout=0.3, tie_weights=tie
    )
    ids = np.random.default_rng(0).integers(1, 17, size=(1, 9)).astype("int32")
    whole = numpy(model(ids, training=False))[0]
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
    np.testing.assert_allclose(numpy(again(ids)), numpy(tied(ids)), atol=1e-6)
    embedding = again.get_layer("embedding").embeddings
    expected = np.asarray(keras.ops.convert_to_numpy(embedding))
    hidden = np.ones((1, 6), "float32")
    logits = numpy(again.get_layer("embedding")(hidden, reverse=True))
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
    assert generator.sample([3, 4], 1, temperature=1e-300, seed=5) == [top]  # greedy, no overflow
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
    for layer in plain.layers:  # the stateful model also holds its states as (non-trainable) variables
        for mine, theirs in zip(
            layer.trainable_weights, stateful.get_layer(layer.name).trainable_weights, strict=True
        ):
            mine.assign(numpy(theirs))  # a copy: the JAX trainer donates its buffers
    ids = np.random.default_rng(1).integers(1, 11, size=(2, 12)).astype("int32")
    whole = numpy(plain(ids))
    first, second = numpy(stateful(ids[:, :7])), numpy(stateful(ids[:, 7:]))
    np.testing.assert_allclose(np.concatenate([first, second], axis=1), whole, rtol=1e-4, atol=1e-5)
    for layer in stateful.layers:
        if getattr(layer, "stateful", False):
            layer.reset_state()
    np.testing.assert_allclose(numpy(stateful(ids[:, 7:])), numpy(plain(ids[:, 7:])), atol=1e-5)
    with pytest.raises(ValueError, match="stateful_batch_size"):
        build_language_model(11, stateful_batch_size=0)


@pytest.mark.parametrize("fast", [True, False])
def test_states_are_carried_inside_fit_and_evaluate(fast):
    """Keras' own stateful layers drop their state updates inside the JAX trainer's
    compiled steps; rnnlab's track them, so `evaluate` over consecutive windows equals
    the whole sequence read at once (on every backend)."""
    import keras

    stateful = build_language_model(9, embedding_dim=4, units=5, num_layers=2, dropout=0.0,
                                    fast_layers=fast, stateful_batch_size=2)  # fmt: skip
    plain = build_language_model(9, embedding_dim=4, units=5, num_layers=2, dropout=0.0, fast_layers=fast)
    for layer in plain.layers:
        for mine, theirs in zip(
            layer.trainable_weights, stateful.get_layer(layer.name).trainable_weights, strict=True
        ):
            mine.assign(numpy(theirs))  # a copy: the JAX trainer donates its buffers
    loss = keras.losses.SparseCategoricalCrossentropy(from_logits=True)
    for model in (stateful, plain):
        model.compile("sgd", loss)
    ids = np.random.default_rng(2).integers(1, 9, size=(2, 13)).astype("int32")
    x, y = ids[:, :12], ids[:, 1:]
    windows = [(x[:, i : i + 4], y[:, i : i + 4]) for i in (0, 4, 8)]  # three batches of both rows, in order
    xs, ys = np.concatenate([w[0] for w in windows]), np.concatenate([w[1] for w in windows])
    carried = stateful.evaluate(xs, ys, batch_size=2, verbose=0)
    assert carried == pytest.approx(float(plain.evaluate(x, y, batch_size=2, verbose=0)), rel=1e-5)
    stateful.fit(xs, ys, batch_size=2, shuffle=False, verbose=0)
    states = [numpy(v) for layer in stateful.layers if getattr(layer, "stateful", False)
              for v in layer.states]  # fmt: skip
    assert len(states) == 4 and all(np.abs(s).sum() > 0 for s in states)  # carried out of fit


def test_layers_are_taken_by_depth_beyond_ten():
    import keras

    from rnnlab.models.recurrent import layers_by_depth

    inputs = keras.Input((3,))
    x = inputs
    for depth in range(12):
        x = keras.layers.Dense(2, name=f"rnn_{depth}")(x)
    model = keras.Model(inputs, keras.layers.Dense(1, name="rnn_state")(x))
    assert [layer.name for layer in layers_by_depth(model, "rnn_")] == [f"rnn_{d}" for d in range(12)]
