"""The door of every API route: the key (401 unknown, 403 revoked or expired), the plan's request rate
and monthly quotas (429 with Retry-After and x-ratelimit-* headers; counted in the database, so every
replica sees the same counts), and one usage row per request when it ends (metered once, with its
units, outcome and time).

    @router.post("/things")
    def things(body: Body, call: Call = Depends(metered("echo", "things"))):
        call.units(rows=len(body.texts))        # what the product measured
        return call.json({...})                 # a JSONResponse with the rate-limit headers

A streaming route sets `call.streaming = True` and calls `call.finish(...)` when its stream ends (or is
dropped): the dependency cannot see the end of a stream.
"""
from __future__ import annotations

import contextlib
import threading
import time
import uuid
from dataclasses import dataclass, field

from fastapi import Request
from fastapi.responses import JSONResponse

from shared import keys, limits, metering
from shared.api.errors import ApiError, from_exception


def bearer(request: Request) -> str:
    """The key from `Authorization: Bearer <key>` (what the openai SDK sends) or `x-api-key`."""
    header = request.headers.get("authorization", "")
    if header[:7].lower() == "bearer ":
        return header[7:].strip()
    return request.headers.get("x-api-key", "").strip()


@dataclass
class Call:
    request_id: str
    key: object  # shared.keys.KeyRecord
    product: str
    action: str
    started: float
    headers: dict = field(default_factory=dict)
    model: str | None = None
    measured: dict = field(default_factory=dict)
    streaming: bool = False
    _done: bool = False
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def units(self, **values) -> None:
        """Add measured units (tokens_in, tokens_out, rows, audio_s, images, ...); `tokens` (what plans
        set quotas and prices on) follows tokens_in + tokens_out."""
        for name, value in values.items():
            if value is not None:
                self.measured[name] = self.measured.get(name, 0) + value
                if name in ("tokens_in", "tokens_out"):
                    self.measured["tokens"] = self.measured.get("tokens", 0) + value

    def json(self, content, status: int = 200) -> JSONResponse:
        return JSONResponse(content, status_code=status, headers=self.headers)

    def finish(self, outcome: str = "ok", status: int = 200) -> None:
        """Meter the request once (a second call does nothing): a usage row, and the units charged
        against the key's monthly quotas."""
        with self._lock:
            if self._done:
                return
            self._done = True
        units = {"requests": 1, **self.measured}
        if outcome == "ok":  # on the store's writer thread: the caller does not wait for it
            limits.charge_later(self.key, self.product, self.measured, self.request_id)
        metering.record_usage({
            "request_id": self.request_id, "ts": time.time(), "key_id": self.key.id, "key_prefix": self.key.prefix,
            "plan": self.key.plan, "product": self.product, "action": self.action, "model": self.model,
            "units": units, "outcome": outcome, "status": status,
            "ms": round((time.perf_counter() - self.started) * 1000, 2)})


def outcome_of(err: BaseException) -> tuple[str, int]:
    api = from_exception(err) if isinstance(err, Exception) else ApiError(499, "cancelled")
    return ("user_error" if api.status < 500 else "server_error"), api.status


def open_call(request: Request, product: str, action: str) -> Call:
    """Authenticate and admit, or raise the ApiError the caller is owed."""
    secret = bearer(request)
    if not secret:
        raise ApiError(401, "Missing API key: send it as 'Authorization: Bearer <key>'.", "missing_api_key")
    try:
        key = keys.authenticate(secret)
    except keys.KeyInvalid as err:
        raise ApiError(401, str(err), "invalid_api_key") from None
    except keys.KeyRefused as err:
        raise ApiError(403, str(err), "api_key_refused") from None
    decision = limits.admit(key, product)
    headers = decision.headers()
    request_id = request.headers.get("x-request-id", "")[:64] or uuid.uuid4().hex
    if not decision.allowed:
        metering.record_usage({"request_id": request_id, "ts": time.time(), "key_id": key.id,
                               "key_prefix": key.prefix, "plan": key.plan, "product": product, "action": action,
                               "units": {}, "outcome": "refused", "status": 429, "ms": 0.0})
        what = "request rate" if decision.reason == "rate" else f"monthly quota of {decision.reason.split(':', 1)[-1]}"
        raise ApiError(429, f"Over the {what} of plan '{key.plan}'; retry after {decision.retry_after_s:.0f} s.",
                       "rate_limited" if decision.reason == "rate" else "quota_exceeded", headers=headers)
    return Call(request_id, key, product, action, time.perf_counter(), {**headers, "x-request-id": request_id})


@contextlib.contextmanager
def guarded(request: Request, product: str, action: str):
    """open_call as a context: metered when the block ends (unless it hands the call to a stream)."""
    call = open_call(request, product, action)
    try:
        yield call
    except BaseException as err:
        call.finish(*outcome_of(err))
        raise
    if not call.streaming:
        call.finish()


def metered(product: str, action: str):
    """A FastAPI dependency: the admitted Call of this request, metered when the route returns or fails."""

    def dependency(request: Request):
        with guarded(request, product, action) as call:
            yield call

    return dependency
