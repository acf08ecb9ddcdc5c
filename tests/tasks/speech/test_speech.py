"""The speech task beyond the contract: digit strings, decoding settings,
transcription from the CLI, bad inputs, and the pieces it is made of."""

import json

import numpy as np
import pytest

from rnnlab.audio.features import FeatureSettings
from rnnlab.cli import main
from rnnlab.datasets.fsdd import Recording
from rnnlab.tasks.speech.config import SpeechConfig
from rnnlab.tasks.speech.preprocessor import SpeechPreprocessor, load_preprocessor
from rnnlab.tasks.speech.strings import make_strings

TINY = "--epochs 1 --units 8 --num-layers 1 --limit 40 --no-bucket".split()  # one padded length: one compile


def _pool(speakers=("a", "b"), takes=2):
    return [
        Recording(digit, speaker, index, np.full(100 + digit, digit + 1, "float32"))
        for speaker in speakers
        for digit in range(10)
        for index in range(takes)
    ]


def test_digit_strings_are_seeded_and_made_of_one_speakers_recordings():
    pool = _pool()
    strings = make_strings(pool, 50, seed=5, min_digits=2, max_digits=4)
    again = make_strings(pool, 50, seed=5, min_digits=2, max_digits=4)
    assert [s.text for s in strings] == [s.text for s in again]
    assert all(np.array_equal(a.audio, b.audio) for a, b in zip(strings, again, strict=True))
    assert [s.text for s in make_strings(pool, 50, seed=6, min_digits=2, max_digits=4)] != [
        s.text for s in strings
    ]
    for s in strings:
        assert 2 <= len(s.text) <= 4
        assert all(name.split("_")[1] == s.speaker for name in s.sources)
        assert [int(name.split("_")[0]) for name in s.sources] == [int(c) for c in s.text]
        speech = s.audio[s.audio != 0]  # the silences are zeros; each digit's samples are digit + 1
        assert len(speech) == sum(100 + int(c) for c in s.text)
    with pytest.raises(ValueError, match="all ten digits"):
        make_strings(pool[:5], 3)


def test_noise_is_added_at_the_asked_ratio():
    clean = make_strings(_pool(), 5, seed=1)
    noisy = make_strings(_pool(), 5, seed=1, noise_snr_db=10.0)
    for a, b in zip(clean, noisy, strict=True):
        snr = 10 * np.log10(np.mean(a.audio**2) / np.mean((b.audio - a.audio) ** 2))
        assert snr == pytest.approx(10.0, abs=0.5)


def test_config_refuses_settings_that_do_not_go_together():
    with pytest.raises(ValueError, match="min_digits <= max_digits"):
        SpeechConfig(min_digits=5, max_digits=3)
    with pytest.raises(ValueError, match="nothing to decode"):
        SpeechConfig(mode="digits", beam_size=4)
    with pytest.raises(ValueError, match="beam_size > 1"):
        SpeechConfig(mode="digit-strings", lm="ngram")
    with pytest.raises(ValueError, match="held_out_speaker"):
        SpeechConfig(held_out_speaker="alice")
    assert SpeechConfig(mode="digit-strings").frame_stack == 3 and SpeechConfig().frame_stack == 1
    with pytest.raises(ValueError, match="goes with --held-out-speaker"):
        SpeechConfig(valid_speaker="theo")
    with pytest.raises(ValueError, match="'theo' for both"):
        SpeechConfig(held_out_speaker="theo", valid_speaker="theo")
    with pytest.raises(ValueError, match="give augment >= 1"):
        SpeechConfig(vtlp=0.1)
    with pytest.raises(ValueError, match="give augment >= 1"):
        SpeechConfig(time_masks=2)


def test_a_validation_speaker_is_neither_trained_nor_tested_on(real_fsdd):
    from rnnlab.tasks.speech.task import recording_pools

    config = SpeechConfig(held_out_speaker="jackson", valid_speaker="theo")
    train, validation, test = recording_pools(config)
    assert {r.speaker for r in validation} == {"theo"} and len(validation) == 500
    assert {r.speaker for r in test} == {"jackson"} and len(test) == 500
    assert "theo" not in {r.speaker for r in train} and len(train) == 2000
    assert recording_pools(config)[1] == validation  # seeded order
    limited = recording_pools(SpeechConfig(held_out_speaker="jackson", valid_speaker="theo", limit=30))
    assert [len(part) for part in limited] == [30, 30, 30]


def test_preprocessor_round_trip_and_damaged_files(tmp_path):
    from rnnlab.tasks.speech.language_model import LabelNgram

    p = SpeechPreprocessor("digit-strings", FeatureSettings(stack=3), LabelNgram.fit(["12", "345"]))
    p.save(tmp_path / "p.json")
    again = load_preprocessor(tmp_path / "p.json")
    assert again.features == p.features and again.lm.counts == p.lm.counts
    assert again.encode_text("0912") == [1, 10, 2, 3] and again.decode_labels([1, 10, 0, 2]) == "091"
    for text in ("", "12a", "١٢"):  # empty, a letter, Arabic-Indic digits
        with pytest.raises(ValueError, match="digits 0-9"):
            p.encode_text(text)
    config = json.loads((tmp_path / "p.json").read_text())
    config["features"]["hop_ms"] = "fast"
    del config["features"]["n_mels"]
    (tmp_path / "bad.json").write_text(json.dumps(config))
    with pytest.raises(ValueError, match="Cannot read a speech preprocessor"):
        load_preprocessor(tmp_path / "bad.json")
    (tmp_path / "other.json").write_text(json.dumps({"kind": "translation"}))
    with pytest.raises(ValueError, match="not a speech preprocessor"):
        load_preprocessor(tmp_path / "other.json")


def test_padding_frames_do_not_change_the_outputs():
    from rnnlab.models.acoustic import build_acoustic_model

    rng = np.random.default_rng(0)
    frames = rng.normal(size=(1, 12, 6)).astype("float32")
    padded = np.concatenate([frames, np.zeros((1, 5, 6), "float32")], axis=1)
    digit = build_acoustic_model(6, 10, output="digit", units=4, num_layers=2)
    np.testing.assert_allclose(digit(frames), digit(padded), atol=1e-6)
    ctc = build_acoustic_model(6, 10, output="ctc", units=4, num_layers=1)
    np.testing.assert_allclose(ctc(frames), np.asarray(ctc(padded))[:, :12], atol=1e-6)
    with pytest.raises(ValueError, match="output"):
        build_acoustic_model(6, 10, output="words")


@pytest.fixture(scope="module")
def strings_run(real_fsdd, tmp_path_factory):
    run = tmp_path_factory.mktemp("strings") / "run"
    assert main(["train", "speech", "--mode", "digit-strings", *TINY, "--output", str(run)]) == 0
    return run


def test_digit_strings_report_cer_and_wer_and_decode_with_a_language_model(strings_run):
    metrics = json.loads((strings_run / "metrics.json").read_text())
    assert (metrics["num_test"], metrics["num_train"], metrics["num_validation"]) == (40, 40, 8)
    assert metrics["test_wer"] == metrics["test_cer"]  # one digit = one word
    assert main(["evaluate", str(strings_run), "--beam-size", "4", "--lm", "ngram"]) == 0
    evaluation = json.loads((strings_run / "evaluation-beam_size-4-lm-ngram.json").read_text())
    assert evaluation["settings"] == {"beam_size": 4, "lm": "ngram"} and "test_cer" in evaluation
    assert evaluation["test_loss"] == pytest.approx(metrics["test_loss"], rel=1e-5)


def test_transcribe_prints_digits_and_plots_the_ctc_alignment(strings_run, fsdd_wavs, tmp_path, capsys):
    capsys.readouterr()
    plot = tmp_path / "ctc.png"
    assert main(["transcribe", str(strings_run), *fsdd_wavs, "--beam", "4", "--lm", "grammar",
                 "--plot", str(plot)]) == 0  # fmt: skip
    lines = capsys.readouterr().out.splitlines()
    assert [line.split("\t")[1] for line in lines] == fsdd_wavs
    assert all(set(line.split("\t")[0]) <= set("0123456789") for line in lines)
    assert plot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_transcribing_bad_files_is_a_clear_error(strings_run, tmp_path, capsys):
    bad = tmp_path / "notes.wav"
    bad.write_text("最後の音声ではない", encoding="utf-8")
    capsys.readouterr()
    assert main(["transcribe", str(strings_run), str(bad)]) == 2
    err = capsys.readouterr().err
    assert "notes.wav is not a readable sound file" in err and "Traceback" not in err
    assert main(["transcribe", str(strings_run), str(tmp_path / "missing.wav")]) == 2
    assert "no such file" in capsys.readouterr().err
    assert main(["transcribe", str(strings_run), str(bad), "--beam", "0"]) == 2
    assert "Expected beam_size >= 1" in capsys.readouterr().err
    assert main(["transcribe", str(strings_run), str(bad), "--beam", "100000"]) == 2
    assert "Expected beam_size <= 256. Received: beam_size=100000" in capsys.readouterr().err


def test_a_digits_run_gives_a_probability_and_refuses_decoding_flags(real_fsdd, fsdd_wavs, tmp_path, capsys):
    run = tmp_path / "digits"
    assert main(["train", "speech", *TINY, "--output", str(run)]) == 0
    capsys.readouterr()
    plot = tmp_path / "digit.png"
    assert main(["transcribe", str(run), fsdd_wavs[0], "--plot", str(plot)]) == 0
    digit, probability, name = capsys.readouterr().out.strip().split("\t")
    assert digit in "0123456789" and 0.0 < float(probability) <= 1.0 and name == fsdd_wavs[0]
    assert plot.stat().st_size > 1000
    assert main(["transcribe", str(run), fsdd_wavs[0], "--lm", "ngram"]) == 2
    assert "this run classifies digits" in capsys.readouterr().err
    assert main(["evaluate", str(run), "--beam-size", "4"]) == 2
    assert "nothing to decode" in capsys.readouterr().err


def test_transcribe_needs_a_speech_run(tmp_path, small_imdb, capsys, fsdd_wavs):
    run = tmp_path / "sentiment"
    args = "--epochs 1 --units 4 --embedding-dim 4 --max-features 40 --maxlen 20 --limit 40".split()
    assert main(["train", "sentiment", *args, "--output", str(run)]) == 0
    capsys.readouterr()
    assert main(["transcribe", str(run), fsdd_wavs[0]]) == 2
    assert "needs a speech run" in capsys.readouterr().err


def test_beam_1_means_greedy_even_for_a_run_decoded_with_a_language_model(
    strings_run, fsdd_wavs, monkeypatch
):
    import dataclasses

    from rnnlab.tasks.base import load_predictor
    from rnnlab.tasks.speech import decoding

    predictor = load_predictor(strings_run)
    predictor.config = dataclasses.replace(predictor.config, beam_size=8, lm="ngram")
    seen = []
    real = decoding.decode
    monkeypatch.setattr(
        decoding, "decode", lambda logits, config, p: seen.append(config) or real(logits, config, p)
    )
    predictor.transcribe(fsdd_wavs[:1], beam_size=1)
    assert (seen[-1].beam_size, seen[-1].lm) == (1, "none")
    predictor.transcribe(fsdd_wavs[:1], lm="grammar")
    assert (seen[-1].beam_size, seen[-1].lm) == (8, "grammar")


def test_strings_too_short_for_ctc_are_a_clear_error():
    from rnnlab.tasks.speech.task import check_ctc_steps

    check_ctc_steps(3, [2, 3, 2], 3)
    check_ctc_steps(3, [2, 2], 3)  # 1, blank, 1
    with pytest.raises(
        ValueError, match="x.wav: a transcript of 3 labels has 4 steps, fewer than the 5 CTC needs"
    ):
        check_ctc_steps(4, [2, 2, 2], 16, name="x.wav")
