"""The encoder-decoder: shapes, step-by-step decoding equals the trained graph,
beam search, and decoding after a reload."""

import numpy as np
import pytest

from rnnlab.losses import SequenceCrossEntropy
from rnnlab.models.seq2seq import Translator, build_seq2seq

SOURCE = np.array([[5, 6, 7, 9], [8, 9, 0, 0]], "int32")


def _trained(cell, attention):
    import keras

    keras.utils.set_random_seed(0)
    model = build_seq2seq(30, 40, embedding_dim=16, units=16, cell=cell, attention=attention)
    loss = SequenceCrossEntropy()
    model.compile(keras.optimizers.Adam(0.01), loss)
    target_in = np.array([[1, 4, 5, 6], [1, 6, 7, 0]], "int32")
    target_out = np.array([[4, 5, 6, 3], [6, 7, 3, 0]], "int32")
    model.fit({"source": SOURCE, "target_in": target_in}, target_out, epochs=300, verbose=0)
    return model


@pytest.mark.parametrize("cell", ["gru", "lstm"])
@pytest.mark.parametrize("attention", ["none", "luong", "bahdanau"])
def test_greedy_decoding_equals_the_teacher_forced_graph(cell, attention):
    from keras import ops

    model = _trained(cell, attention)
    ids, weights = Translator(model, start_id=1, end_id=3).greedy(SOURCE, max_steps=6)
    for row, hyp in enumerate(ids):
        # Feeding the greedy output back as the target, the graph's argmax at each step is the next token.
        target_in = np.array([[1, *hyp]], "int32")
        logits = ops.convert_to_numpy(model({"source": SOURCE[row : row + 1], "target_in": target_in}))
        assert logits[0, :-1].argmax(-1).tolist() == hyp
        if attention != "none":
            assert weights[row].shape == (len(hyp), 4)
            np.testing.assert_allclose(weights[row].sum(-1), 1.0, rtol=1e-5)
            assert np.all(weights[row][:, SOURCE[row] == 0] < 1e-6)  # padding gets no attention
        else:
            assert weights[row] is None
    assert ids == [[4, 5, 6], [6, 7]]  # it learned the two training pairs


def test_beam_of_one_is_greedy_and_wider_beams_find_the_training_pairs():
    model = _trained("gru", "luong")
    translator = Translator(model, start_id=1, end_id=3)
    greedy, _ = translator.greedy(SOURCE, 6)
    assert translator.beam(SOURCE, 6, beam_size=1)[0] == greedy
    assert translator.beam(SOURCE, 6, beam_size=4)[0] == [[4, 5, 6], [6, 7]]


@pytest.mark.parametrize("attention", ["luong", "bahdanau"])
def test_decoding_after_a_reload_gives_the_same_translations(tmp_path, attention):
    import keras

    model = _trained("gru", attention)
    model.save(tmp_path / "m.keras")
    reloaded = keras.saving.load_model(tmp_path / "m.keras")
    assert Translator(reloaded, 1, 3).greedy(SOURCE, 6)[0] == Translator(model, 1, 3).greedy(SOURCE, 6)[0]


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"attention": "transformer"}, "Expected attention in"),
        ({"cell": "rnn"}, "Expected cell in"),
        ({"units": 1}, "Expected units to be an int >= 2"),
    ],
)
def test_bad_arguments(kwargs, message):
    with pytest.raises(ValueError, match=message):
        build_seq2seq(10, 10, **kwargs)
