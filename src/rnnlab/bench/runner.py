"""Runs the peers in alternation, aggregates, and writes the record.

Reports per workload and peer: median samples/s and spread (min-max) over
every window of every repeat, achieved GFLOP/s against the machine's measured
float32 matrix-multiply peak, and each peer process's peak memory; per
workload, rnnlab's ratio to each peer paired within each round (a round runs
every peer once), with its median and spread over the rounds; windows more
than 2x off their peer's median (flagged); the machine's load before and
after, and each peer's thread settings.
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
from rnnlab.bench.worker import KERAS_PEERS, PEERS, usable_cores
from rnnlab.bench.workloads import full_suite, lm_suite, quick_suite, translation_suite

# peer -> library it needs (onnxruntime also needs torch, to export the model)
PEER_LIBRARIES = {**KERAS_PEERS, "torch-native": "torch", "onnxruntime": "onnxruntime"}
QUICK_PEERS = ("rnnlab", "keras-jax", "torch-native", "onnxruntime")  # the fastest peers of the full run
TRANSLATION_PEERS = ("rnnlab", "rnnlab-stock", "keras-jax", "torch-native")
LM_PEERS = ("rnnlab", "rnnlab-stock", "keras-jax", "torch-native")
OUTLIER_FACTOR = 2.0  # a window this far from its peer's median is flagged
# Above these the machine is not idle: the busy fraction where /proc/stat has it, else the load average.
BUSY_FRACTION, BUSY_LOAD_PER_CORE = 0.15, 0.5


def everything():
    """The classifier workloads, then translation's and the language model's."""
    return full_suite() + translation_suite() + lm_suite()


SUITES = {  # name -> (workloads, default peers)
    "full": (everything, PEERS),
    "quick": (quick_suite, QUICK_PEERS),
    "translation": (translation_suite, TRANSLATION_PEERS),
    "lm": (lm_suite, LM_PEERS),
}


def peer_supports(peer, workload):
    """Whether `peer` runs `workload`: ONNX Runtime only classifier inference; translation
    and language-model workloads only their suites' peers."""
    if peer == "onnxruntime":
        return workload.kind == "classifier" and workload.mode == "infer"
    if workload.kind == "seq2seq":
        return peer in TRANSLATION_PEERS
    if workload.kind == "lm":
        return peer in LM_PEERS
    return True


def plan_peers(peers, workloads, log=print):
    """{peer: the workloads it runs} for each installed peer that supports any of
    `workloads`; logs the peers left out and why."""
    plan = {}
    for peer in peers:
        supported = [w for w in workloads if peer_supports(peer, w)]
        if not peer_available(peer):
            log(f"  skipping {peer}: {' and '.join(_needs(peer))} not installed")
        elif not supported:
            log(f"  skipping {peer}: it runs none of these workloads")
        else:
            plan[peer] = supported
    return plan


def _needs(peer):
    return [PEER_LIBRARIES[peer]] + (["torch"] if peer == "onnxruntime" else [])


def peer_available(peer):
    """Whether the libraries `peer` needs are installed."""
    return all(is_available(library) for library in _needs(peer))


def _cpu_times():
    with open("/proc/stat") as stat:
        fields = [int(v) for v in stat.readline().split()[1:]]
    idle = fields[3] + (fields[4] if len(fields) > 4 else 0)  # idle + iowait
    return sum(fields), idle


def busy_fraction(seconds=1.0):
    """Fraction of all cores' time spent busy over `seconds` (/proc/stat), or None where it is absent."""
    try:
        total0, idle0 = _cpu_times()
        time.sleep(seconds)
        total1, idle1 = _cpu_times()
    except (OSError, ValueError, IndexError):
        return None
    return round(1 - (idle1 - idle0) / max(total1 - total0, 1), 3)


def machine_load(cores, measure_busy=busy_fraction, load_average=None):
    """The machine's load now: {'load_average', 'busy_fraction', 'idle'}.

    Args:
        cores: usable cores.
        measure_busy: returns the busy fraction, or None where it cannot be measured.
        load_average: the 1, 5 and 15-minute load averages (default: the system's).
    """
    busy = measure_busy()
    if load_average is None:
        load_average = list(os.getloadavg()) if hasattr(os, "getloadavg") else None
    if busy is not None:  # measured now; the load average trails by minutes
        idle = busy <= BUSY_FRACTION
    else:
        idle = load_average is None or load_average[0] <= BUSY_LOAD_PER_CORE * cores
    return {"load_average": [round(v, 2) for v in load_average or []], "busy_fraction": busy, "idle": idle}


def idle_warning(load, cores, at_end=False):
    """The warning to print when the machine is not idle (`at_end`: after the run), else None.

    Example:
    >>> idle_warning({"load_average": [3.0, 2.0, 1.0], "busy_fraction": 0.5, "idle": False}, 2)[:47]
    'WARNING: the machine is not idle (CPU busy 50% '
    """
    if load["idle"]:
        return None
    busy = "unknown" if load["busy_fraction"] is None else f"{load['busy_fraction']:.0%}"
    averages = ", ".join(f"{v:.2f}" for v in load["load_average"]) or "unknown"
    state, noisy = ("was not idle at the end", "were") if at_end else ("is not idle", "will be")
    return (
        f"WARNING: the machine {state} (CPU busy {busy} over 1 s, load average {averages} on "
        f"{cores} cores): other processes take cores from the peers, so these timings {noisy} noisy."
    )


def load_record(before, after):
    """The record's `machine_load`: `machine_load` before and after the run, and whether the
    machine was idle at both ends."""
    return {"before": before, "after": after, "idle": before["idle"] and after["idle"]}


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


def run_worker(peer, workloads, seconds, windows, timeout=900, threads=None):
    command = [
        sys.executable,
        "-m",
        "rnnlab.bench.worker",
        peer,
        json.dumps([w.to_dict() for w in workloads]),
        str(seconds),
        str(windows),
    ]
    threads = str(threads or usable_cores())
    env = {
        **os.environ,
        "TF_CPP_MIN_LOG_LEVEL": "3",
        "RNNLAB_BENCH_THREADS": threads,
        "OMP_NUM_THREADS": threads,
        "MKL_NUM_THREADS": threads,
    }
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


def _summary(ratios):
    ratios = [round(v, 3) for v in ratios]
    return {
        "per_round": ratios,
        "median": round(statistics.median(ratios), 3),
        "min": min(ratios),
        "max": max(ratios),
    }


def paired_ratios(round_rates):
    """rnnlab's rate over each other peer's, paired within each round.

    Args:
        round_rates: {peer: [[window rates of round 1], [round 2], ...]} for one workload.

    Returns:
        {'vs_fastest': summary, 'vs': {peer: summary}}, a summary being {'per_round',
        'median', 'min', 'max'} of the ratios of the rounds' medians; 'vs' has every other
        peer (rnnlab-stock too), 'vs_fastest' divides by the fastest non-rnnlab peer of each
        round (None without one). None without rnnlab or another peer.

    Example:
    >>> paired_ratios({"rnnlab": [[4.0], [6.0]], "torch-native": [[2.0], [2.0]]})["vs_fastest"]["median"]
    2.5
    """
    others = [p for p in round_rates if p != "rnnlab"]
    if "rnnlab" not in round_rates or not others:
        return None
    medians = {p: [statistics.median(r) for r in rounds] for p, rounds in round_rates.items()}
    ours = medians["rnnlab"]
    vs = {p: _summary([a / b for a, b in zip(ours, medians[p], strict=True)]) for p in others}
    peers = [p for p in others if not p.startswith("rnnlab")]
    if not peers:
        return {"vs_fastest": None, "vs": vs}
    fastest = [ours[i] / max(medians[p][i] for p in peers) for i in range(len(ours))]
    return {"vs_fastest": _summary(fastest), "vs": vs}


def outliers(workload, round_rates, factor=OUTLIER_FACTOR):
    """Windows more than `factor` times above or below their peer's median over all rounds.

    Example:
    >>> outliers("w", {"p": [[100.0, 100.0], [100.0, 30.0]]})[0]["window_rate"]
    30.0
    """
    flags = []
    for peer, rounds in round_rates.items():
        median = statistics.median(v for r in rounds for v in r)
        for index, rates in enumerate(rounds):
            for rate in rates:
                if rate > factor * median or rate * factor < median:
                    flag = {"workload": workload, "peer": peer, "round": index + 1}
                    flags.append({**flag, "window_rate": round(rate, 1), "peer_median": round(median, 1)})
    return flags


def run(suite="full", repeats=None, peers=None, seconds=None, windows=3, workload=None, log=print):
    """Runs the benchmark; returns the record `rnnlab bench` writes as JSON.

    Args:
        suite: 'full' (every workload, translation's and the language model's included),
            'quick' (the article's model), 'translation' (target tokens/s of an attention
            encoder-decoder) or 'lm' (training tokens/s of a word LM).
        repeats: rounds over all peers (default: 1 quick, 2 otherwise).
        peers: peers to run (default: the suite's); each runs only the workloads it supports.
        seconds, windows: length and number of timing windows per workload.
        workload: run only the workload of this name (any suite's), with the suite's peers.
    """
    if suite not in SUITES:
        raise ValueError(f"Expected a suite in {sorted(SUITES)}. Received: {suite!r}")
    quick = suite == "quick"
    make_workloads, default_peers = SUITES[suite]
    workloads = [find_workload(workload)] if workload else make_workloads()
    plan = plan_peers(peers or default_peers, workloads, log)
    repeats = repeats or (1 if quick else 2)
    seconds = seconds or (0.6 if quick else 1.0)
    cores = usable_cores()
    load_before = machine_load(cores)
    if warning := idle_warning(load_before, cores):
        log(warning)
    peak = matmul_peak_gflops()
    log(
        f"float32 matmul peak: {peak:.1f} GFLOP/s; peers: {', '.join(plan)}; {len(workloads)} workloads; "
        f"{cores} threads per peer"
    )
    start = time.perf_counter()
    rates, warmup, memory, threads, loops = _run_rounds(
        plan, workloads, repeats, seconds, windows, cores, log
    )
    table, flags = {}, []
    for w in workloads:
        table[w.name] = {
            "workload": w.to_dict(),
            "peers": {p: peer_summary(w, rounds, peak) for p, rounds in rates[w.name].items()},
            "paired": paired_ratios(rates[w.name]),
            "warmup": warmup.get(w.name, {}),
            "recurrent_loops": loops.get(w.name, {}),
        }
        flags += outliers(w.name, rates[w.name])
    for flag in flags:
        log(
            f"WARNING: {flag['peer']} on {flag['workload']}, round {flag['round']}: a window at "
            f"{flag['window_rate']:,.1f}/s against its median {flag['peer_median']:,.1f}/s (more than "
            f"{OUTLIER_FACTOR:g}x off)"
        )
    load_after = machine_load(cores)
    if warning := idle_warning(load_after, cores, at_end=True):
        log(warning)
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
        "cores": cores,
        "threads": threads,
        "machine_load": load_record(load_before, load_after),
        "flags": flags,
        "results": table,
        "wall_time_s": round(time.perf_counter() - start, 1),
        **runs.provenance("per peer"),
    }


def _run_rounds(plan, workloads, repeats, seconds, windows, cores, log):
    """Runs every peer of `plan` once per round, in alternating order.

    Returns:
        rates {workload: {peer: [window rates per round]}}, warm-up {workload: {peer:
        [{'windows', 'stable'} per round]}}, peak memory {peer: MB}, threads {peer: settings},
        recurrent loops {workload: {Keras peer: {layer: loop}}}.
    """
    peers = list(plan)
    rates = {w.name: {p: [] for p in peers if w in plan[p]} for w in workloads}
    warmup, memory, threads, loops = {}, {p: 0.0 for p in peers}, {}, {}
    start = time.perf_counter()
    for repeat in range(repeats):
        for peer in peers if repeat % 2 == 0 else peers[::-1]:
            result = run_worker(peer, plan[peer], seconds, windows, threads=cores)
            memory[peer] = max(memory[peer], result["peak_memory_mb"])
            threads[peer] = result.get("threads")
            for name, values in result["rates"].items():
                rates[name][peer].append(values)
                if warm := result.get("warmup", {}).get(name):
                    warmup.setdefault(name, {}).setdefault(peer, []).append(warm)
                if layers := result.get("recurrent_loops", {}).get(name):
                    loops.setdefault(name, {})[peer] = layers
            log(f"  repeat {repeat + 1}/{repeats} {peer}: done ({time.perf_counter() - start:.0f} s)")
    return rates, warmup, memory, threads, loops


def peer_summary(workload, rounds, peak):
    """One peer's row for `workload`: median, min and max over every window of every
    round, the GFLOP/s and fraction of the matmul `peak` at the median, and the windows
    per round."""
    values = [v for r in rounds for v in r]
    median = statistics.median(values)
    gflops = median * workload.flops_per_sample() / 1e9
    return {
        "samples_per_s": round(median, 1),
        "min": round(min(values), 1),
        "max": round(max(values), 1),
        "gflops": round(gflops, 2),
        "fraction_of_peak": round(gflops / peak, 4),
        "per_round": [[round(v, 1) for v in r] for r in rounds],
    }


def speedup_vs_fastest_peer(result, workload="simple/train/b32"):
    """rnnlab's samples/s over the fastest other peer's for one workload: the median of
    the per-round paired ratios where the record has them (older records: of the medians)."""
    entry = result["results"][workload]
    if entry.get("paired"):
        fastest = entry["paired"]["vs_fastest"]
        return fastest["median"] if fastest else None
    row = entry["peers"]
    others = {p: v["samples_per_s"] for p, v in row.items() if not p.startswith("rnnlab")}
    if "rnnlab" not in row or not others:
        return None
    return row["rnnlab"]["samples_per_s"] / max(others.values())


def markdown(result):
    """A README table: samples/s (median, min-max) per workload and peer ('-': not run)."""
    peers = []
    for entry in result["results"].values():
        peers += [p for p in entry["peers"] if p not in peers]
    lines = ["| workload | " + " | ".join(peers) + " |", "|---|" + "---|" * len(peers)]
    for name, entry in result["results"].items():
        unit = entry["workload"].get("unit", "samples")
        name = name if unit == "samples" else f"{name} ({unit}/s)"
        cells = [
            f"{v['samples_per_s']:,.0f} ({v['min']:,.0f}-{v['max']:,.0f})"
            if (v := entry["peers"].get(p))
            else "-"
            for p in peers
        ]
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def ratios_markdown(result):
    """A README table of rnnlab's paired ratios, "median (min-max)" over the rounds,
    against the fastest other peer of each round (the column after names the fastest by
    median over all windows), PyTorch and ONNX Runtime ('-': not run). Workloads without
    paired ratios (older records) are left out.
    """
    columns = ("torch-native", "onnxruntime")
    lines = [
        "| workload | rounds | vs fastest other peer | fastest | vs torch-native | vs onnxruntime |",
        "|---|---|---|---|---|---|",
    ]

    def cell(summary):
        return f"{summary['median']:.2f}x ({summary['min']:.2f}-{summary['max']:.2f})" if summary else "-"

    for name, entry in result["results"].items():
        paired = entry.get("paired")
        if not paired:
            continue
        others = {p: v["samples_per_s"] for p, v in entry["peers"].items() if not p.startswith("rnnlab")}
        fastest = max(others, key=others.get) if others else "-"
        rounds = len(next(iter(paired["vs"].values()))["per_round"])
        cells = [cell(paired["vs_fastest"]), fastest] + [cell(paired["vs"].get(p)) for p in columns]
        lines.append(f"| {name} | {rounds} | " + " | ".join(cells) + " |")
    return "\n".join(lines)
