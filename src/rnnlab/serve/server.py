"""uvicorn's server with deadlines on every connection, so that no client can hold
connections open by sending nothing, or a header line now and then (slowloris).

uvicorn closes a keep-alive connection that stays idle after a response
(`timeout_keep_alive`), but waits for ever for a request to arrive on a new
connection, and for the rest of a request that has begun. `DeadlineProtocol`
adds the missing deadline: a request must arrive whole (headers and body)
within `read_timeout` seconds of the connection opening or of the previous
response; otherwise the connection gets `408 Request Timeout` and is closed.

Example:
>>> config = server_config(app, "127.0.0.1", 8000)  # doctest: +SKIP
>>> uvicorn.Server(config).run()  # doctest: +SKIP
"""

from rnnlab.optional import require

READ_TIMEOUT = 15.0  # seconds for a whole request to arrive
KEEP_ALIVE_TIMEOUT = 5.0  # seconds a connection may stay idle after a response (uvicorn's default)
MAX_CONNECTIONS = 512  # open connections and tasks uvicorn accepts before answering 503


def _timeout_response():
    body = b'{"error": "request timeout: the request did not arrive in time; connection closed"}'
    head = (
        b"HTTP/1.1 408 Request Timeout\r\ncontent-type: application/json\r\nconnection: close\r\n"
        b"content-length: " + str(len(body)).encode() + b"\r\n\r\n"
    )
    return head + body


def deadline_protocol(read_timeout=READ_TIMEOUT):
    """uvicorn's httptools protocol with a deadline of `read_timeout` seconds per request."""
    from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

    response = _timeout_response()

    class DeadlineProtocol(HttpToolsProtocol):
        """Closes a connection whose request has not arrived whole within the deadline."""

        _deadline = None

        def _arm(self):
            if self._deadline is None:
                self._deadline = self.loop.call_later(read_timeout, self._timed_out)

        def _disarm(self):
            if self._deadline is not None:
                self._deadline.cancel()
                self._deadline = None

        def _timed_out(self):
            self._deadline = None
            if not self.transport.is_closing():  # armed only while no response is under way
                self.transport.write(response)
                self.transport.close()

        def connection_made(self, transport):
            super().connection_made(transport)
            self._arm()  # the first request must arrive in time, as every later one

        def on_message_complete(self):
            self._disarm()  # the request is in: the app takes as long as it takes
            super().on_message_complete()

        def on_response_complete(self):
            super().on_response_complete()  # arms uvicorn's keep-alive timeout
            if not self.transport.is_closing():
                self._arm()  # and the next request's deadline

        def connection_lost(self, exc):
            self._disarm()
            super().connection_lost(exc)

    return DeadlineProtocol


def check_timeouts(read_timeout, keep_alive_timeout):
    """Raises ValueError unless both are seconds in (0, 3600]."""
    for name, value in (("read_timeout", read_timeout), ("keep_alive_timeout", keep_alive_timeout)):
        if isinstance(value, bool) or not isinstance(value, int | float) or not 0 < value <= 3600:
            raise ValueError(f"Expected {name} in (0, 3600] seconds. Received: {name}={value!r}")


def server_config(
    app,
    host,
    port,
    log_level="info",
    read_timeout=READ_TIMEOUT,
    keep_alive_timeout=KEEP_ALIVE_TIMEOUT,
    max_connections=MAX_CONNECTIONS,
):
    """The `uvicorn.Config` that `rnnlab serve` runs: deadlines on every connection.

    Args:
        app: the ASGI app (`create_app`).
        host, port: where to listen.
        read_timeout: seconds for a whole request (headers and body) to arrive.
        keep_alive_timeout: seconds an idle connection stays open after a response.
        max_connections: beyond it uvicorn answers 503 at once (no ever-longer queue).
    """
    uvicorn = require("uvicorn", "rnnlab serve")
    check_timeouts(read_timeout, keep_alive_timeout)
    return uvicorn.Config(
        app,
        host=host,
        port=port,
        log_level=log_level,
        access_log=False,
        http=deadline_protocol(read_timeout),
        timeout_keep_alive=keep_alive_timeout,
        limit_concurrency=max_connections,
    )
