"""What is measured: the article's model and its LSTM/GRU variants, one larger
setting, an attention encoder-decoder for translation (rates in target tokens/s),
and a word-level language model (rates in training tokens/s)."""

from dataclasses import asdict, dataclass

GATES = {"simple": 1, "lstm": 4, "gru": 3}


@dataclass(frozen=True)
class Workload:
    """One model shape and mode.

    Args:
        cell: 'simple', 'lstm' or 'gru'.
        mode: 'train' (forward, backward and Adam update) or 'infer' (forward only).
        batch_size: reviews per step.
        maxlen, vocab_size, embedding_dim, units: the model (article: 100, 10000, 32, 64).
    """

    kind = "classifier"
    unit = "samples"
    cell: str
    mode: str = "train"
    batch_size: int = 32
    maxlen: int = 100
    vocab_size: int = 10000
    embedding_dim: int = 32
    units: int = 64

    @property
    def name(self):
        size = "" if (self.maxlen, self.units) == (100, 64) else f"/T{self.maxlen}-H{self.units}"
        return f"{self.cell}/{self.mode}/b{self.batch_size}{size}"

    def flops_per_sample(self):
        """Matrix-multiply FLOPs per review: forward, or forward + backward (x3) for training."""
        gates = GATES[self.cell]
        recurrent = self.maxlen * 2 * gates * self.units * (self.embedding_dim + self.units)
        forward = recurrent + 2 * self.units
        return 3 * forward if self.mode == "train" else forward

    @property
    def per_batch(self):
        """Units (here: reviews) per batch."""
        return self.batch_size

    def to_dict(self):
        return {**asdict(self), "name": self.name, "kind": self.kind, "unit": self.unit}


@dataclass(frozen=True)
class Seq2SeqWorkload:
    """An encoder-decoder training step (`rnnlab.models.seq2seq`): a bidirectional
    encoder, a decoder started from the encoder's state, attention, logits over the
    target vocabulary; no padding, no dropout. Rates count target tokens.

    Args:
        cell: 'gru' or 'lstm'.
        attention: 'luong', 'bahdanau' or 'none'.
        batch_size: sentence pairs per step.
        source_len, target_len: steps of source and decoder input.
        vocab_size: subwords of each language.
        embedding_dim, units: sizes (units per encoder direction and of the decoder).
    """

    kind = "seq2seq"
    unit = "target tokens"
    cell: str = "gru"
    attention: str = "luong"
    mode: str = "train"
    batch_size: int = 64
    source_len: int = 24
    target_len: int = 24
    vocab_size: int = 8000
    embedding_dim: int = 256
    units: int = 256

    def __post_init__(self):
        if self.mode != "train":
            raise ValueError(f"Expected mode='train' for a Seq2SeqWorkload. Received: mode={self.mode!r}")

    @property
    def name(self):
        return f"seq2seq-{self.cell}-{self.attention}/{self.mode}/b{self.batch_size}"

    @property
    def per_batch(self):
        return self.batch_size * self.target_len

    def flops_per_sample(self):
        """Matrix-multiply FLOPs per target token, forward + backward (x3)."""
        gates, e, u, s, t = GATES[self.cell], self.embedding_dim, self.units, self.source_len, self.target_len
        encoder = 2 * s * 2 * gates * u * (e + u)  # two directions
        decoder = t * 2 * gates * u * (e + u)
        attention = 0
        if self.attention != "none":  # context over 2u-wide encoder outputs, then tanh(W [h; c])
            attention = t * s * 2 * (2 * u) + t * 2 * (3 * u) * u
            if self.attention == "luong":  # h W (u x 2u), then 2u-wide dot products
                attention += t * 2 * u * (2 * u) + t * s * 2 * (2 * u)
            else:  # W_q h (u x u), W_k s (2u x u), v . tanh(...) (u wide)
                attention += t * 2 * u * u + s * 2 * (2 * u) * u + t * s * 2 * u
        logits = t * 2 * u * self.vocab_size
        return 3 * (encoder + decoder + attention + logits) / t

    def to_dict(self):
        return {**asdict(self), "name": self.name, "kind": self.kind, "unit": self.unit}


@dataclass(frozen=True)
class LMWorkload:
    """A word-level language-model training step with the structure of pytorch/examples
    `word_language_model`: embedding, dropout, stacked LSTMs with dropout between them,
    dropout, logits over the vocabulary; the states carried from one window to the
    next (stateful; see `rnnlab.bench.worker` for each peer). The defaults are that
    example's (200 units, 2 layers, 35 steps, batch 20, dropout 0.2) on PTB's 10,000
    words. Rates count training tokens.

    Args:
        cell: 'lstm', 'gru' or 'simple'.
        batch_size: parallel streams (rows) per step.
        seq_len: steps per window (truncated BPTT length).
        vocab_size, embedding_dim, units, num_layers: the model.
    """

    kind = "lm"
    unit = "tokens"
    cell: str = "lstm"
    mode: str = "train"
    batch_size: int = 20
    seq_len: int = 35
    vocab_size: int = 10000
    embedding_dim: int = 200
    units: int = 200
    num_layers: int = 2

    def __post_init__(self):
        if self.mode != "train":
            raise ValueError(f"Expected mode='train' for an LMWorkload. Received: mode={self.mode!r}")

    @property
    def name(self):
        return f"lm-{self.cell}-{self.num_layers}x{self.units}/{self.mode}/b{self.batch_size}"

    @property
    def per_batch(self):
        return self.batch_size * self.seq_len

    def flops_per_sample(self):
        """Matrix-multiply FLOPs per training token, forward + backward (x3)."""
        gates, e, u = GATES[self.cell], self.embedding_dim, self.units
        recurrent = 2 * gates * u * (e + u) + (self.num_layers - 1) * 2 * gates * u * (2 * u)
        return 3 * (recurrent + 2 * u * self.vocab_size)

    def to_dict(self):
        return {**asdict(self), "name": self.name, "kind": self.kind, "unit": self.unit}


def workload_from_dict(spec):
    """A `Workload`, `Seq2SeqWorkload` or `LMWorkload` from its `to_dict()`."""
    kinds = {"classifier": Workload, "seq2seq": Seq2SeqWorkload, "lm": LMWorkload}
    kind = spec.get("kind", "classifier")
    if kind not in kinds:
        raise ValueError(f"Expected a workload kind in {set(kinds)}. Received: {kind!r}")
    return kinds[kind](**{k: v for k, v in spec.items() if k not in ("name", "kind", "unit")})


def translation_suite():
    """The translation workload (`rnnlab bench --translation`): a Luong-attention GRU
    encoder-decoder at the size of `recipes/translation/luong-gru-60min.toml`."""
    return [Seq2SeqWorkload()]


def lm_suite():
    """The language-model workload (`rnnlab bench --lm`): a 2-layer LSTM word LM at
    pytorch/examples `word_language_model`'s default size."""
    return [LMWorkload()]


def full_suite():
    """Every workload of the full benchmark."""
    suite = [Workload(cell, "train", batch) for cell in GATES for batch in (32, 128)]
    suite += [Workload(cell, "infer", 256) for cell in GATES]
    suite += [Workload(cell, "train", 32, maxlen=400, units=256) for cell in GATES]
    return suite


def quick_suite():
    """The article's model, training at batch 32."""
    return [Workload("simple", "train", 32)]
