"""Batches for every task: padding, bucketing, and an order that replays exactly."""

import numpy as np
import pytest

from rnnlab.data.batches import BatchOrder, Examples, bucket_length, epoch_batches, pad
from rnnlab.data.padding import padded_length


def test_pad_front_keeps_last_steps_and_back_keeps_first():
    seqs = [np.array([1, 2, 3]), np.array([4])]
    assert pad(seqs, 2).tolist() == [[2, 3], [0, 4]]
    assert pad(seqs, 2, side="back").tolist() == [[1, 2], [4, 0]]
    assert pad(seqs, 4, side="back", value=-1).tolist() == [[1, 2, 3, -1], [4, -1, -1, -1]]


def test_pad_frames_keeps_the_feature_axis():
    frames = [np.ones((3, 2), "float32"), np.full((1, 2), 5.0, "float32")]
    out = pad(frames, 4, side="back")
    assert out.shape == (2, 4, 2) and out.dtype == np.float32
    assert out[1].tolist() == [[5.0, 5.0], [0, 0], [0, 0], [0, 0]]


def test_pad_rejects_an_unknown_side():
    with pytest.raises(ValueError, match="Expected side in .* Received: side='middle'"):
        pad([np.array([1])], 2, side="middle")


def test_bucket_length():
    assert [bucket_length(n, (4, 8)) for n in (1, 4, 5, 8, 9)] == [4, 4, 8, 8, 9]


def test_inputs_and_targets_of_any_shape():
    # translation-like: a dict of source ids and target ids, both padded at the back
    examples = Examples(
        {"source": [np.array([1, 2]), np.array([3])], "target_in": [np.array([7]), np.array([8, 9, 9])]},
        [np.array([7, 0]), np.array([8, 9, 9])],
        pad_side="back",
    )
    x, y = examples.batch(np.array([1, 0]), 3)
    assert x["source"].tolist() == [[3, 0, 0], [1, 2, 0]]  # the first input: the given length
    # other sequences: padded to the bucket length of their own longest (3 -> 16)
    assert x["target_in"].shape == y.shape == (2, 16)
    assert x["target_in"][:, :4].tolist() == [[8, 9, 9, 0], [7, 0, 0, 0]]
    assert y[:, :4].tolist() == [[8, 9, 9, 0], [7, 0, 0, 0]]
    long_targets = Examples([np.array([1])], [np.arange(1, 41)], pad_side="back")
    assert long_targets.batch(np.array([0]), 1)[1].shape == (1, 64)  # never cut to the source's length
    assert examples.lengths().tolist() == [2, 1]
    assert len(examples.subset(np.array([1]))) == 1


def test_bucketed_order_visits_every_example_once_per_epoch_and_reshuffles():
    rng = np.random.default_rng(0)
    lengths = rng.integers(1, 40, 100)
    order = BatchOrder(lengths, batch_size=8, seed=0, bucket_boundaries=(8, 16, 32, 64))
    plans = [order.plan(epoch) for epoch in range(3)]
    for plan in plans:
        seen = np.concatenate([indices for _, indices in plan])
        assert sorted(seen.tolist()) == list(range(100))
        for length, indices in plan:
            assert len(indices) <= 8
            assert {bucket_length(int(lengths[i]), (8, 16, 32, 64)) for i in indices} == {length}
    assert [i.tolist() for _, i in plans[0]] != [i.tolist() for _, i in plans[1]]


def test_the_order_of_an_epoch_is_a_pure_function_of_seed_and_epoch():
    # What resume relies on: a fresh BatchOrder replays any epoch exactly.
    lengths = np.arange(1, 51)
    for boundaries in (None, (16, 32, 64)):
        a = BatchOrder(lengths, 4, seed=5, bucket_boundaries=boundaries).plan(3)
        b = BatchOrder(lengths, 4, seed=5, bucket_boundaries=boundaries).plan(3)
        assert [(n, i.tolist()) for n, i in a] == [(n, i.tolist()) for n, i in b]
    c = BatchOrder(lengths, 4, seed=6).plan(3)
    assert [i.tolist() for _, i in c] != [i.tolist() for _, i in a]


def test_epoch_batches_start_where_a_resumed_epoch_left_off():
    examples = Examples([np.array([i + 1]) for i in range(10)], np.arange(10.0))
    order = BatchOrder(examples.lengths(), 3, seed=1, fixed_length=2)
    full = epoch_batches(examples, order, epoch=2)
    rest = epoch_batches(examples, order, epoch=2, start=2)
    assert len(full) == 4 and len(rest) == 2
    np.testing.assert_array_equal(rest[0][0], full[2][0])
    np.testing.assert_array_equal(rest[1][1], full[3][1])


def test_unbucketed_order_is_keras_fit_order():
    """Training on our batches equals Keras' own `fit(x, y, shuffle=True)` on JAX, bitwise."""
    import keras

    rng = np.random.default_rng(1)
    seqs = [rng.integers(1, 50, rng.integers(2, 12)).astype("int32") for _ in range(70)]
    y = rng.integers(0, 2, 70).astype("float32")

    def model():
        keras.utils.set_random_seed(0)
        m = keras.Sequential(
            [keras.Input((10,), dtype="int32"), keras.layers.Embedding(50, 4), keras.layers.Flatten(),
             keras.layers.Dense(1, activation="sigmoid")]
        )  # fmt: skip
        m.compile("adam", "binary_crossentropy")
        return m

    keras_fit = model()
    keras_fit.fit(pad(seqs, 10), y, batch_size=16, epochs=2, verbose=0)
    ours = model()
    examples = Examples(seqs, y)
    order = BatchOrder(examples.lengths(), 16, seed=0, fixed_length=10)
    for epoch in range(2):
        ours.fit(epoch_batches(examples, order, epoch), shuffle=False, epochs=1, verbose=0)
    for a, b in zip(keras_fit.get_weights(), ours.get_weights(), strict=True):
        np.testing.assert_array_equal(a, b)


def test_lengths_of_decides_buckets_and_pads_every_field_to_the_batch_length():
    source = [np.array([1, 2]), np.array([3]), np.array([4, 5, 6, 7, 8])]
    target = [np.array([1, 2, 3, 4, 5, 6]), np.array([7]), np.array([8])]
    lengths = np.maximum([len(s) for s in source], [len(t) for t in target])
    examples = Examples({"source": source}, target, pad_side="back", lengths_of=lengths)
    assert examples.lengths().tolist() == [6, 1, 5]
    order = BatchOrder(examples.lengths(), 3, shuffle=False, bucket_boundaries=(4, 8))
    plan = order.plan(0)
    assert [(length, ix.tolist()) for length, ix in plan] == [(4, [1]), (8, [0, 2])]
    x, y = examples.batch(plan[1][1], plan[1][0])
    assert x["source"].shape == (2, 8) and y.shape == (2, 8)
    assert y[0].tolist() == [1, 2, 3, 4, 5, 6, 0, 0]
    assert examples.subset([2, 0]).lengths().tolist() == [5, 6]


def test_lengths_of_shorter_than_a_sequence_is_refused():
    with pytest.raises(ValueError, match=r"Received: example 1 has 3 steps, lengths_of\[1\]=2"):
        Examples([np.array([1]), np.array([1, 2])], [np.array([1]), np.array([1, 2, 3])], lengths_of=[2, 2])


def test_padded_length_is_long_enough_bounded_and_takes_few_values():
    lengths = np.arange(1, 8 * 1024 + 1)
    padded = np.array([padded_length(int(n), 8) for n in lengths])
    assert (padded >= lengths).all()
    assert (padded[lengths > 64] <= 1.5 * lengths[lengths > 64]).all()
    assert (padded[lengths <= 64] % 8 == 0).all() and (
        padded[lengths <= 64] - lengths[lengths <= 64] < 8
    ).all()
    assert len(np.unique(padded)) == 22
    assert [padded_length(n, 64) for n in (1, 512, 513, 700)] == [64, 512, 768, 768]
