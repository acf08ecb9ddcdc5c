"""The benchmark harness: FLOP counts, aggregation, and a real worker on a tiny model."""

import os
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
    loops = {name: set((layers or {}).values()) for name, layers in result["recurrent_loops"].items()}
    expected = {  # which loop each peer's recurrent layer ran, recorded per workload
        "rnnlab": {native_loop_said()},
        "keras-jax": {"Keras loop (Keras' own layer)"},
        "torch-native": set(),
    }[peer]
    assert loops == {w.name: expected for w in tiny}


def native_loop_said():
    """What the loop report says of an eligible rnnlab layer in a JAX process on this machine."""
    code = "from rnnlab.layers.fast_rnn import native_unavailable_reason as r; print(r() or '')"
    env = {**os.environ, "KERAS_BACKEND": "jax"}
    reason = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=env
    ).stdout.strip()
    return f"Keras loop ({reason})" if reason else "native loop"


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


def test_paired_ratios_and_outliers_by_hand():
    rates = {  # two rounds of two windows each
        "rnnlab": [[300.0, 320.0], [200.0, 220.0]],
        "keras-jax": [[100.0, 100.0], [100.0, 120.0]],
        "torch-native": [[150.0, 150.0], [40.0, 60.0]],
    }
    paired = runner.paired_ratios(rates)
    # round medians: rnnlab 310, 210; keras-jax 100, 110; torch-native 150, 50
    assert paired["vs"]["keras-jax"]["per_round"] == [3.1, round(210 / 110, 3)]
    assert paired["vs"]["torch-native"]["per_round"] == [round(310 / 150, 3), 4.2]
    assert paired["vs_fastest"]["per_round"] == [round(310 / 150, 3), round(210 / 110, 3)]
    assert paired["vs_fastest"]["median"] == round((round(310 / 150, 3) + round(210 / 110, 3)) / 2, 3)
    assert paired["vs_fastest"]["min"] == round(210 / 110, 3)
    assert runner.paired_ratios({"keras-jax": [[1.0]], "torch-native": [[2.0]]}) is None
    # torch-native's median over all windows is 100: 40 is 2.5x below it; nothing else is 2x off
    assert runner.outliers("w", rates) == [
        {"workload": "w", "peer": "torch-native", "round": 2, "window_rate": 40.0, "peer_median": 105.0}
    ]


def test_paired_ratios_compare_with_rnnlab_stock_but_not_as_the_fastest():
    rates = {
        "rnnlab": [[300.0], [200.0]],
        "rnnlab-stock": [[600.0], [100.0]],
        "torch-native": [[150.0], [50.0]],
    }
    paired = runner.paired_ratios(rates)
    assert paired["vs"]["rnnlab-stock"]["per_round"] == [0.5, 2.0]
    assert paired["vs_fastest"]["per_round"] == [2.0, 4.0] and paired["vs_fastest"]["median"] == 3.0
    alone = runner.paired_ratios({"rnnlab": [[300.0]], "rnnlab-stock": [[100.0]]})
    assert alone["vs_fastest"] is None and alone["vs"]["rnnlab-stock"]["median"] == 3.0
    peers = {p: {"samples_per_s": 1.0, "min": 1.0, "max": 1.0} for p in ("rnnlab", "rnnlab-stock")}
    result = {"results": {"w": {"workload": {}, "peers": peers, "paired": alone}}}
    assert runner.speedup_vs_fastest_peer(result, "w") is None
    assert "| w | 1 | - | - | - | - |" in runner.ratios_markdown(result)


def test_plan_gives_each_peer_its_workloads_and_says_who_is_left_out(monkeypatch):
    monkeypatch.setattr(runner, "is_available", lambda library: library != "tensorflow")
    infer, train = Workload("gru", "infer", 256), Workload("gru", "train", 32)
    logged = []
    plan = runner.plan_peers(
        ["rnnlab", "keras-tensorflow", "onnxruntime", "torch-native"], [train, LMWorkload()], logged.append
    )
    assert plan == {"rnnlab": [train, LMWorkload()], "torch-native": [train, LMWorkload()]}
    assert logged == [
        "  skipping keras-tensorflow: tensorflow not installed",
        "  skipping onnxruntime: it runs none of these workloads",
    ]
    assert runner.plan_peers(["onnxruntime", "keras-torch"], [infer, train], logged.append) == {
        "onnxruntime": [infer],
        "keras-torch": [infer, train],
    }


def test_run_records_paired_ratios_flags_threads_and_load(monkeypatch):
    """The whole runner on fake workers: two rounds, alternating order, one slow window."""
    windows = {  # peer -> window rates per round, in the order the worker is called
        "rnnlab": [[300.0, 320.0], [200.0, 220.0]],
        "torch-native": [[155.0, 155.0], [40.0, 100.0]],
        "onnxruntime": [[100.0, 100.0], [100.0, 100.0]],
    }
    calls = []

    def fake_worker(peer, workloads, seconds, windows_per_round, threads):
        calls.append(peer)
        rates = windows[peer][sum(c == peer for c in calls) - 1]
        return {
            "rates": {w.name: rates for w in workloads},
            "warmup": {w.name: {"windows": 3, "stable": True} for w in workloads},
            "threads": {"intra_op": threads},
            "peak_memory_mb": 10.0,
        }

    busy = iter([0.5, 0.0])  # busy before, idle after
    monkeypatch.setattr(runner, "run_worker", fake_worker)
    monkeypatch.setattr(runner, "matmul_peak_gflops", lambda: 100.0)
    monkeypatch.setattr(runner, "usable_cores", lambda: 2)
    real_load = runner.machine_load
    monkeypatch.setattr(runner, "machine_load", lambda cores: real_load(cores, lambda: next(busy), [1.0] * 3))
    monkeypatch.setattr(runner, "peer_available", lambda peer: True)
    logged = []
    peers = ["rnnlab", "torch-native", "onnxruntime"]
    result = runner.run("quick", repeats=2, peers=peers, workload="gru/infer/b256", log=logged.append)
    assert calls == ["rnnlab", "torch-native", "onnxruntime", "onnxruntime", "torch-native", "rnnlab"]
    entry = result["results"]["gru/infer/b256"]
    # round medians: rnnlab 310, 210; torch-native 155, 70; onnxruntime 100, 100: the fastest
    # other peer is torch-native in round 1, onnxruntime in round 2
    assert entry["paired"]["vs"]["torch-native"]["per_round"] == [2.0, 3.0]
    assert entry["paired"]["vs"]["onnxruntime"]["per_round"] == [3.1, 2.1]
    assert entry["paired"]["vs_fastest"] == {"per_round": [2.0, 2.1], "median": 2.05, "min": 2.0, "max": 2.1}
    assert runner.speedup_vs_fastest_peer(result, "gru/infer/b256") == 2.05
    assert entry["warmup"]["rnnlab"] == [{"windows": 3, "stable": True}] * 2
    flag = {"workload": "gru/infer/b256", "peer": "torch-native", "round": 2, "window_rate": 40.0}
    assert result["flags"] == [{**flag, "peer_median": 127.5}]
    assert result["cores"] == 2 and result["threads"]["onnxruntime"] == {"intra_op": 2}
    assert result["machine_load"] == {
        "before": {"load_average": [1.0, 1.0, 1.0], "busy_fraction": 0.5, "idle": False},
        "after": {"load_average": [1.0, 1.0, 1.0], "busy_fraction": 0.0, "idle": True},
        "idle": False,
    }
    assert logged[0].startswith("WARNING: the machine is not idle (CPU busy 50% over 1 s")
    assert (
        sum("WARNING: torch-native on gru/infer/b256, round 2: a window at 40.0/s" in m for m in logged) == 1
    )
    row = "| gru/infer/b256 | 2 | 2.05x (2.00-2.10) | torch-native | 2.50x (2.00-3.00) | 2.60x (2.10-3.10) |"
    assert row in runner.ratios_markdown(result)


def test_speedup_uses_the_paired_median():
    result = {"results": {"w": {"peers": {}, "paired": {"vs_fastest": {"median": 1.7}}}}}
    assert runner.speedup_vs_fastest_peer(result, "w") == 1.7


def test_onnxruntime_runs_only_classifier_inference():
    infer, train = Workload("lstm", "infer", 256), Workload("lstm", "train", 32)
    assert runner.peer_supports("onnxruntime", infer) and not runner.peer_supports("onnxruntime", train)
    assert not runner.peer_supports("onnxruntime", LMWorkload()) and not runner.peer_supports(
        "onnxruntime", Seq2SeqWorkload()
    )
    assert runner.peer_supports("keras-torch", train) and not runner.peer_supports(
        "keras-torch", LMWorkload()
    )
    assert {w.name for w in runner.SUITES["full"][0]()} >= {
        "seq2seq-gru-luong/train/b64",
        "lm-lstm-2x200/train/b20",
    }


def test_warm_up_runs_until_two_windows_agree():
    from rnnlab.bench.worker import warm_until_stable

    ticks = iter(range(100))
    clock = lambda: next(ticks)  # noqa: E731  one second per call
    rates = iter([10.0, 50.0, 80.0, 95.0, 100.0, 100.0])
    assert warm_until_stable(lambda: next(rates), clock=clock) == (5, True)  # 95 -> 100 is within 10%
    never = iter([10.0, 30.0] * 10)
    assert warm_until_stable(lambda: next(never), max_windows=6, max_seconds=1e9, clock=clock) == (6, False)
    slow = iter([10.0, 30.0] * 10)
    ticks = iter(range(0, 1000, 10))  # ten seconds per call: the 20 s cap ends it
    assert warm_until_stable(lambda: next(slow), clock=lambda: next(ticks)) == (2, False)


def test_jax_peers_record_xla_defaults(monkeypatch):
    from rnnlab.bench.worker import set_threads

    monkeypatch.setenv("OMP_NUM_THREADS", "2")
    monkeypatch.delenv("MKL_NUM_THREADS", raising=False)
    monkeypatch.setenv("RNNLAB_NATIVE_THREADS", "1")
    settings = set_threads("rnnlab", 2)
    assert settings["OMP_NUM_THREADS"] == "2" and settings["MKL_NUM_THREADS"] == "unset"
    assert settings["RNNLAB_NATIVE_THREADS"] == "1" and settings["usable_cores"] >= 1
    assert settings["xla_intra_op"] == "XLA's default: one thread per usable core"


def test_a_busy_machine_is_reported():
    busy = runner.machine_load(2, lambda: 0.6, load_average=[0.1, 0.1, 0.1])
    assert not busy["idle"]
    assert runner.idle_warning(busy, 2).startswith("WARNING: the machine is not idle (CPU busy 60% over 1 s")
    at_end = runner.idle_warning(busy, 2, at_end=True)
    assert at_end.startswith("WARNING: the machine was not idle at the end (CPU busy 60%")
    assert at_end.endswith("so these timings were noisy.")
    trailing = runner.machine_load(2, lambda: 0.01, load_average=[1.5, 1.0, 0.5])  # a load that just ended
    assert trailing["idle"] and runner.idle_warning(trailing, 2) is None
    unmeasured = runner.machine_load(2, lambda: None, load_average=[1.5, 1.0, 0.5])  # no /proc/stat
    assert not unmeasured["idle"]
    warning = runner.idle_warning(unmeasured, 2)
    assert "CPU busy unknown over 1 s, load average 1.50, 1.00, 0.50 on 2 cores" in warning
    assert runner.machine_load(2, lambda: None, load_average=[0.2, 0.3, 0.3])["idle"]
    measured = runner.busy_fraction(0.05)
    assert measured is None or 0.0 <= measured <= 1.0


def test_tables_mark_peers_that_did_not_run():
    peers = {"rnnlab": {"samples_per_s": 300.0, "min": 290.0, "max": 310.0}}
    result = {
        "results": {
            "lstm/train/b32": {"workload": {}, "peers": {**peers, "torch-native": dict(peers["rnnlab"])}},
            "lstm/infer/b256": {
                "workload": {},
                "peers": {**peers, "onnxruntime": {"samples_per_s": 200.0, "min": 150.0, "max": 250.0}},
                "paired": {
                    "vs_fastest": {"per_round": [1.4, 1.6], "median": 1.5, "min": 1.4, "max": 1.6},
                    "vs": {"onnxruntime": {"per_round": [1.4, 1.6], "median": 1.5, "min": 1.4, "max": 1.6}},
                },
            },
        }
    }
    table = runner.markdown(result)
    assert table.splitlines()[0] == "| workload | rnnlab | torch-native | onnxruntime |"
    assert "| lstm/train/b32 | 300 (290-310) | 300 (290-310) | - |" in table
    assert "| lstm/infer/b256 | 300 (290-310) | - | 200 (150-250) |" in table
    ratios = runner.ratios_markdown(result)
    assert "| lstm/infer/b256 | 2 | 1.50x (1.40-1.60) | onnxruntime | - | 1.50x (1.40-1.60) |" in ratios
    assert "lstm/train/b32" not in ratios  # no paired ratios recorded


def test_onnx_model_equals_the_pytorch_model(tmp_path):
    pytest.importorskip("torch")
    pytest.importorskip("onnxruntime")
    import numpy as np
    import torch

    from rnnlab.bench import worker

    workload = Workload("lstm", "infer", 4, maxlen=7, vocab_size=30, embedding_dim=5, units=6)
    model = worker.probability_model(worker.torch_classifier(workload)).eval()
    session = worker.onnx_session(model, workload, 1, str(tmp_path / "m.onnx"))
    ids = np.random.default_rng(1).integers(1, 30, (4, 7)).astype("int64")
    with torch.inference_mode():
        expected = model(torch.from_numpy(ids)).numpy()
    (got,) = session.run(None, {"ids": ids})
    assert got.shape == (4, 1) and 0 < got.min() and got.max() < 1
    np.testing.assert_allclose(got, expected, atol=1e-5)


def test_onnxruntime_worker_measures_inference():
    if not runner.peer_available("onnxruntime"):
        pytest.skip("onnxruntime or torch is not installed")
    tiny = [Workload("gru", "infer", 8, maxlen=5, vocab_size=50, embedding_dim=4, units=4)]
    result = runner.run_worker("onnxruntime", tiny, seconds=0.05, windows=2, threads=1)
    assert result["threads"]["ort_intra_op"] == 1 and result["threads"]["flush_denormal"] is True
    assert result["threads"]["torch_intra_op"] == 1 and result["threads"]["OMP_NUM_THREADS"] == "1"
    name = tiny[0].name
    assert len(result["rates"][name]) == 2 and min(result["rates"][name]) > 0
    assert result["warmup"][name]["windows"] >= 1
