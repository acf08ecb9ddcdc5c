"""The benchmark harness: FLOP counts, aggregation, and a real worker on a tiny model."""

import subprocess
import sys

import pytest

from rnnlab.backend import is_available
from rnnlab.bench import runner
from rnnlab.bench.workloads import (
    LMWorkload,
    Seq2SeqWorkload,
    Workload,
    full_suite,
    quick_suite,
    workload_from_dict,
)


def test_flops_per_sample_by_hand():
    # SimpleRNN, T=100, D=32, H=64: 100 * 2 * (32*64 + 64*64) + 2*64, tripled for training
    assert Workload("simple", "infer").flops_per_sample() == 100 * 2 * (32 * 64 + 64 * 64) + 128
    assert Workload("lstm", "train").flops_per_sample() == 3 * (100 * 2 * 4 * 64 * (32 + 64) + 128)


def test_suites_cover_the_issue():
    names = {w.name for w in full_suite()}
    assert {"simple/train/b32", "lstm/train/b128", "gru/infer/b256", "gru/train/b32/T400-H256"} <= names
    assert [w.name for w in quick_suite()] == ["simple/train/b32"]


def test_seq2seq_flops_by_hand_and_round_trip():
    w = Seq2SeqWorkload(
        "gru", "none", batch_size=2, source_len=3, target_len=4, vocab_size=10, embedding_dim=5, units=6
    )
    # encoder 2 directions * 3 steps, decoder 4 steps, each 2*3*6*(5+6); logits 4 * 2*6*10; per target token
    expected = 3 * (2 * 3 * 2 * 3 * 6 * 11 + 4 * 2 * 3 * 6 * 11 + 4 * 2 * 6 * 10) / 4
    assert w.flops_per_sample() == pytest.approx(expected)
    assert w.per_batch == 8 and w.name == "seq2seq-gru-none/train/b2"
    assert workload_from_dict(w.to_dict()) == w
    assert workload_from_dict(Workload("lstm").to_dict()) == Workload("lstm")
    assert [x.name for x in runner.translation_suite()] == ["seq2seq-gru-luong/train/b64"]
    bahdanau = Seq2SeqWorkload("gru", "bahdanau", "train", 1, 3, 4, 10, 5, 6)
    # over no attention: context 4*3*2*12, tanh(W[h;c]) 4*2*18*6, W_q 4*2*36, W_k 3*2*12*6, v 4*3*2*6
    extra = 3 * (4 * 3 * 2 * 12 + 4 * 2 * 18 * 6 + 4 * 2 * 36 + 3 * 2 * 12 * 6 + 4 * 3 * 2 * 6) / 4
    assert bahdanau.flops_per_sample() - w.flops_per_sample() == pytest.approx(extra)
    with pytest.raises(
        ValueError, match="Expected mode='train' for a Seq2SeqWorkload. Received: mode='infer'"
    ):
        Seq2SeqWorkload(mode="infer")
    with pytest.raises(ValueError, match="Expected a workload kind in .* Received: 'cnn'"):
        workload_from_dict({"kind": "cnn"})


@pytest.mark.parametrize("peer", ["rnnlab", "torch-native"])  # keras-jax shares rnnlab's Keras path
def test_worker_measures_a_tiny_seq2seq(peer):
    if not is_available(runner.PEER_LIBRARIES[peer]):
        pytest.skip(f"{runner.PEER_LIBRARIES[peer]} is not installed")
    tiny = [
        Seq2SeqWorkload(
            "gru",
            attention,
            batch_size=4,
            source_len=5,
            target_len=6,
            vocab_size=30,
            embedding_dim=4,
            units=4,
        )
        for attention in ("luong", "bahdanau")
    ]
    result = runner.run_worker(peer, tiny, seconds=0.05, windows=2)
    assert set(result["rates"]) == {w.name for w in tiny}
    assert all(len(v) == 2 and min(v) > 0 for v in result["rates"].values())


def test_lm_flops_by_hand_and_round_trip():
    w = LMWorkload(batch_size=2, seq_len=3, vocab_size=10, embedding_dim=5, units=6, num_layers=2)
    # layer 1: 2*4*6*(5+6), layer 2: 2*4*6*(6+6), logits 2*6*10; tripled for training; per token
    assert w.flops_per_sample() == 3 * (2 * 4 * 6 * 11 + 2 * 4 * 6 * 12 + 2 * 6 * 10)
    assert w.per_batch == 6 and w.name == "lm-lstm-2x6/train/b2"
    assert workload_from_dict(w.to_dict()) == w
    assert [x.name for x in runner.SUITES["lm"][0]()] == ["lm-lstm-2x200/train/b20"]
    with pytest.raises(ValueError, match="Expected mode='train' for an LMWorkload"):
        LMWorkload(mode="infer")
    with pytest.raises(ValueError, match="Expected a suite in .* Received: 'huge'"):
        runner.run("huge")
    assert runner.find_workload("lstm/train/b32") == Workload("lstm", "train", 32)
    assert runner.find_workload("lm-lstm-2x200/train/b20") == LMWorkload()
    with pytest.raises(ValueError, match="Expected a workload in .* Received: 'lstm/train/b7'"):
        runner.find_workload("lstm/train/b7")


@pytest.mark.parametrize("peer", ["rnnlab", "torch-native"])
def test_worker_measures_a_tiny_language_model(peer):
    if not is_available(runner.PEER_LIBRARIES[peer]):
        pytest.skip(f"{runner.PEER_LIBRARIES[peer]} is not installed")
    tiny = [LMWorkload(batch_size=3, seq_len=4, vocab_size=40, embedding_dim=5, units=6)]
    result = runner.run_worker(peer, tiny, seconds=0.05, windows=2)
    assert set(result["rates"]) == {"lm-lstm-2x6/train/b3"}
    assert all(len(v) == 2 and min(v) > 0 for v in result["rates"].values())


def test_speedup_and_markdown_from_a_result():
    result = {
        "results": {
            "simple/train/b32": {
                "workload": {},
                "peers": {
                    "rnnlab": {"samples_per_s": 300.0, "min": 290.0, "max": 310.0},
                    "keras-jax": {"samples_per_s": 100.0, "min": 90.0, "max": 110.0},
                    "torch-native": {"samples_per_s": 150.0, "min": 140.0, "max": 160.0},
                },
            }
        }
    }
    assert runner.speedup_vs_fastest_peer(result) == pytest.approx(2.0)
    table = runner.markdown(result)
    assert "| simple/train/b32 | 300 (290-310) | 100 (90-110) | 150 (140-160) |" in table


@pytest.mark.parametrize("peer", ["rnnlab", "keras-jax", "torch-native"])
def test_worker_measures_a_tiny_model(peer):
    if not is_available(runner.PEER_LIBRARIES[peer]):
        pytest.skip(f"{runner.PEER_LIBRARIES[peer]} is not installed")
    tiny = [
        Workload("gru", "train", 8, maxlen=5, vocab_size=50, embedding_dim=4, units=4),
        Workload("gru", "infer", 8, maxlen=5, vocab_size=50, embedding_dim=4, units=4),
    ]
    result = runner.run_worker(peer, tiny, seconds=0.05, windows=2)
    assert result["peer"] == peer and result["peak_memory_mb"] > 0
    assert set(result["rates"]) == {w.name for w in tiny}
    assert all(len(v) == 2 and min(v) > 0 for v in result["rates"].values())


def test_every_peer_has_a_library():
    from rnnlab.bench.worker import PEERS

    assert set(runner.PEER_LIBRARIES) == set(PEERS)
    assert set(runner.QUICK_PEERS) <= set(PEERS)


def test_worker_without_arguments_prints_usage():
    done = subprocess.run(
        [sys.executable, "-m", "rnnlab.bench.worker"], capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 2 and done.stdout == ""
    assert "usage: python -m rnnlab.bench.worker [-h] PEER WORKLOADS_JSON SECONDS WINDOWS" in done.stderr
    assert "the following arguments are required: PEER, WORKLOADS_JSON, SECONDS, WINDOWS" in done.stderr
    assert "Traceback" not in done.stderr


@pytest.mark.parametrize(
    "argv, message",
    [
        (["keras-jax"], "required: WORKLOADS_JSON, SECONDS, WINDOWS"),
        (["keras", "[]", "1", "2"], "argument PEER: invalid choice: 'keras'"),
        (["keras-jax", "[{", "1", "2"], "WORKLOADS_JSON: expected a JSON list of workloads, got '[{'"),
        (["keras-jax", '{"cell": "gru"}', "1", "2"], "expected a JSON list of workload objects"),
        (["keras-jax", "[]", "one", "2"], "argument SECONDS: invalid float value: 'one'"),
    ],
)
def test_worker_rejects_bad_arguments_with_usage(argv, message, capsys):
    from rnnlab.bench import worker

    with pytest.raises(SystemExit) as exit_info:
        worker.main(argv)
    assert exit_info.value.code == 2
    stderr = capsys.readouterr().err
    assert stderr.startswith("usage: python -m rnnlab.bench.worker")
    assert message in stderr
