"""Connections that send nothing, or a header line now and then, are closed (408) by the
deadline, and the server keeps answering; the Host check answers JSON; a busy port is
reported before any model loads."""

import socket
import time

import pytest

pytest.importorskip("fastapi")
uvicorn = pytest.importorskip("uvicorn")

from helpers import free_port, running  # noqa: E402
from rnnlab.serve.app import Guard, serve  # noqa: E402
from rnnlab.serve.server import server_config  # noqa: E402


def _tiny_app():
    import fastapi

    app = fastapi.FastAPI()

    @app.get("/health")
    def health():
        return {"status": "ok"}

    return app


@pytest.fixture
def server():
    port = free_port()
    config = server_config(_tiny_app(), "127.0.0.1", port, log_level="warning", read_timeout=1.0,
                           keep_alive_timeout=1.0)  # fmt: skip
    with running(config):
        yield port


def _get_health(port):
    with socket.create_connection(("127.0.0.1", port), timeout=5) as s:
        s.sendall(b"GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
        return _read_all(s)


def _read_all(s):
    chunks = []
    while chunk := s.recv(65536):
        chunks.append(chunk)
    return b"".join(chunks)


def _closed(s):
    """Reads what the server sent until it closed the connection; None if it is still open."""
    s.settimeout(0.05)
    data = b""
    try:
        while chunk := s.recv(65536):
            data += chunk
    except TimeoutError:
        return None
    return data


def test_idle_and_slow_connections_are_closed_and_the_server_still_answers(server):
    idle = [socket.create_connection(("127.0.0.1", server), timeout=5) for _ in range(20)]
    slow = [socket.create_connection(("127.0.0.1", server), timeout=5) for _ in range(20)]
    for s in slow:
        s.sendall(b"GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\n")
    start = time.time()
    for _ in range(4):  # a header line every 0.4 s: never a whole request
        time.sleep(0.4)
        for s in slow:
            try:
                s.sendall(b"X-Slow: 1\r\n")
            except OSError:
                pass  # already closed by the server
    results = [_closed(s) for s in idle + slow]
    elapsed = time.time() - start
    assert all(r is not None for r in results), f"{sum(r is None for r in results)} connections still open"
    assert all(r.startswith(b"HTTP/1.1 408") for r in results if r)
    assert elapsed < 5
    assert b'"status":"ok"' in _get_health(server)
    for s in idle + slow:
        s.close()


def test_a_connection_kept_alive_is_closed_when_idle_but_serves_requests_in_time(server):
    with socket.create_connection(("127.0.0.1", server), timeout=5) as s:
        for _ in range(3):
            s.sendall(b"GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
            time.sleep(0.3)  # within the deadlines
            assert b'"status":"ok"' in s.recv(65536)
        time.sleep(1.5)  # past the keep-alive timeout
        assert _closed(s) == b""


def test_the_host_check_answers_json():
    from fastapi.testclient import TestClient

    app = Guard(_tiny_app(), allowed_hosts=["127.0.0.1", "[::1]"])
    with TestClient(app, base_url="http://evil.example") as client:
        response = client.get("/health")
    assert response.status_code == 400
    expected = "invalid Host header 'evil.example': expected one of 127.0.0.1, [::1]"
    assert response.json() == {"error": expected}
    with TestClient(app, base_url="http://[::1]:8000") as client:
        assert client.get("/health").json() == {"status": "ok"}


def test_a_busy_port_is_reported_before_any_model_loads(tmp_path):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        with pytest.raises(ValueError, match=f"Cannot listen on 127.0.0.1:{port}.*another with --port"):
            serve([str(tmp_path / "no-such-run")], port=port)  # the run is never opened


@pytest.mark.parametrize("value", [0, -1, 5000, "5"])
def test_bad_timeouts_are_refused(value):
    with pytest.raises(ValueError, match="Expected read_timeout in"):
        server_config(_tiny_app(), "127.0.0.1", 8000, read_timeout=value)
