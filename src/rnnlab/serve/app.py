"""The FastAPI app: runs loaded once, request limits, the access token, errors, the page.

Errors are JSON `{"error": message}`: 400 (a `Host` not served), 401 (token), 413 (body too large), 415
(wrong content type), 422 (invalid JSON, a value out of range, input the model
cannot use, with what was received and what is expected), and 500 for a model
failure, whose response carries only an id; the traceback goes to the log.
"""

import asyncio
import functools
import hmac
import ipaddress
import json
import logging
import os
import socket
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass
from importlib import resources
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from urllib.parse import parse_qs

from rnnlab.errors import InputError
from rnnlab.export import manifest as manifests
from rnnlab.export.runtime import load_export
from rnnlab.optional import require
from rnnlab.serve.server import KEEP_ALIVE_TIMEOUT, READ_TIMEOUT, check_timeouts, server_config
from rnnlab.tasks import get_task
from rnnlab.tasks.base import Predictor, load_predictor

LOG = logging.getLogger("rnnlab.serve")
TOKEN_ENV = "RNNLAB_TOKEN"  # the access token, when --token is not given
SECTIONS = "<!-- task sections -->"  # where `page.html` takes the served tasks' sections


@dataclass(frozen=True)
class Limits:
    """Caps on what one request may ask for (each beyond it is a 413 or 422).

    Args:
        max_body_bytes: request body (a 30-second 16-bit WAV at 16 kHz is about 1 MB).
        max_input_chars: a text input (IMDb's longest review is about 14,000 characters); a run's
            predictor may accept less (a sentence to translate: 2,000).
        max_generate_length: tokens generated per request (the `length` option).
        max_beam_size: beam width (the `beam_size` option).
        max_batch: requests answered together by one model call (for predictors that batch).

    Audio longer than an audio run accepts (10 s for spoken digits, 30 s for digit
    strings) is refused by the run's preprocessor.
    """

    max_body_bytes: int = 2_000_000
    max_input_chars: int = 20_000
    max_generate_length: int = 1_000
    max_beam_size: int = 16
    max_batch: int = 64

    @property
    def option_caps(self):
        """Server caps on predictor options, by option name."""
        return {"length": self.max_generate_length, "beam_size": self.max_beam_size}


class ServedExport:
    """An ONNX export (`rnnlab.export.runtime`) with what the server asks of a run's `Predictor`:
    its task's route and page section, answered by ONNX Runtime.

    Args:
        exported: a loaded export (`rnnlab.export.runtime.load_export`).
    """

    batches_requests = False
    backend = "onnxruntime"

    def __init__(self, exported):
        self.exported = exported
        self.task = get_task(exported.manifest["task"])  # its name and its part of the page
        self.folder = exported.folder
        self.options_cls = exported.options_cls
        self.input_kind = self.task.predictor_cls.input_kind
        self.input_description = self.task.predictor_cls.input_description
        self.test_metrics = exported.manifest["metrics"]
        self.__doc__ = f"An rnnlab {self.task.name} export, run by ONNX Runtime."

    def predict(self, inputs, **options):
        return self.exported.predict(inputs, **options)

    def warm_up(self, max_batch):
        """Nothing to compile."""


class ServedModel:
    """A run's `Predictor` (or a `ServedExport`) and the one thread that calls it (models are not
    shared between threads)."""

    def __init__(self, predictor, run_dir):
        self.predictor = predictor
        self.name = Path(run_dir).name
        self.executor = ThreadPoolExecutor(1, thread_name_prefix=f"rnnlab-{predictor.task.name}")
        if isinstance(predictor, ServedExport):
            self.backend, self.test_metrics = predictor.backend, predictor.test_metrics
            return
        self.backend = predictor.config.backend
        metrics_path = predictor.folder / "metrics.json"  # read once: /v1/models answers from memory
        metrics = json.loads(metrics_path.read_text()) if metrics_path.exists() else {}
        self.test_metrics = metrics.get("test", {})

    async def call(self, function, *args, **kwargs):
        """`function(*args, **kwargs)` on the model's thread, awaited."""
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self.executor, functools.partial(function, *args, **kwargs))

    def describe(self):
        return {
            "task": self.predictor.task.name,
            "run": self.name,
            "backend": self.backend,
            "test": self.test_metrics,
        }


def _load(models):
    """`ServedModel`s, one per task, from run folders, export folders or loaded `Predictor`s."""
    served = {}
    for item in models:
        if isinstance(item, Predictor):
            predictor, where = item, item.folder
        elif manifests.is_export(item):
            predictor, where = ServedExport(load_export(item)), item
        else:
            predictor, where = load_predictor(item), item
        name = predictor.task.name
        if name in served:
            raise ValueError(
                f"Expected at most one run per task. Received two {name!r} runs: "
                f"{served[name].predictor.folder} and {predictor.folder}."
            )
        served[name] = ServedModel(predictor, where)
    if not served:
        raise ValueError("Expected at least one run folder to serve. Received: none.")
    return served


def create_app(models, token=None, limits=None, allowed_hosts=None):
    """The FastAPI app serving `models`.

    Args:
        models: run folders (written by `rnnlab train`) or loaded `Predictor`s; at most one per task.
        token: when set, every request must carry it (`Authorization: Bearer TOKEN`, or
            `?token=TOKEN` for the page).
        limits: `Limits` (default: `Limits()`).
        allowed_hosts: accepted `Host` headers (None: any); `serve` passes the loopback names
            when it binds to loopback without a token.

    Example:
    >>> app = create_app(["runs/article"])  # doctest: +SKIP
    """
    fastapi = require("fastapi", "rnnlab serve")
    from fastapi.exceptions import RequestValidationError
    from fastapi.responses import HTMLResponse, JSONResponse
    from starlette.exceptions import HTTPException as StarletteHTTPException

    from rnnlab.serve import routes

    limits = limits or Limits()
    served = _load(models)
    app = fastapi.FastAPI(
        docs_url=None,  # Swagger's and ReDoc's pages load scripts from a CDN; /openapi.json stays
        redoc_url=None,
        title="rnnlab",
        description="Recurrent neural networks trained with rnnlab: " + ", ".join(sorted(served)),
        version=_version(),
    )
    app.state.served = served
    app.state.limits = limits
    app.state.batchers = {}
    mounted = {name: routes.add_route(app, model, limits) for name, model in served.items()}

    @app.api_route("/health", methods=["GET", "HEAD"])
    def health():
        return {"status": "ok", "tasks": sorted(mounted)}

    @app.get("/v1/models")
    def list_models():
        return {
            "models": [{**served[name].describe(), "endpoint": path} for name, path in mounted.items()],
            "limits": asdict(limits),
        }

    page = demo_page([model.predictor.task for model in served.values()])

    @app.api_route("/", methods=["GET", "HEAD"], response_class=HTMLResponse, include_in_schema=False)
    def index():
        return page

    @app.exception_handler(RequestValidationError)
    async def invalid_request(request, error):
        return JSONResponse(status_code=422, content={"error": _validation_message(error.errors())})

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request, error):
        if error.status_code == 400 and error.detail == "There was an error parsing the body":
            message = "invalid JSON: the body could not be parsed. Expected a JSON object in UTF-8."
            return JSONResponse(status_code=422, content={"error": message})  # as any other invalid JSON
        return JSONResponse(status_code=error.status_code, content={"error": str(error.detail)},
                            headers=getattr(error, "headers", None))  # fmt: skip

    @app.exception_handler(InputError)
    async def unusable_input(request, error):  # the predictors' checks: what was received, what is expected
        return JSONResponse(status_code=422, content={"error": str(error)})

    @app.exception_handler(Exception)
    async def failure(request, error):
        error_id = uuid.uuid4().hex[:12]
        LOG.error("request %s %s failed (id %s)", request.method, request.url.path, error_id, exc_info=error)
        return JSONResponse(status_code=500, content={"error": "internal error", "id": error_id})

    # The Host check comes first: a page elsewhere cannot reach a loopback server by DNS rebinding.
    app.add_middleware(Guard, token=token, max_body_bytes=limits.max_body_bytes, allowed_hosts=allowed_hosts)
    return app


def demo_page(tasks):
    """The page at `/`: `page.html` with a hidden `<section id="NAME">` for each task of `tasks`
    that has one (`Task.demo_section`), in order; the page's script shows the sections of the
    runs `/v1/models` lists.

    Example:
    >>> from rnnlab.tasks import TASKS, get_task
    >>> page = demo_page([get_task(name) for name in TASKS])
    >>> all(f'<section id="{name}" hidden>' in page for name in TASKS)
    True
    """
    page = resources.files("rnnlab.serve").joinpath("page.html").read_text(encoding="utf-8")
    sections = []
    for task in tasks:
        section = task.demo_section()
        if section:
            sections.append(f'<section id="{task.name}" hidden>\n{section}</section>\n')
    return page.replace(SECTIONS, "\n".join(sections))


def _validation_message(errors):
    parts = []
    for error in errors:
        if error.get("type") == "json_invalid":
            position = error.get("loc", ("body", "?"))[-1]
            reason = error.get("ctx", {}).get("error", "not JSON")
            parts.append(f"invalid JSON at character {position}: {reason}. Expected a JSON object.")
            continue
        where = ".".join(str(part) for part in error.get("loc", ()) if part != "body") or "body"
        parts.append(f"{where}: {error.get('msg', 'invalid')}")
    return "; ".join(parts) or "invalid request"


def _version():
    try:
        return version("rnnlab")
    except PackageNotFoundError:
        return "unknown"


class Guard:
    """ASGI middleware: the `Host` header, the access token and the body-size cap, before any
    endpoint runs; every refusal is a JSON `{"error": ...}`."""

    def __init__(self, app, token=None, max_body_bytes=Limits.max_body_bytes, allowed_hosts=None):
        self.app = app
        self.token = token.encode() if token else None
        self.max_body_bytes = max_body_bytes
        self.allowed_hosts = set(allowed_hosts) if allowed_hosts else None

    async def __call__(self, scope, receive, send):
        if scope["type"] == "websocket":  # no endpoint speaks it; refuse rather than pass unchecked
            return await send({"type": "websocket.close", "code": 1008})
        if scope["type"] != "http":  # lifespan
            return await self.app(scope, receive, send)
        headers = dict(scope.get("headers") or ())
        if self.allowed_hosts is not None:
            host = _host_name(headers.get(b"host", b"").decode("latin-1"))
            if host not in self.allowed_hosts:
                expected = ", ".join(sorted(self.allowed_hosts))
                message = f"invalid Host header {host[:60]!r}: expected one of {expected}"
                return await _send_error(send, 400, message)
        if self.token is not None and not self._authorized(scope, headers):
            return await _send_error(send, 401, "missing or wrong token: send 'Authorization: Bearer TOKEN'")
        declared = headers.get(b"content-length")
        if declared is not None:
            try:
                size = int(declared)
            except ValueError:
                return await _send_error(send, 400, f"invalid Content-Length: {declared[:40]!r}")
            if size > self.max_body_bytes:
                return await _send_error(send, 413, self._too_large(size))
            return await self.app(scope, receive, send)
        # No length given (chunked): read the body up to the cap, then hand it on.
        chunks, size, more = [], 0, True
        while more:
            message = await receive()
            if message["type"] == "http.disconnect":
                return None
            chunks.append(message.get("body", b""))
            size += len(chunks[-1])
            more = message.get("more_body", False)
            if size > self.max_body_bytes:
                return await _send_error(send, 413, self._too_large(f"more than {size}"))
        body = b"".join(chunks)
        delivered = False

        async def replay():
            nonlocal delivered
            if delivered:
                return await receive()
            delivered = True
            return {"type": "http.request", "body": body, "more_body": False}

        return await self.app(scope, replay, send)

    def _too_large(self, size):
        return f"request body too large: {size} bytes. Expected at most {self.max_body_bytes} bytes."

    def _authorized(self, scope, headers):
        given = headers.get(b"authorization", b"")
        if given.lower().startswith(b"bearer "):
            given = given[7:].strip()
        elif scope.get("path") == "/" and scope.get("method") in ("GET", "HEAD"):
            # only the page takes ?token= (links); the API wants the header
            query = parse_qs(scope.get("query_string", b"").decode("utf-8", "replace"))
            given = (query.get("token") or [""])[0].encode("utf-8")
        else:
            return False
        return hmac.compare_digest(given, self.token)


def _host_name(host):
    """The name in a `Host` header, without the port ('[::1]:8000' -> '[::1]')."""
    if host.startswith("["):
        return host[: host.find("]") + 1] if "]" in host else host
    return host.split(":", 1)[0]


async def _send_error(send, status, message):
    body = json.dumps({"error": message}).encode()
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


def is_loopback(host):
    """Whether `host` only accepts connections from this machine."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def serve(
    models,
    host="127.0.0.1",
    port=8000,
    token=None,
    limits=None,
    log_level="info",
    read_timeout=READ_TIMEOUT,
    keep_alive_timeout=KEEP_ALIVE_TIMEOUT,
):
    """Loads the runs and serves them with uvicorn until interrupted.

    Args:
        models: run folders or ONNX export folders, at most one per task.
        host: interface to bind; anything but loopback requires a token.
        port: TCP port.
        token: access token (default: the `RNNLAB_TOKEN` environment variable, if set).
        read_timeout: seconds for a whole request to arrive (slow or silent clients are closed).
        keep_alive_timeout: seconds an idle connection stays open after a response.

    Raises:
        ValueError: a non-loopback host without a token, or a port that is taken (checked
            before any model loads).
    """
    uvicorn = require("uvicorn", "rnnlab serve")
    token = token or os.environ.get(TOKEN_ENV) or None
    if not is_loopback(host) and not token:
        raise ValueError(
            f"Binding to {host} exposes the models beyond this machine. Expected an access token: "
            f"--token TOKEN or the {TOKEN_ENV} environment variable (or bind to 127.0.0.1)."
        )
    if not isinstance(port, int) or not 0 <= port <= 65535:
        raise ValueError(f"Expected a port in 0..65535. Received: {port!r}")
    check_timeouts(read_timeout, keep_alive_timeout)
    _check_port_free(host, port)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    loopback_names = ["127.0.0.1", "localhost", "::1", "[::1]"]
    allowed_hosts = loopback_names if is_loopback(host) and not token else None
    app = create_app(models, token=token, limits=limits, allowed_hosts=allowed_hosts)
    config = server_config(
        app, host, port, log_level=log_level, read_timeout=read_timeout, keep_alive_timeout=keep_alive_timeout
    )
    uvicorn.Server(config).run()


def _check_port_free(host, port):
    """Raises ValueError when `port` on `host` cannot be bound (in use, or not allowed)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as uvicorn binds
        try:
            probe.bind((host, port))
        except OSError as error:
            raise ValueError(
                f"Cannot listen on {host}:{port}: {error.strerror or error}. "
                "Expected a free port: choose another with --port."
            ) from None
