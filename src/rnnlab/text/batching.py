"""Variable-length batches: reviews of similar length batched together, each
batch padded only to its bucket's length instead of to the longest review.

Bucket lengths come from a short fixed list, so a compiled backend (JAX, TF)
traces only a handful of shapes.
"""

import numpy as np

DEFAULT_BOUNDARIES = (16, 32, 64, 96, 128, 192, 256, 384, 512, 768, 1024)


def bucket_length(length, boundaries=DEFAULT_BOUNDARIES):
    """Smallest boundary >= `length` (or `length` itself past the last one)."""
    for boundary in boundaries:
        if length <= boundary:
            return boundary
    return length


def pad_front(sequences, length):
    """Pads (at the front, as Keras' `pad_sequences` default) to `(n, length)` int32."""
    out = np.zeros((len(sequences), length), dtype=np.int32)
    for row, sequence in enumerate(sequences):
        sequence = sequence[-length:]
        if len(sequence):
            out[row, -len(sequence) :] = sequence
    return out


def make_bucketed_batches(sequences, labels, batch_size, shuffle=True, seed=0, boundaries=DEFAULT_BOUNDARIES):
    """A `keras.utils.PyDataset` of length-bucketed batches (see `BucketedBatches`)."""
    import keras

    class BucketedBatches(keras.utils.PyDataset):
        """Batches of similar-length sequences, reshuffled every epoch.

        Args:
            sequences: list of 1-D int arrays (unpadded).
            labels: array of labels, one per sequence.
            batch_size: sequences per batch (the last batch of a bucket may be smaller).
            shuffle: reshuffle within buckets and the batch order every epoch.
            seed: seed of the shuffling.
        """

        def __init__(self):
            super().__init__()
            self.sequences = sequences
            self.labels = np.asarray(labels)
            self.rng = np.random.default_rng(seed)
            lengths = np.array([bucket_length(len(s), boundaries) for s in sequences])
            self.buckets = {int(b): np.flatnonzero(lengths == b) for b in np.unique(lengths)}
            self._plan()

        def _plan(self):
            batches = []
            for length, members in self.buckets.items():
                members = self.rng.permutation(members) if shuffle else members
                for start in range(0, len(members), batch_size):
                    batches.append((length, members[start : start + batch_size]))
            if shuffle:
                batches = [batches[i] for i in self.rng.permutation(len(batches))]
            self.batches = batches

        def __len__(self):
            return len(self.batches)

        def __getitem__(self, index):
            length, members = self.batches[index]
            return pad_front([self.sequences[i] for i in members], length), self.labels[members]

        def on_epoch_end(self):
            if shuffle:
                self._plan()

    return BucketedBatches()
