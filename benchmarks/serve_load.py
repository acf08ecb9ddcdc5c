"""Load test of `rnnlab serve` on loopback: sentiment requests of real IMDb test reviews.

Starts `rnnlab serve RUN_DIR` in a subprocess, then sends `--requests` POSTs to
/v1/sentiment from one asyncio client (aiohttp). Open loop by default: requests
start at a fixed `--rate` whatever the answers (how users arrive), at most
`--max-in-flight` at once; `--rate 0` is a closed loop of `--max-in-flight`
clients (the throughput ceiling). Latency is from sending to the full answer.
Records requests/s, p50/p99 latency, errors and the server's memory before and after.

Usage:
    python benchmarks/serve_load.py runs/gru-fast --requests 20000 --rate 250 \
        --output results/serve/load.json
"""

import argparse
import asyncio
import contextlib
import json
import os
import socket
import subprocess
import sys
import time

import numpy as np


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def rss_mb(pid):
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def wait_until_up(url, process, timeout=180):
    import httpx

    deadline = time.time() + timeout
    while time.time() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the server exited with status {process.returncode}")
        try:
            if httpx.get(url + "/health", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.5)
    raise RuntimeError(f"the server did not answer /health within {timeout} s")


@contextlib.contextmanager
def running_server(command_for_port, env=None):
    """Starts `command_for_port(port)` on a free loopback port and waits for its /health; yields
    `(url, process)`. On exit the server is stopped and what it wrote to stderr is kept in
    `process.stderr_text`."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    process = subprocess.Popen(
        command_for_port(port), env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True
    )
    process.stderr_text = ""
    try:
        wait_until_up(url, process)
        yield url, process
    finally:
        process.terminate()
        try:
            _, process.stderr_text = process.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()


async def drive(url, texts, requests, rate, max_in_flight):
    """Latencies (s) and error descriptions of `requests` sentiment calls (aiohttp: a light client,
    so that the client takes little of the two cores the server needs)."""
    import aiohttp

    latencies, errors = [], []
    gate = asyncio.Semaphore(max_in_flight)
    bodies = [json.dumps({"input": text}).encode() for text in texts]
    headers = {"content-type": "application/json"}
    connector = aiohttp.TCPConnector(limit=max_in_flight)
    timeout = aiohttp.ClientTimeout(total=30)

    async with aiohttp.ClientSession(url, connector=connector, timeout=timeout) as session:

        async def one(i):
            async with gate:
                start = time.perf_counter()
                try:
                    async with session.post(
                        "/v1/sentiment", data=bodies[i % len(bodies)], headers=headers
                    ) as reply:
                        body = await reply.read()
                        if reply.status != 200:
                            errors.append(f"{reply.status}: {body[:200]!r}")
                            return
                    json.loads(body)["probability"]
                except (TimeoutError, aiohttp.ClientError, KeyError, ValueError) as error:
                    errors.append(f"{type(error).__name__}: {error}")
                    return
                latencies.append(time.perf_counter() - start)

        if rate <= 0:  # closed loop: max_in_flight clients, each sending its next request at once
            counter = iter(range(requests))

            async def client_loop():
                for i in counter:
                    await one(i)

            await asyncio.gather(*(client_loop() for _ in range(max_in_flight)))
        else:
            start = time.perf_counter()
            tasks = []
            for i in range(requests):
                delay = start + i / rate - time.perf_counter()
                if delay > 0:
                    await asyncio.sleep(delay)
                tasks.append(asyncio.create_task(one(i)))
            await asyncio.gather(*tasks)
    return latencies, errors


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("run", metavar="RUN_DIR", help="a sentiment run folder")
    parser.add_argument("--requests", type=int, default=20_000)
    parser.add_argument("--rate", type=float, default=250.0, help="requests/s sent (0: closed loop)")
    parser.add_argument("--max-in-flight", type=int, default=64)
    parser.add_argument("--warmup", type=int, default=500, help="requests sent first, not counted")
    parser.add_argument("--output", default=None, help="JSON record to write")
    args = parser.parse_args(argv)

    from rnnlab import runs
    from rnnlab.datasets import imdb

    texts = list(imdb.load_texts("test")[0][:2000])
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2"}

    def command(port):
        return [sys.executable, "-m", "rnnlab", "serve", args.run, "--port", str(port)]

    with running_server(command, env) as (url, server):
        rss_start = rss_mb(server.pid)
        load_average_start = os.getloadavg()[0]
        asyncio.run(drive(url, texts, args.warmup, args.rate, args.max_in_flight))
        rss_warm = rss_mb(server.pid)
        start = time.perf_counter()
        latencies, errors = asyncio.run(
            drive(url, texts, args.requests, args.rate, args.max_in_flight)
        )  # fmt: skip
        wall = time.perf_counter() - start
        rss_end = rss_mb(server.pid)
    stderr = server.stderr_text
    ms = np.asarray(latencies) * 1000
    record = {
        "requests": args.requests,
        "requests_per_s": round(args.requests / wall, 1),
        "p50_ms": round(float(np.percentile(ms, 50)), 2) if len(ms) else None,
        "p90_ms": round(float(np.percentile(ms, 90)), 2) if len(ms) else None,
        "p99_ms": round(float(np.percentile(ms, 99)), 2) if len(ms) else None,
        "max_ms": round(float(ms.max()), 2) if len(ms) else None,
        "errors": len(errors),
        "first_errors": errors[:5],
        "rate_sent": args.rate,
        "max_in_flight": args.max_in_flight,
        "warmup_requests": args.warmup,
        "server_rss_mb": {
            "started": round(rss_start, 1),
            "after_warmup": round(rss_warm, 1),
            "after": round(rss_end, 1),
        },  # fmt: skip
        "load_average_at_start": round(load_average_start, 2),
        "texts": "the first 2,000 IMDb test reviews, cycled",
        "wall_time_s": round(wall, 1),
        "run": args.run,
        "server_errors_logged": sum("Error" in line for line in (stderr or "").splitlines()),
        **runs.provenance(os.environ.get("KERAS_BACKEND") or "the run's"),
    }
    print({k: record[k] for k in ("requests_per_s", "p50_ms", "p99_ms", "errors", "server_rss_mb")})
    if args.output:
        runs.write_json(args.output, record)
        print(f"Record: {args.output}")
    return 0 if not errors else 1


if __name__ == "__main__":
    sys.exit(main())
