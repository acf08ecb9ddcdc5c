"""Batches for every task: inputs and targets of any shape, padded at either
end, optionally bucketed by length, in an order that is a pure function of
`(seed, epoch)` so an interrupted training replays it exactly.

Example:
>>> import numpy as np
>>> examples = Examples([np.array([5, 6]), np.array([7])], np.array([1.0, 0.0]))
>>> order = BatchOrder(examples.lengths(), batch_size=2, shuffle=False)
>>> [x.tolist() for x, _ in (examples.batch(ix, 3) for length, ix in order.plan(0))]
[[[0, 5, 6], [0, 0, 7]]]
"""

from dataclasses import dataclass, field

import keras
import numpy as np

from rnnlab.data.padding import PAD_SIDES, pad

DEFAULT_BOUNDARIES = (16, 32, 64, 96, 128, 192, 256, 384, 512, 768, 1024)


def bucket_length(length, boundaries=DEFAULT_BOUNDARIES):
    """Smallest boundary >= `length` (or `length` itself past the last one)."""
    for boundary in boundaries:
        if length <= boundary:
            return boundary
    return length


def bucket_lengths(lengths, boundaries=DEFAULT_BOUNDARIES):
    """`bucket_length` of every length, at once (for millions of examples).

    Example:
    >>> bucket_lengths([3, 16, 17, 2000]).tolist()
    [16, 16, 32, 2000]
    """
    lengths, bounds = np.asarray(lengths, np.int64), np.asarray(boundaries, np.int64)
    if len(bounds) == 0 or np.any(np.diff(bounds) < 0):  # not ascending: the first one that fits
        return np.array([bucket_length(int(n), boundaries) for n in lengths], np.int64)
    at = np.searchsorted(bounds, lengths, side="left")
    return np.where(at < len(bounds), bounds[np.minimum(at, len(bounds) - 1)], lengths)


@dataclass
class Examples:
    """A split of a dataset: input and target sequences (or fixed arrays).

    Args:
        inputs: a list of sequences (one per example), a fixed array, or a dict
            / tuple of those (several model inputs).
        targets: the same kinds; labels are a fixed array.
        pad_side: where sequences are padded ('front' or 'back').
        meta: per-example extras (e.g. reference texts), kept by `subset`.
        lengths_of: per-example lengths that decide buckets (e.g. the longer of
            source and target); every sequence field is then padded to the
            batch's length. None: the first input's lengths decide, and other
            sequence fields are padded to the bucket of their own longest.

    Example:
    >>> import numpy as np
    >>> ex = Examples([np.array([1, 2, 3])], np.array([1.0]))
    >>> ex.batch(np.array([0]), 2)[0].tolist()
    [[2, 3]]
    """

    inputs: object
    targets: object
    pad_side: str = "front"
    meta: dict = field(default_factory=dict)
    lengths_of: np.ndarray | None = None

    def __post_init__(self):
        if self.pad_side not in PAD_SIDES:
            raise ValueError(f"Expected pad_side in {set(PAD_SIDES)}. Received: {self.pad_side!r}")
        if self.lengths_of is not None:  # every sequence is padded to its bucket: none may be longer
            limits = np.asarray(self.lengths_of)
            for part in (self.inputs, self.targets):
                for sequences in _sequence_fields(part):
                    steps = sequence_lengths(sequences)
                    longer = np.flatnonzero(steps > limits)
                    if len(longer):
                        i = int(longer[0])
                        raise ValueError(
                            f"Expected every sequence to fit its example's lengths_of. Received: example {i} "
                            f"has {steps[i]} steps, lengths_of[{i}]={limits[i]}"
                        )

    def __len__(self):
        return len(_first(self.inputs))

    def lengths(self):
        """Steps of each example: `lengths_of`, or its (first) input's."""
        if self.lengths_of is not None:
            return np.asarray(self.lengths_of)
        first = _first(self.inputs)
        if isinstance(first, np.ndarray):
            return np.full(len(first), first.shape[1] if first.ndim > 1 else 1)
        return sequence_lengths(first)

    def batch(self, indices, length):
        """`(x, y)` of the examples at `indices`: the first input's sequences padded to
        `length`; other sequences (e.g. translation targets, of their own lengths) to the
        bucket length of their longest in the batch."""
        first = [True]
        return self._take(self.inputs, indices, length, first), self._take(
            self.targets, indices, length, first
        )

    def _take(self, part, indices, length, first):
        if isinstance(part, dict):
            return {name: self._take(value, indices, length, first) for name, value in part.items()}
        if isinstance(part, tuple):
            return tuple(self._take(value, indices, length, first) for value in part)
        if isinstance(part, np.ndarray):
            first[0] = False
            return part[indices]
        sequences = [part[i] for i in indices]
        if not first[0] and self.lengths_of is None:
            length = bucket_length(max((len(s) for s in sequences), default=1))
        first[0] = False
        return pad(sequences, length, self.pad_side)

    def subset(self, indices):
        """The examples at `indices`, in that order."""
        inputs, targets = self._subset(self.inputs, indices), self._subset(self.targets, indices)
        meta = {name: [values[i] for i in indices] for name, values in self.meta.items()}
        lengths_of = None if self.lengths_of is None else np.asarray(self.lengths_of)[indices]
        return Examples(inputs, targets, self.pad_side, meta, lengths_of)

    def _subset(self, part, indices):
        if isinstance(part, dict):
            return {name: self._subset(value, indices) for name, value in part.items()}
        if isinstance(part, tuple):
            return tuple(self._subset(value, indices) for value in part)
        if isinstance(part, np.ndarray):
            return part[indices]
        if hasattr(part, "subset"):  # sequences on disk (`rnnlab.data.ragged.RaggedTokens`): a view
            return part.subset(indices)
        return [part[i] for i in indices]


def sequence_lengths(sequences):
    """The length of each sequence of a list (or of a `RaggedTokens`, without reading it)."""
    if hasattr(sequences, "lengths"):
        return np.asarray(sequences.lengths())
    return np.array([len(s) for s in sequences], dtype=np.int64)


def _sequence_fields(part):
    """The lists of sequences (not fixed arrays) in `part`."""
    if isinstance(part, dict):
        return [f for value in part.values() for f in _sequence_fields(value)]
    if isinstance(part, tuple):
        return [f for value in part for f in _sequence_fields(value)]
    return [] if isinstance(part, np.ndarray) else [part]


def _first(part):
    if isinstance(part, dict):
        return _first(next(iter(part.values())))
    if isinstance(part, tuple):
        return _first(part[0])
    return part


@dataclass
class BatchOrder:
    """Which examples form each batch of each epoch, replayable from `(seed, epoch)`.

    Without bucketing, epoch e (0-based) visits the examples in permutation
    e + 2 drawn from `np.random.RandomState(seed)`: the order Keras' own
    `fit(shuffle=True)` uses on JAX after `keras.utils.set_random_seed(seed)`
    (its first draw goes to building the model), so results match a plain `fit`.
    With `bucket_boundaries`, examples of similar length are batched together
    (each batch padded to its bucket's length), shuffled within buckets and
    then across batches.

    Args:
        lengths: steps of each example.
        batch_size: examples per batch (a bucket's last batch may be smaller).
        shuffle: a new order every epoch; False keeps the examples' order.
        seed: seed of the order.
        fixed_length: pad every batch to this length (no bucketing).
        bucket_boundaries: bucket lengths, or None for no bucketing.
    """

    lengths: np.ndarray
    batch_size: int
    shuffle: bool = True
    seed: int = 0
    fixed_length: int | None = None
    bucket_boundaries: tuple | None = None

    def plan(self, epoch):
        """`[(length, indices), ...]`: the batches of `epoch` (0-based), in order."""
        n = len(self.lengths)
        if self.bucket_boundaries is None:
            order = np.arange(n)
            if self.shuffle:
                state = np.random.RandomState(self.seed)
                for _ in range(epoch + 2):  # Keras' fit draws once before its first epoch
                    order = state.permutation(n)
            length = self.fixed_length or int(max(self.lengths, default=1))
            return [(length, order[i : i + self.batch_size]) for i in range(0, n, self.batch_size)]
        rng = np.random.default_rng(self.seed)
        if not self.shuffle:
            return self._bucketed(rng)
        for _ in range(epoch + 1):  # each epoch's plan continues the same generator
            batches = self._bucketed(rng)
        return batches

    def _bucketed(self, rng):
        lengths = bucket_lengths(self.lengths, self.bucket_boundaries)
        batches = []
        for length in np.unique(lengths):
            members = np.flatnonzero(lengths == length)
            if self.shuffle:
                members = rng.permutation(members)
            for start in range(0, len(members), self.batch_size):
                batches.append((int(length), members[start : start + self.batch_size]))
        if self.shuffle:
            batches = [batches[i] for i in rng.permutation(len(batches))]
        return batches


@dataclass(frozen=True)
class Batching:
    """How a task batches its examples (a task's `batching(config)` declares it).

    Args:
        fixed_length: pad every batch to this length (None: to its longest example).
        bucket_boundaries: batch examples of similar length, padded to their bucket (None: no buckets).
        shuffle: a new seeded order every training epoch (False: the examples' order, e.g. for
            stateful streams).

    Example:
    >>> Batching(fixed_length=100).order(Examples([[1, 2], [3]], [0, 1]), 2, seed=0).plan(0)[0][0]
    100
    """

    fixed_length: int | None = None
    bucket_boundaries: tuple | None = None
    shuffle: bool = True

    def order(self, examples, batch_size, seed, shuffle=False):
        """The `BatchOrder` of `examples`; `shuffle` for training (if this batching shuffles)."""
        return BatchOrder(
            examples.lengths(),
            batch_size,
            shuffle=shuffle and self.shuffle,
            seed=seed,
            fixed_length=None if self.bucket_boundaries else self.fixed_length,
            bucket_boundaries=self.bucket_boundaries,
        )


def epoch_batches(examples, order, epoch, start=0, advance=False, shard=None):
    """A `keras.utils.PyDataset` of `order.plan(epoch)[start:]`.

    With `advance`, each epoch's end moves on to the next epoch's plan (for a
    single `fit` over many epochs). With `shard` (a `rnnlab.training.processes.Shard`),
    each batch is this process's part of it, and batches with fewer rows than devices are
    left out.
    """

    def plan(epoch):
        batches = order.plan(epoch)
        if shard is not None:  # a batch with fewer rows than devices is left out (in every process alike)
            batches = [(length, indices) for length, indices in batches if len(indices) >= shard.multiple]
        return batches

    class EpochBatches(keras.utils.PyDataset):
        def __init__(self):
            super().__init__()
            self.epoch = epoch
            self.plan = plan(epoch)[start:]

        def __len__(self):
            return len(self.plan)

        def __getitem__(self, index):
            length, indices = self.plan[index]
            return examples.batch(indices if shard is None else shard.rows(indices), length)

        def on_epoch_end(self):
            if advance:
                self.epoch += 1
                self.plan = plan(self.epoch)

    return EpochBatches()
