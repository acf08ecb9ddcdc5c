"""Fuzzes `rnnlab serve`'s endpoints with generated requests (hypothesis) and records the outcome.

Each case is a request to one endpoint: a JSON value (often an object with the endpoint's
own fields holding values of any type), a random content type, raw bytes, or for
`/v1/speech` generated sound files (random rates, channels, lengths, samples with
NaN and huge values). Any 500, crash or unbounded memory growth fails.

The server runs in a process of its own (`rnnlab.serve.serve` on loopback), so its memory
is measured apart from hypothesis' (which keeps what it generated: ~30 MB per 1,000 cases).

Usage:
    python benchmarks/serve_fuzz.py RUN_DIR [RUN_DIR ...] --cases 10000 --output results/serve/fuzz.json
"""

import argparse
import collections
import io
import json
import sys
import time

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

ALLOWED = {200, 413, 415, 422}  # never 500
FIELDS = {
    "/v1/sentiment": ["input", "explain"],
    "/v1/translation": ["input", "beam_size"],
    "/v1/lm": ["input", "length", "temperature", "top_k", "seed"],
}
CONTENT_TYPES = [
    "application/json", "application/json; charset=utf-8", "text/plain", "",
    "application/x-www-form-urlencoded", "multipart/form-data", "audio/wav", "application/vnd.api+json",
    "application/octet-stream",
]  # fmt: skip

scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(max_size=300)
    | st.sampled_from(
        ["", " ", "\x00", "ünïcödé 电影 🎬", "a" * 5000, "<script>alert(1)</script>", "../etc/passwd"]
    )
)
values = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=10,
)


def json_bodies(path):
    fields = FIELDS[path]
    near_valid = st.fixed_dictionaries({}, optional={name: values for name in fields})
    typed = st.fixed_dictionaries(
        {fields[0]: st.text(max_size=400)},
        optional={
            name: st.integers(-5, 70) | st.floats(-1, 20) | st.booleans() | st.none() for name in fields[1:]
        },
    )
    return st.one_of(typed, near_valid, values)


@st.composite
def sound_files(draw):
    import soundfile

    rate = draw(st.sampled_from([4000, 8000, 16000, 44100, 400000]))
    channels = draw(st.integers(1, 3))
    frames = draw(st.integers(0, 3 * rate))
    kind = draw(st.sampled_from(["sine", "silence", "nan", "huge", "noise"]))
    t = np.arange(frames, dtype=np.float32)[:, None]
    samples = {
        "sine": 0.3 * np.sin(t * 0.2), "silence": np.zeros_like(t), "nan": np.full_like(t, np.nan),
        "huge": np.full_like(t, 1e6), "noise": np.random.default_rng(frames).normal(0, 0.3, t.shape),
    }[kind].astype(np.float32)  # fmt: skip
    samples = np.repeat(samples, channels, axis=1)
    subtype = draw(st.sampled_from(["PCM_16", "FLOAT"]))
    buffer = io.BytesIO()
    soundfile.write(
        buffer,
        samples,
        rate,
        format="WAV",
        subtype=subtype if kind in ("sine", "silence", "noise") else "FLOAT",
    )
    data = buffer.getvalue()
    if draw(st.booleans()) and len(data) > 50:  # truncated or corrupted
        cut = draw(st.integers(0, len(data) - 1))
        data = data[:cut] + draw(st.binary(max_size=20))
    return data


def requests():
    """(method, path, kwargs) for the test client."""
    json_requests = (
        st.sampled_from(sorted(FIELDS))
        .flatmap(
            lambda path: st.tuples(
                st.just(path), json_bodies(path), st.sampled_from(CONTENT_TYPES[:2] + CONTENT_TYPES[7:8])
            )
        )
        .map(
            lambda t: (
                "POST",
                t[0],
                {"content": json.dumps(t[1], allow_nan=True).encode(), "headers": {"content-type": t[2]}},
            )
        )
    )
    raw = st.tuples(
        st.sampled_from([*FIELDS, "/v1/speech"]), st.binary(max_size=2000), st.sampled_from(CONTENT_TYPES)
    ).map(lambda t: ("POST", t[0], {"content": t[1], "headers": {"content-type": t[2]} if t[2] else {}}))
    uploads = st.tuples(sound_files(), st.booleans(), st.text(max_size=30)).map(
        lambda t: (
            "POST",
            "/v1/speech",
            {"files": {"file": (t[2] or "a.wav", t[0])}}
            if t[1]
            else {"content": t[0], "headers": {"content-type": "audio/wav"}},
        )
    )
    gets = st.sampled_from(["/", "/health", "/v1/models", "/v1/nothing", "/v1/sentiment"]).map(
        lambda p: ("GET", p, {})
    )
    return st.one_of(json_requests, json_requests, raw, uploads, gets)


def rss_mb(pid="self"):
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def fuzz(client, cases, seed=0, log=print, server_rss=rss_mb):
    """Sends `cases` generated requests through `client` (FastAPI's test client, or an
    `httpx.Client` with a `base_url`); returns the record (raises on a 500 or crash).
    `server_rss()` is the server's memory (MB), traced every 500 cases."""
    statuses = collections.Counter()
    rss_trace = []  # [cases done, RSS MB] every 500 cases: growth that levels off is bounded
    by_path = collections.Counter()
    failures = []
    client.get("/health")
    rss_before = server_rss()
    start = time.perf_counter()

    @settings(
        max_examples=cases,
        deadline=None,
        database=None,
        derandomize=False,
        suppress_health_check=list(HealthCheck),
        phases=[__import__("hypothesis").Phase.generate],
    )
    @given(requests())
    def case(request):
        method, path, kwargs = request
        reply = client.request(method, path, **kwargs)
        statuses[reply.status_code] += 1
        by_path[path] += 1
        done = sum(statuses.values())
        if done % 500 == 0:
            rss_trace.append([done, round(server_rss(), 1)])
        allowed = ALLOWED | ({404, 405} if method == "GET" else set())
        if reply.status_code not in allowed:
            failures.append({"path": path, "status": reply.status_code, "body": reply.text[:300]})
        assert reply.status_code in allowed, (path, reply.status_code, reply.text[:300])

    import random

    random.seed(seed)
    case()
    wall = time.perf_counter() - start
    rss_after = server_rss()
    total = sum(statuses.values())
    log(
        f"{total} cases in {wall:.0f} s; statuses {dict(statuses)}; "
        f"server RSS {rss_before:.0f} -> {rss_after:.0f} MB"
    )
    return {
        "cases": total,
        "statuses": {str(k): v for k, v in sorted(statuses.items())},
        "by_path": dict(sorted(by_path.items())),
        "errors_500": statuses.get(500, 0),
        "failures": failures,
        "rss_before_mb": round(rss_before, 1),
        "rss_after_mb": round(rss_after, 1),
        "rss_trace_mb": rss_trace,
        "rss_growth_second_half_mb": _second_half_growth(rss_trace),
        "wall_time_s": round(wall, 1),
    }


def fuzz_app(app, cases, **kwargs):
    """`fuzz` against `app` in this process (FastAPI's test client)."""
    from fastapi.testclient import TestClient

    with TestClient(app, raise_server_exceptions=False) as client:
        return fuzz(client, cases, **kwargs)


def fuzz_server(run_dirs, cases, limits, **kwargs):
    """`fuzz` against `rnnlab serve` started in a subprocess on a free loopback port."""
    import httpx
    from serve_load import running_server

    def command(port):
        return [sys.executable, __file__, "--serve-port", str(port), *run_dirs,
                "--max-generate-length", str(limits.max_generate_length)]  # fmt: skip

    with running_server(command) as (url, server):
        with httpx.Client(base_url=url, timeout=120) as client:
            record = fuzz(client, cases, server_rss=lambda: rss_mb(server.pid), **kwargs)
    if "Traceback" in server.stderr_text:
        print(server.stderr_text[-3000:], file=sys.stderr)
    return record


def _second_half_growth(trace):
    """RSS growth over the second half of the cases (MB), or None for a short run."""
    if len(trace) < 4:
        return None
    middle = trace[len(trace) // 2 - 1][1]
    return round(trace[-1][1] - middle, 1)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("runs", nargs="+", metavar="RUN_DIR")
    parser.add_argument("--cases", type=int, default=10_000)
    parser.add_argument("--output", default=None, help="JSON record to write")
    parser.add_argument(
        "--max-growth-mb",
        type=float,
        default=100.0,
        help="fail when memory grows more than this over the second half of the cases",
    )
    parser.add_argument("--max-generate-length", type=int, default=64, help=argparse.SUPPRESS)
    parser.add_argument("--serve-port", type=int, default=None, help=argparse.SUPPRESS)  # the child
    args = parser.parse_args(argv)

    from rnnlab import backend as backends
    from rnnlab import runs
    from rnnlab.serve import Limits

    # Generation time grows with length; the cap is what is fuzzed.
    limits = Limits(max_generate_length=args.max_generate_length)
    if args.serve_port is not None:
        from rnnlab.serve.app import serve

        serve(args.runs, port=args.serve_port, limits=limits, log_level="warning")
        return 0
    record = fuzz_server(args.runs, args.cases, limits)
    record.update(
        runs.provenance(backends.select(None)),
        runs=args.runs,
        limits={"max_generate_length": limits.max_generate_length},
        max_growth_mb=args.max_growth_mb,
        note="the server (rnnlab.serve.serve) in its own process on loopback, driven by httpx; its "
        "RSS is traced; a case is one generated request; allowed statuses 200, 413, 415, 422 "
        "(404/405 for GETs of unknown paths)",
    )
    if args.output:
        runs.write_json(args.output, record)
        print(f"Record: {args.output}")
    # Bounded: what the second half of the cases added (caches fill in the first half and level off).
    growth = record["rss_growth_second_half_mb"]
    bounded = growth is None or growth <= args.max_growth_mb
    if not bounded:
        print(f"Memory grew by {growth} MB over the second half of the cases", file=sys.stderr)
    return 0 if record["errors_500"] == 0 and not record["failures"] and bounded else 1


if __name__ == "__main__":
    sys.exit(main())
