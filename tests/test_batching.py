"""Length-bucketed batches."""

import numpy as np

from rnnlab.text.batching import bucket_length, make_bucketed_batches, pad_front


def test_pad_front_keeps_last_tokens():
    assert pad_front([np.array([1, 2, 3]), np.array([4])], 2).tolist() == [[2, 3], [0, 4]]


def test_bucket_length():
    assert [bucket_length(n, (4, 8)) for n in (1, 4, 5, 8, 9)] == [4, 4, 8, 8, 9]


def test_every_sequence_once_padded_to_its_bucket():
    rng = np.random.default_rng(0)
    sequences = [np.arange(1, n + 1) for n in rng.integers(1, 40, 100)]
    labels = np.arange(100)
    batches = make_bucketed_batches(
        sequences, labels, batch_size=8, shuffle=True, seed=0, boundaries=(8, 16, 32, 64)
    )
    seen = []
    for i in range(len(batches)):
        x, y = batches[i]
        assert x.shape[1] in (8, 16, 32, 64) and len(y) <= 8
        for row, label in zip(x, y, strict=True):
            np.testing.assert_array_equal(row[row != 0], sequences[label])  # labels stay with their review
            assert bucket_length(len(sequences[label]), (8, 16, 32, 64)) == x.shape[1]
        seen.extend(y.tolist())
    assert sorted(seen) == list(range(100))
    first = [batches[i][1].tolist() for i in range(len(batches))]
    batches.on_epoch_end()
    assert [batches[i][1].tolist() for i in range(len(batches))] != first  # reshuffled
