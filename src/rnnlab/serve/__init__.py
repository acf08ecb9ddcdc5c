"""The HTTP API and the demo page over trained runs (`rnnlab serve RUN_DIR ...`).

One endpoint per run, `POST /v1/<task>` (`rnnlab.serve.routes`), plus `/health`, `/v1/models`,
the OpenAPI schema (`/openapi.json`; no `/docs` page, whose scripts would come from a CDN) and one
page at `/`, made of the served tasks' sections (`Task.demo_section`). Models are loaded once, at
start; every connection has deadlines (`rnnlab.serve.server`).
Needs the `serve` extra (FastAPI, uvicorn, python-multipart).

Example:
>>> app = create_app(["runs/article"])  # doctest: +SKIP
>>> serve(["runs/article"], port=8000)  # doctest: +SKIP
"""

from rnnlab.serve.app import Limits, create_app, serve

__all__ = ["Limits", "create_app", "serve"]
