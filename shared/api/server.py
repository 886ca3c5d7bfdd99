"""One server, two faces: a FastAPI app with the API's routes registered first (the OpenAI-compatible
ones, then each registered product's native routes), and the Gradio UI mounted at "/" on the same
process, registry and models. OpenAPI docs at /docs.

    server = build(demo, launch_options)       # app.py
    uvicorn.run(server, host=..., port=...)
"""
from __future__ import annotations

import logging

import gradio as gr
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from shared import descriptor
from shared.api import errors, openai_routes
from shared.config import settings

log = logging.getLogger(__name__)


def build(demo: gr.Blocks, ui_options: dict | None = None) -> FastAPI:
    """The FastAPI app serving the API and, at "/", the Gradio UI `demo` (queued already)."""
    app = FastAPI(title="AI Product Matrix API", version="1",
                  description="The products as a service: native endpoints under /api/v1/, OpenAI-compatible "
                              "ones under /v1/. Every call needs an API key (`Authorization: Bearer <key>`).")
    errors.install(app)
    _limit_bodies(app)
    app.include_router(openai_routes.router)
    for product in descriptor.registered():
        if product.routes is not None:
            app.include_router(product.routes(), prefix=f"/api/v1/{product.name}", tags=[product.name])
    options = dict(ui_options or {})
    users = ui_users()
    if users:  # the browser UI and its Gradio API behind a login: the paid API is not free through the UI
        options["auth"] = users
    return gr.mount_gradio_app(app, demo, path="/", **options)


def ui_users() -> list[tuple[str, str]]:
    """AIPM_UI_AUTH "user:password,user2:password2" -> pairs; empty: the UI is an open demo."""
    pairs = []
    for entry in settings().ui_auth.split(","):
        user, _, password = entry.strip().partition(":")
        if user and password:
            pairs.append((user, password))
    return pairs


def _limit_bodies(app: FastAPI) -> None:
    """Requests to the API larger than the upload limit are refused before they are read (413)."""

    @app.middleware("http")
    async def limit(request: Request, call_next):
        path = request.url.path
        if path.startswith(("/v1/", "/api/v1/")):
            length = request.headers.get("content-length")
            limit_bytes = settings().max_upload_mb * 1_000_000
            if length and length.isdigit() and int(length) > limit_bytes:
                return errors.ApiError(413, f"The request is larger than {settings().max_upload_mb} MB.",
                                       "request_too_large").response()
        return await call_next(request)

    @app.get("/api/v1/health", include_in_schema=False)
    def health():
        return JSONResponse({"status": "ok", "products": list(descriptor.names())})
