"""Runs the peers in alternation, aggregates, and writes the record.

Reports per workload and peer: median samples/s and spread (min-max) over
every window of every repeat, achieved GFLOP/s against the machine's measured
float32 matrix-multiply peak, and each peer process's peak memory.
"""

import json
import os
import statistics
import subprocess
import sys
import time

import numpy as np

from rnnlab import runs
from rnnlab.backend import is_available
from rnnlab.bench.worker import KERAS_PEERS, PEERS
from rnnlab.bench.workloads import full_suite, lm_suite, quick_suite, translation_suite

PEER_LIBRARIES = {**KERAS_PEERS, "torch-native": "torch"}  # peer -> library it needs
QUICK_PEERS = ("rnnlab", "keras-jax", "torch-native")  # the fastest peers of the full run
TRANSLATION_PEERS = ("rnnlab", "keras-jax", "torch-native")
LM_PEERS = ("rnnlab", "rnnlab-stock", "keras-jax", "torch-native")
SUITES = {  # name -> (workloads, default peers)
    "full": (full_suite, PEERS),
    "quick": (quick_suite, QUICK_PEERS),
    "translation": (translation_suite, TRANSLATION_PEERS),
    "lm": (lm_suite, LM_PEERS),
}


def matmul_peak_gflops(size=1024, repeats=5):
    """Best float32 GFLOP/s of a square matrix product with NumPy's BLAS."""
    a = np.random.default_rng(0).normal(size=(size, size)).astype(np.float32)
    a @ a
    best = 0.0
    for _ in range(repeats):
        start = time.perf_counter()
        a @ a
        best = max(best, 2 * size**3 / (time.perf_counter() - start) / 1e9)
    return best


def run_worker(peer, workloads, seconds, windows, timeout=900):
    command = [
        sys.executable,
        "-m",
        "rnnlab.bench.worker",
        peer,
        json.dumps([w.to_dict() for w in workloads]),
        str(seconds),
        str(windows),
    ]
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"}
    done = subprocess.run(command, capture_output=True, text=True, timeout=timeout, env=env)
    if done.returncode != 0:
        raise RuntimeError(f"benchmark worker {peer} failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def find_workload(name):
    """The workload of any suite called `name` (e.g. 'lstm/train/b32')."""
    known = {w.name: w for make, _ in SUITES.values() for w in make()}
    if name not in known:
        raise ValueError(f"Expected a workload in {sorted(known)}. Received: {name!r}")
    return known[name]


def run(suite="full", repeats=None, peers=None, seconds=None, windows=3, workload=None, log=print):
    """Runs the benchmark; returns the result dict (see `write`).

    Args:
        suite: 'full', 'quick' (the article's model), 'translation' (target tokens/s
            of an attention encoder-decoder) or 'lm' (training tokens/s of a word LM).
        repeats: rounds over all peers (default: 1 quick, 2 otherwise).
        peers: peers to run (default: the suite's).
        seconds, windows: length and number of timing windows per workload.
        workload: run only the workload of this name (any suite's), with the suite's peers.
    """
    if suite not in SUITES:
        raise ValueError(f"Expected a suite in {sorted(SUITES)}. Received: {suite!r}")
    quick = suite == "quick"
    make_workloads, default_peers = SUITES[suite]
    workloads = [find_workload(workload)] if workload else make_workloads()
    peers = [p for p in (peers or default_peers) if is_available(PEER_LIBRARIES[p])]
    repeats = repeats or (1 if quick else 2)
    seconds = seconds or (0.6 if quick else 1.0)
    peak = matmul_peak_gflops()
    log(f"float32 matmul peak: {peak:.1f} GFLOP/s; peers: {', '.join(peers)}; {len(workloads)} workloads")
    rates = {w.name: {p: [] for p in peers} for w in workloads}
    memory = {p: 0.0 for p in peers}
    start = time.perf_counter()
    for repeat in range(repeats):
        order = peers if repeat % 2 == 0 else peers[::-1]  # alternate
        for peer in order:
            result = run_worker(peer, workloads, seconds, windows)
            memory[peer] = max(memory[peer], result["peak_memory_mb"])
            for name, values in result["rates"].items():
                rates[name][peer].extend(values)
            log(f"  repeat {repeat + 1}/{repeats} {peer}: done ({time.perf_counter() - start:.0f} s)")
    table = {}
    for workload in workloads:
        row = {}
        for peer in peers:
            values = rates[workload.name][peer]
            median = statistics.median(values)
            row[peer] = {
                "samples_per_s": round(median, 1),
                "min": round(min(values), 1),
                "max": round(max(values), 1),
                "gflops": round(median * workload.flops_per_sample() / 1e9, 2),
                "fraction_of_peak": round(median * workload.flops_per_sample() / 1e9 / peak, 4),
            }
        table[workload.name] = {"workload": workload.to_dict(), "peers": row}
    return {
        "benchmark": "rnn_throughput",
        "suite": suite,
        "quick": quick,
        "translation": suite == "translation",
        "repeats": repeats,
        "windows_per_repeat": windows,
        "window_seconds": seconds,
        "matmul_peak_gflops": round(peak, 1),
        "peak_memory_mb": memory,
        "results": table,
        "wall_time_s": round(time.perf_counter() - start, 1),
        **runs.provenance("per peer"),
    }


def speedup_vs_fastest_peer(result, workload="simple/train/b32"):
    """rnnlab's samples/s divided by the fastest other peer's, for one workload."""
    row = result["results"][workload]["peers"]
    others = {p: v["samples_per_s"] for p, v in row.items() if not p.startswith("rnnlab")}
    if "rnnlab" not in row or not others:
        return None
    return row["rnnlab"]["samples_per_s"] / max(others.values())


def markdown(result):
    """A README table: samples/s (median, min-max) per workload and peer."""
    peers = list(next(iter(result["results"].values()))["peers"])
    lines = ["| workload | " + " | ".join(peers) + " |", "|---|" + "---|" * len(peers)]
    for name, entry in result["results"].items():
        unit = entry["workload"].get("unit", "samples")
        name = name if unit == "samples" else f"{name} ({unit}/s)"
        cells = [
            f"{v['samples_per_s']:,.0f} ({v['min']:,.0f}-{v['max']:,.0f})" for v in entry["peers"].values()
        ]
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    return "\n".join(lines)
