"""The translation preprocessor: reversible subwords (punctuation split off words),
shared or separate vocabularies, and saving."""

import pytest

from rnnlab.tasks.translation.preprocessor import (
    END_ID,
    START_ID,
    TranslationPreprocessor,
    load_preprocessor,
)

DE = ["Ein Mann fährt Fahrrad.", "Zwei Hunde spielen im Schnee.", "Eine Frau, die singt!"] * 5
EN = ["A man rides a bike.", "Two dogs play in the snow.", "A woman, who sings!"] * 5


def test_punctuation_is_its_own_piece_and_text_comes_back_exactly():
    p = TranslationPreprocessor.train(DE, EN, vocab_size=200, max_len=40)
    assert "." in p.target_tokens(p.encode_target(["A man rides a bike."])[0])
    assert "▁bike." not in p.target.get_vocab()
    for sentence in ["A woman, who sings!", "Two dogs, a man... in the snow!"]:
        ids = p.encode_target([sentence])[0]
        assert ids[0] == START_ID and ids[-1] == END_ID
        assert p.decode_target(ids[1:-1]) == sentence


def test_shared_vocabulary_is_one_model_for_both_languages(tmp_path):
    p = TranslationPreprocessor.train(DE, EN, vocab_size=200, max_len=40, shared=True)
    assert p.source_vocab == p.target_vocab
    assert p.source.get_vocab() == p.target.get_vocab()
    assert "▁Hunde" in p.target.get_vocab() and "▁dogs" in p.source.get_vocab()
    p.save(tmp_path / "p.json")
    loaded = load_preprocessor(tmp_path / "p.json")
    assert loaded.encode_source(DE[:2])[1].tolist() == p.encode_source(DE[:2])[1].tolist()


def test_separate_vocabularies_differ():
    p = TranslationPreprocessor.train(DE, EN, vocab_size=200, max_len=40)
    assert "▁Hunde" in p.source.get_vocab() and "▁Hunde" not in p.target.get_vocab()


@pytest.mark.parametrize("content", ["", "[1, 2]", '{"kind": "sentiment"}', '{"kind": "translation"}'])
def test_bad_preprocessor_files(tmp_path, content):
    path = tmp_path / "p.json"
    path.write_text(content)
    with pytest.raises(ValueError, match="translation preprocessor"):
        load_preprocessor(path)
