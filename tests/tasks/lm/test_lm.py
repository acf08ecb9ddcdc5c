"""The language-model task beyond the contract: windows, the preprocessor, metrics,
word-level corpora in PTB format, and `rnnlab generate`."""

import hashlib
import json

import numpy as np
import pytest

from rnnlab.cli import main
from rnnlab.tasks.lm.config import LMConfig
from rnnlab.tasks.lm.preprocessor import LMPreprocessor, load_preprocessor, stream_windows, windows

TINY = "--epochs 1 --units 8 --embedding-dim 8 --num-layers 1 --seq-len 16 --batch-size 16".split()


def test_windows_predict_the_next_token():
    inputs, targets = windows(np.arange(10), 3)
    assert inputs.tolist() == [[0, 1, 2], [3, 4, 5], [6, 7, 8]]
    assert targets.tolist() == [[1, 2, 3], [4, 5, 6], [7, 8, 9]]
    with pytest.raises(ValueError, match="at least 4 tokens"):
        windows(np.arange(3), 3)


def test_stream_windows_continue_row_by_row():
    inputs, targets = stream_windows(np.arange(1, 24), rows=2, seq_len=4)
    # part 0 is 1..11, part 1 is 12..22 (23 is only a target); batch k = rows 2k, 2k + 1
    assert inputs.tolist() == [[1, 2, 3, 4], [12, 13, 14, 15], [5, 6, 7, 8], [16, 17, 18, 19],
                               [9, 10, 11, 0], [20, 21, 22, 0]]  # fmt: skip
    assert (targets[inputs > 0] == inputs[inputs > 0] + 1).all() and (targets[inputs == 0] == 0).all()
    with pytest.raises(ValueError, match="at least 4 tokens to make 3 parallel streams"):
        stream_windows(np.arange(3), rows=3, seq_len=2)


def test_subword_preprocessor_joins_documents_with_start(tmp_path):
    reviews = ["A good film, truly good.", "A dull film.", "Good acting; dull plot."] * 20
    p = LMPreprocessor.fit(reviews, "subword", max_size=60)
    ids = p.encode(reviews[:2])
    assert len(p) <= 60 and ids[0] == 1 and (ids == 1).sum() == 2  # [START] before each review
    assert p.decode(p.encode("a good film")) == "a good film" and p.banned == (0, 1, 2)
    p.save(tmp_path / "p.json")
    again = load_preprocessor(tmp_path / "p.json")
    assert again.encode(reviews[:2]).tolist() == ids.tolist()
    with pytest.raises(ValueError, match="list of documents"):
        LMPreprocessor.fit("one text", "subword")


def test_preprocessor_round_trip_and_damaged_files(tmp_path):
    chars = LMPreprocessor.fit("hello world", "char")
    assert chars.decode(chars.encode("hello")) == "hello" and chars.unknown("hellø") == 1
    words = LMPreprocessor.fit("the cat sat on the mat".split(), "word", max_size=5)
    assert len(words) == 5 and words.decode(words.encode("the cat")) == "the cat"
    words.save(tmp_path / "p.json")
    again = load_preprocessor(tmp_path / "p.json")
    assert again.vocabulary.tokens == words.vocabulary.tokens and again.level == "word"
    (tmp_path / "bad.json").write_text(json.dumps({"kind": "lm", "level": "byte", "vocabulary": {}}))
    with pytest.raises(ValueError, match="Cannot read a language-model preprocessor"):
        load_preprocessor(tmp_path / "bad.json")
    (tmp_path / "other.json").write_text("[1, 2]")
    with pytest.raises(ValueError, match="not a language-model preprocessor"):
        load_preprocessor(tmp_path / "other.json")


def test_config_checks_weight_tying():
    with pytest.raises(ValueError, match="units == embedding_dim"):
        LMConfig(tie_weights=True, units=64, embedding_dim=32)
    assert LMConfig().token_level == "char" and LMConfig(corpus="wikitext-2").token_level == "word"
    assert LMConfig(corpus="imdb").token_level == "subword"
    with pytest.raises(ValueError, match="stateful training keeps one state per batch row"):
        LMConfig(stateful=True, data_parallel=True)


@pytest.fixture(scope="module")
def char_run(real_tinyshakespeare, tmp_path_factory):
    run = tmp_path_factory.mktemp("lm") / "run"
    assert main(["train", "lm", *TINY, "--limit", "3000", "--output", str(run)]) == 0
    return run


def test_metrics_are_nats_and_bits_per_character(char_run):
    metrics = json.loads((char_run / "metrics.json").read_text())
    assert metrics["corpus"] == "tinyshakespeare"
    assert metrics["val_bpc"] == pytest.approx(metrics["val_loss"] / np.log(2))
    assert metrics["test_bpc"] == pytest.approx(metrics["test_loss"] / np.log(2))
    assert metrics["num_train"] == (3000 - 1) // 16


def test_stateful_training_reads_parallel_streams_and_evaluates_exactly(real_tinyshakespeare, tmp_path):
    run = tmp_path / "stateful"
    assert main(["train", "lm", *TINY, "--stateful", "--limit", "3000", "--output", str(run)]) == 0
    metrics = json.loads((run / "metrics.json").read_text())
    assert metrics["stateful"] is True and metrics["num_train"] == 16 * -(-((3000 - 1) // 16) // 16)
    assert metrics["test_loss"] == pytest.approx(metrics["val_loss"], rel=1e-5)  # states reset before each
    assert main(["evaluate", str(run)]) == 0
    again = json.loads((run / "evaluation.json").read_text())
    assert again["test_loss"] == pytest.approx(metrics["test_loss"], rel=1e-5)


def test_generate_is_seeded_and_refuses_bad_settings(char_run, tmp_path, capsys):
    capsys.readouterr()
    args = ["generate", str(char_run), "--prompt", "ROMEO:", "--length", "50", "--seed", "3"]
    assert main(args) == 0
    first = capsys.readouterr().out
    assert main(args) == 0
    assert (
        capsys.readouterr().out == first and first.startswith("ROMEO:") and len(first) == len("ROMEO:") + 51
    )
    assert main(["generate", str(char_run), "--prompt", "ROMEO: 你好"]) == 0
    assert "never seen in training" in capsys.readouterr().err
    for extra, message in [
        (["--temperature", "0"], "Expected temperature > 0"),
        (["--length", "0"], "Expected length >= 1"),
        (["--top-k", "0"], "top_k >= 1"),
    ]:
        assert main(["generate", str(char_run), "--prompt", "A", *extra]) == 2
        assert message in capsys.readouterr().err
    assert main(["generate", str(char_run), "--prompt", ""]) == 2
    assert "non-empty prompt" in capsys.readouterr().err


PTB = [" the cat sat on the mat ", " a <unk> dog ran N miles ", " the dog sat "] * 40


def test_a_word_corpus_in_ptb_format_trains_and_reports_perplexity(tmp_path, monkeypatch, cache, capsys):
    from rnnlab.datasets import word_corpora

    folder = tmp_path / "datasets" / "ptb"
    folder.mkdir(parents=True)
    for split in word_corpora.SPLITS:
        data = ("\n".join(PTB) + "\n").encode()
        (folder / f"ptb.{split}.txt").write_bytes(data)
        monkeypatch.setitem(word_corpora.PTB_MD5, split, "md5:" + hashlib.md5(data).hexdigest())
        monkeypatch.setitem(word_corpora.PTB_LINES, split, len(PTB))
    monkeypatch.setenv("RNNLAB_DATASETS", str(tmp_path / "datasets"))
    run = tmp_path / "ptb-run"
    assert main(["train", "lm", "--corpus", "ptb", *TINY, "--output", str(run)]) == 0
    metrics = json.loads((run / "metrics.json").read_text())
    assert metrics["val_perplexity"] == pytest.approx(np.exp(metrics["val_loss"]))
    assert metrics["corpus"] == "ptb" and "val_bpc" not in metrics
    capsys.readouterr()
    assert main(["generate", str(run), "--prompt", "the cat", "--length", "5", "--seed", "0"]) == 0
    words = capsys.readouterr().out.split()
    assert words[:2] == ["the", "cat"] and len(words) == 7


def test_generate_needs_an_lm_run(char_run, real_fsdd, fsdd_wavs, tmp_path, capsys):
    run = tmp_path / "speech"
    assert main(["train", "speech", "--epochs", "1", "--units", "4", "--num-layers", "1", "--limit", "20",
                 "--no-bucket", "--output", str(run)]) == 0  # fmt: skip
    capsys.readouterr()
    assert main(["generate", str(run), "--prompt", "hello"]) == 2
    assert "needs an lm run" in capsys.readouterr().err


@pytest.mark.parametrize("name, units, published", [("ptb-small", 200, 114.5), ("ptb-medium", 650, 82.7)])
def test_zaremba_recipes_build_the_papers_models(name, units, published):
    import tomllib
    from pathlib import Path

    from rnnlab import config as configs
    from rnnlab.tasks import get_task

    path = Path(__file__).parents[3] / "recipes" / "lm" / f"{name}.toml"
    assert str(published) in path.read_text()
    values = tomllib.loads(path.read_text())
    config = configs.resolve(LMConfig, path)
    assert {key: getattr(config, key) for key in values} == values
    assert config.stateful and config.optimizer == "sgd" and config.lr_schedule == "step"
    vocab = 10_002  # PTB's 10,000 words (with <unk> and <eos>) + padding + rnnlab's unknown
    model = get_task("lm").build_model(config, range(vocab))
    lstm = 4 * units * (units + units + 1)  # each layer: 4 gates over [input; state] + bias
    trainable = sum(int(np.prod(w.shape)) for w in model.trainable_weights)
    assert trainable == vocab * units + 2 * lstm + units * vocab + vocab


def test_imdb_subword_lm_never_reads_test_reviews_and_reports_word_perplexity(imdb_lm, capsys):
    from rnnlab.tasks.lm.task import first_words, imdb_streams, tokens_per_word

    streams = imdb_streams()
    assert len(streams["train"]) == 73_000 and len(streams["valid"]) == 2_000
    assert streams["test"] is streams["valid"]
    from rnnlab.datasets import imdb

    allowed = imdb.load_texts("train")[0] + imdb.load_texts("unsup")[0]  # (a few test texts recur here)
    assert sorted(streams["train"] + streams["valid"]) == sorted(allowed)
    kept = first_words(["a b c", "d e", "f g h"], 4)
    assert kept == ["a b c", "d"]
    run = imdb_lm  # --limit 3000 --max-vocab 200 --stateful
    metrics = json.loads((run / "metrics.json").read_text())
    preprocessor = load_preprocessor(run / "preprocessor.json")
    ratio = tokens_per_word(first_words(streams["test"], 3000), preprocessor)
    assert (
        metrics["corpus"] == "imdb" and metrics["stateful"] and 1.0 < ratio < 4.0 and len(preprocessor) <= 200
    )
    assert metrics["test_word_perplexity"] == pytest.approx(np.exp(metrics["test_loss"] * ratio), rel=1e-6)
    assert metrics["val_perplexity"] == pytest.approx(np.exp(metrics["val_loss"]))
    capsys.readouterr()
    assert main(["generate", str(run), "--prompt", "This movie", "--length", "5", "--seed", "0"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("This movie") and len(out) > len("This movie")


def test_init_from_starts_from_the_runs_vocabulary_and_weights(imdb_lm, char_run, capsys):
    from keras import ops

    from rnnlab import config as configs
    from rnnlab.tasks import get_task
    from rnnlab.tasks.base import load_run_model
    from rnnlab.tasks.lm.preprocessor import load_preprocessor

    task = get_task("lm")
    config = configs.resolve(
        task.config_cls,
        overrides={"corpus": "imdb", "limit": 3000, "init_from": str(imdb_lm), "units": 16, "seq_len": 16,
                   "batch_size": 4, "stateful": True},
    )  # fmt: skip
    preprocessor = task.make_preprocessor(config)
    source_preprocessor = load_preprocessor(imdb_lm / "preprocessor.json")
    text = "a wonderful film, really"
    assert len(preprocessor) == len(source_preprocessor)
    assert list(preprocessor.encode(text)) == list(source_preprocessor.encode(text))
    prepared = task.prepare(config, preprocessor)
    config = prepared.config
    assert "units=8" in capsys.readouterr().out and config.units == 8 and config.embedding_dim == 8
    model = task.build_model(config, preprocessor, prepared.start)
    source = load_run_model(imdb_lm)
    for layer in model.layers:
        for got, want in zip(
            layer.trainable_weights, source.get_layer(layer.name).trainable_weights, strict=True
        ):
            np.testing.assert_array_equal(ops.convert_to_numpy(got), ops.convert_to_numpy(want))

    with pytest.raises(ValueError, match="a char-level model cannot start a subword-level run"):
        task.make_preprocessor(
            configs.resolve(task.config_cls, overrides={"corpus": "imdb", "init_from": str(char_run)})
        )
