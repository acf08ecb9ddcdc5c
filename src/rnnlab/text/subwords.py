"""Byte-pair-encoding subwords trained with the `tokenizers` library, with
rnnlab's reserved tokens at the first ids (shared by every text task).

Example:
>>> tokenizer = train_bpe(["a good film", "a bad film"], vocab_size=40)  # doctest: +SKIP
>>> tokenizer.token_to_id("[PAD]"), tokenizer.token_to_id("[UNK]")  # doctest: +SKIP
(0, 2)
"""

from rnnlab.optional import require
from rnnlab.text.vocabulary import DEFAULT_RESERVED, UNK


def train_bpe(
    texts, vocab_size, reserved=DEFAULT_RESERVED, lowercase=True, strip_html=True, reversible=False
):
    """A trained `tokenizers.Tokenizer` (BPE) whose first ids are `reserved`.

    Args:
        texts: training texts (never test texts).
        vocab_size: subwords including the reserved tokens.
        reserved: reserved tokens, ids 0.. in order; must contain `[UNK]`.
        lowercase: lower-case before splitting.
        strip_html: replace HTML line breaks (`<br />`) by spaces.
        reversible: mark word starts with SentencePiece's "▁" (spaces are kept
            as pieces) and split punctuation and digits off words, with the
            matching decoder, so `tokenizer.decode(ids)` gives the text back (for
            generated text: translations); otherwise words and punctuation are
            split apart and spacing is lost.
    """
    require("tokenizers", "BPE subwords")
    from tokenizers import Regex, Tokenizer, decoders, models, normalizers, pre_tokenizers, trainers

    if UNK not in reserved:
        raise ValueError(f"Expected {UNK!r} among the reserved tokens. Received: {reserved}")
    tokenizer = Tokenizer(models.BPE(unk_token=UNK))
    steps = [normalizers.Replace(Regex(r"<br\s*/?>"), " ")] if strip_html else []
    steps.append(normalizers.NFKC())
    if lowercase:
        steps.append(normalizers.Lowercase())
    tokenizer.normalizer = normalizers.Sequence(steps)
    if reversible:
        tokenizer.pre_tokenizer = pre_tokenizers.Sequence(
            [
                pre_tokenizers.Metaspace(),
                pre_tokenizers.Punctuation(behavior="isolated"),  # "bushes." -> "▁bushes", "."
                pre_tokenizers.Digits(individual_digits=False),
            ]
        )
        tokenizer.decoder = decoders.Metaspace()
    else:
        tokenizer.pre_tokenizer = pre_tokenizers.Sequence(
            [pre_tokenizers.Whitespace(), pre_tokenizers.Digits(individual_digits=False)]
        )
    trainer = trainers.BpeTrainer(vocab_size=vocab_size, special_tokens=list(reserved), show_progress=False)
    tokenizer.train_from_iterator(texts, trainer)
    return tokenizer
