"""The shared vocabulary with reserved indices, and BPE subwords with the same reserved ids."""

import numpy as np
import pytest

from rnnlab.text.vocabulary import END, PAD, START, UNK, Vocabulary


def test_reserved_first_then_by_frequency_ties_in_first_seen_order():
    vocab = Vocabulary.from_counts(["b", "a", "b", "c", "a", "d"], max_size=5)
    assert vocab.tokens == (PAD, START, UNK, "b", "a")  # a, b twice; c, d once: cut by max_size
    assert vocab.encode(["a", "zzz", "b"]).tolist() == [4, 2, 3]


def test_the_imdb_scheme_is_keras_datasets_imdb():
    # Keras' imdb: 0 padding, 1 start, 2 out-of-vocabulary, words from index 3 by frequency.
    vocab = Vocabulary.from_counts({"the": 10, "film": 4})
    assert [vocab.id_of(t) for t in (PAD, START, UNK, "the", "film")] == [0, 1, 2, 3, 4]


def test_decode_stops_at_end_and_skips_reserved():
    vocab = Vocabulary.from_counts({"hello": 2, "world": 1}, reserved=(PAD, START, UNK, END))
    ids = [
        vocab.id_of(START),
        vocab.id_of("hello"),
        vocab.id_of("world"),
        vocab.id_of(END),
        vocab.id_of("hello"),
    ]
    assert vocab.decode(ids) == ["hello", "world"]
    assert vocab.decode(ids, skip_reserved=False) == [START, "hello", "world"]


def test_round_trip_and_known_count():
    vocab = Vocabulary.from_counts({"ein": 3, "hund": 2}, min_count=2)
    again = Vocabulary.from_config(vocab.get_config())
    assert again.tokens == vocab.tokens
    assert vocab.known(["ein", "katze", "[PAD]"]) == 1


@pytest.mark.parametrize(
    "tokens, reserved, message",
    [
        (["[PAD]", "a"], ("[PAD]",), "holding '\\[UNK\\]'"),
        (["a", "[PAD]", "[UNK]"], ("[PAD]", "[UNK]"), "begin with the reserved"),
        (["[PAD]", "[UNK]", "a", "a"], ("[PAD]", "[UNK]"), "distinct"),
    ],
)
def test_bad_vocabularies_are_refused(tokens, reserved, message):
    with pytest.raises(ValueError, match=message):
        Vocabulary(tokens, reserved)


def test_max_size_must_leave_room_for_tokens():
    with pytest.raises(ValueError, match="Expected max_size > 3"):
        Vocabulary.from_counts({"a": 1}, max_size=3)


def test_bpe_keeps_the_reserved_ids_and_splits_unknown_words():
    from rnnlab.text.subwords import train_bpe

    texts = ["a good film<br />a great film", "a bad film", "goodness and greatness"] * 20
    tokenizer = train_bpe(texts, vocab_size=60, reserved=(PAD, START, UNK, END))
    assert [tokenizer.token_to_id(t) for t in (PAD, START, UNK, END)] == [0, 1, 2, 3]
    ids = tokenizer.encode("GOODNESS films", add_special_tokens=False).ids
    assert len(ids) >= 2 and min(ids) >= 4  # lower-cased, split into known pieces, none unknown
    assert "<" not in "".join(tokenizer.encode("a<br />b").tokens)  # HTML breaks removed
    assert np.all(np.array(ids) < tokenizer.get_vocab_size())
