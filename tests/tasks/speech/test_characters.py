"""Character targets (`rnnlab train speech --targets characters`): FSDD's words spelled under CTC,
a character n-gram and a lexicon in beam search, CER and WER over words, and clear errors."""

import json

import numpy as np
import pytest

from rnnlab.audio.features import FeatureSettings
from rnnlab.cli import main
from rnnlab.ctc import greedy_decode, log_softmax, prefix_beam_search
from rnnlab.tasks.speech.language_model import LabelNgram, Lexicon
from rnnlab.tasks.speech.preprocessor import WORDS, SpeechPreprocessor, load_preprocessor

ALPHABET = list(" enotw")
TINY = "--epochs 1 --units 8 --num-layers 1 --limit 60 --no-bucket --targets characters".split()


def test_a_character_preprocessor_spells_saves_and_refuses_unknown_characters(tmp_path):
    lm = LabelNgram.fit_labels([[4, 3, 2], [5, 6, 4]], num_labels=6)
    p = SpeechPreprocessor("digit-strings", FeatureSettings(stack=3), lm, ALPHABET, ["two", "one"])
    assert p.targets == "characters" and p.num_classes == 6
    assert p.transcript("12") == "one two" and p.encode_text("one two") == [4, 3, 2, 1, 5, 6, 4]
    assert p.decode_labels([5, 6, 4, 0]) == "two"
    with pytest.raises(ValueError, match=r"characters outside the run's alphabet: \['x'\]"):
        p.encode_text("oxe")
    p.save(tmp_path / "p.json")
    again = load_preprocessor(tmp_path / "p.json")
    assert (again.alphabet, again.lexicon, again.lm.num_labels) == (ALPHABET, ["one", "two"], 6)
    assert again.lm.log_prob((4,), 3) == pytest.approx(lm.log_prob((4,), 3))
    assert load_preprocessor(tmp_path / "p.json").targets == "characters"


def test_a_lexicon_makes_beam_search_emit_only_its_words():
    def spelled(text):  # log-probabilities that spell `text` one character per step, blanks between
        steps = []
        for c in text:
            row = np.full(len(ALPHABET) + 1, 0.02)
            row[ALPHABET.index(c) + 1] = 0.6
            row[0] = 0.3
            steps += [row, np.eye(len(ALPHABET) + 1)[0] * 0.9 + 0.01]
        return np.log(np.array(steps))

    log_probs = log_softmax(spelled("onw"))
    log_probs[4, ALPHABET.index("e") + 1] = np.log(0.3)  # 'e' is the second choice at the third letter
    log_probs = log_softmax(log_probs)
    decode = SpeechPreprocessor("digits", FeatureSettings(), alphabet=ALPHABET).decode_labels
    assert decode(greedy_decode(log_probs)) == "onw"
    labels, _ = prefix_beam_search(log_probs, 16, lm=Lexicon(["one", "two"], ALPHABET))
    assert decode(labels) == "one"


@pytest.fixture(scope="module")
def character_run(real_fsdd, tmp_path_factory):
    folder = tmp_path_factory.mktemp("characters")
    (folder / "words.txt").write_text("\n".join(WORDS) + "\n\n", encoding="utf-8")
    run = folder / "run"
    args = [*TINY, "--mode", "digit-strings", "--lexicon", str(folder / "words.txt")]
    assert main(["train", "speech", *args, "--output", str(run)]) == 0
    return run


def test_a_character_run_reports_cer_and_wer_and_decodes_words(character_run, fsdd_wavs, capsys):
    from rnnlab.tasks.base import load_predictor

    metrics = json.loads((character_run / "metrics.json").read_text())
    assert {"test_cer", "test_wer", "test_string_accuracy"} <= set(metrics)
    predictor = load_predictor(character_run)
    assert set("".join(predictor.preprocessor.alphabet)) == set(" " + "".join(WORDS))
    for record in predictor.predict(fsdd_wavs, beam_size=8, lm="ngram+lexicon"):
        assert record["text"] and set(record["text"].split()) <= set(WORDS)
        assert np.asarray(record["posteriors"]).shape[1] == len(predictor.preprocessor.alphabet) + 1
    capsys.readouterr()
    assert main(["evaluate", str(character_run), "--beam-size", "4", "--lm", "lexicon"]) == 0
    assert "test_cer=" in capsys.readouterr().out


def test_a_character_export_decodes_as_its_run(character_run, fsdd_wavs, tmp_path):
    from rnnlab.export.runtime import ExportedSpeech
    from rnnlab.tasks.base import load_predictor

    assert main(["export", str(character_run), "--output", str(tmp_path / "export")]) == 0
    predictor, exported = load_predictor(character_run), ExportedSpeech(tmp_path / "export")
    for options in ({}, {"beam_size": 8, "lm": "ngram"}, {"beam_size": 8, "lm": "ngram+lexicon"}):
        want = [r["text"] for r in predictor.predict(fsdd_wavs, **options)]
        assert [r["text"] for r in exported.predict(fsdd_wavs, **options)] == want
    assert exported.manifest["labels"] == ["<blank>", *predictor.preprocessor.alphabet]


def test_character_settings_and_lexicons_are_checked(real_fsdd, tmp_path, capsys):
    bad = tmp_path / "bad.txt"
    bad.write_text("one\ntwo\nzwölf\n", encoding="utf-8")
    run = tmp_path / "run"
    assert main(["train", "speech", *TINY, "--lexicon", str(bad), "--output", str(run)]) == 2
    err = capsys.readouterr().err
    assert "bad.txt, line 3: the word 'zwölf' has characters outside" in err and not run.exists()
    for flags, message in (
        (["--lm", "grammar", "--beam-size", "4"], "lm='grammar' limits digit labels"),
        (["--lm", "lexicon", "--beam-size", "4"], "needs --targets characters and a --lexicon"),
    ):
        assert main(["train", "speech", *TINY, *flags, "--output", str(run)]) == 2
        assert message in capsys.readouterr().err and not run.exists()
    assert main(["train", "speech", "--lexicon", str(bad), "--output", str(run)]) == 2
    assert "add --targets characters" in capsys.readouterr().err
