"""Errors in OpenAI's shape, {"error": {"message", "type", "param", "code"}} with the HTTP status, for
every route of the API: the messages the UI shows, as JSON."""
from __future__ import annotations

import json
import logging
import uuid

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from shared.specs import MemoryBudgetError, ModelInUseError, ModelLoadError
from shared.ui import UserError

log = logging.getLogger(__name__)

_TYPES = {400: "invalid_request_error", 401: "authentication_error", 403: "permission_error",
          404: "not_found_error", 405: "invalid_request_error", 413: "invalid_request_error",
          415: "invalid_request_error", 422: "invalid_request_error", 429: "rate_limit_error",
          503: "service_unavailable", 500: "server_error"}


class ApiError(Exception):
    """An answer that is not a result: status, a message for the caller, OpenAI's type and code."""

    def __init__(self, status: int, message: str, code: str | None = None, param: str | None = None,
                 headers: dict | None = None):
        super().__init__(message)
        self.status, self.message, self.code, self.param = status, message, code, param
        self.headers = headers or {}

    def body(self) -> dict:
        return {"error": {"message": self.message, "type": _TYPES.get(self.status, "invalid_request_error"),
                          "param": self.param, "code": self.code}}

    def response(self) -> JSONResponse:
        return JSONResponse(self.body(), status_code=self.status, headers=self.headers)


def from_exception(err: Exception) -> ApiError:
    """What a caller is told for an exception a handler raised (a real bug gets an id, as in the UI)."""
    if isinstance(err, ApiError):
        return err
    if isinstance(err, UserError):
        return ApiError(400, str(err), "invalid_input")
    if isinstance(err, MemoryBudgetError):
        return ApiError(503, str(err), "busy", headers={"Retry-After": "5"})
    if isinstance(err, (ModelLoadError, ModelInUseError)):
        return ApiError(503, str(err), "model_unavailable", headers={"Retry-After": "5"})
    error_id = uuid.uuid4().hex[:10]
    log.error("API: unexpected error %s: %s", error_id, err, exc_info=err)
    return ApiError(500, f"Something went wrong on our side (error id {error_id}).", "internal_error")


def _validation_message(err: RequestValidationError) -> tuple[str, str | None]:
    first = (err.errors() or [{}])[0]
    where = [str(p) for p in first.get("loc", ()) if p not in ("body", "query", "form")]
    param = ".".join(where) or None
    if first.get("type") == "json_invalid":
        return "The request body is not valid JSON.", None
    return f"{param or 'request'}: {first.get('msg', 'invalid value')}", param


def install(app: FastAPI) -> None:
    """Every error the app answers, in one shape."""

    @app.exception_handler(ApiError)
    async def _api_error(request: Request, err: ApiError):
        return err.response()

    @app.exception_handler(UserError)
    async def _user_error(request: Request, err: UserError):
        return from_exception(err).response()

    @app.exception_handler(Exception)
    async def _anything(request: Request, err: Exception):  # a model that will not load, a busy budget, a bug
        return from_exception(err).response()

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, err: RequestValidationError):
        message, param = _validation_message(err)
        return ApiError(400, message, "invalid_request", param).response()

    @app.exception_handler(json.JSONDecodeError)
    async def _bad_json(request: Request, err: json.JSONDecodeError):
        return ApiError(400, "The request body is not valid JSON.", "invalid_json").response()

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, err: StarletteHTTPException):
        if not request.url.path.startswith(("/v1/", "/api/v1/")):  # the UI's own pages keep Starlette's answer
            return JSONResponse({"detail": err.detail}, status_code=err.status_code)
        return ApiError(err.status_code, str(err.detail), "not_found" if err.status_code == 404 else None).response()
