"""Every request measured, in one place: SafeBlocks.process_api opens a Record before the inputs are
checked and closes it when the event ends (streaming events: after their last step).

A Record holds what is stored (time, product = the product that declared the api name, action = api
name, model/engine, queue wait and run time, the usage measures the product declares, outcome with
error id, UI language, session) and, in memory only, what feedback compares with (`memo`: the label
given, the transcript, the items shown). Handlers add what only they know:

    capture.note(model="base", engine="fast", audio_s=12.5, memo={"transcript": text})
    capture.note(index=i, ...)            # in a batched handler: sample i
    capture.current_id()                  # the request id of the running request

User content (`inputs=`, `outputs=`) is stored only with AIPM_STORE_CONTENT=1.
"""
from __future__ import annotations

import contextvars
import json
import logging
import threading
import time
import uuid
from collections import OrderedDict
from dataclasses import dataclass, field

from shared import descriptor, store
from shared.config import settings

log = logging.getLogger(__name__)

FIELDS = ("model", "engine", "template", "preset")  # what shaped a result; measures are the products' own
OUTCOMES = ("ok", "user_error", "server_error", "cancelled")
_RECENT = 4096  # records kept in memory for feedback (about an hour of a busy demo)
_CONTENT_CHARS = 200_000  # most characters of content stored per request


@dataclass(eq=False)
class Record:
    id: str
    ts: float
    product: str
    action: str
    lang: str
    session_hash: str | None
    started: float  # perf_counter
    queue_ms: float | None
    fields: dict = field(default_factory=dict)
    memo: dict = field(default_factory=dict)
    inputs: object = None
    outputs: object = None
    outcome: str = "ok"
    error_id: str | None = None
    run_ms: float | None = None


_current: contextvars.ContextVar[tuple[Record, ...] | None] = contextvars.ContextVar("capture", default=None)
_lock = threading.Lock()
_recent: OrderedDict[str, Record] = OrderedDict()
_latest: OrderedDict[tuple[str, str], str] = OrderedDict()  # (session_hash, action) -> request id
_pending: dict[str, tuple[Record, ...]] = {}  # event id -> records of a streaming event
_undeclared: set[tuple[str, str]] = set()  # (product, measure) warned about once


def product_of(action: str) -> str:
    """The product that declared this api name (shared/descriptor.py); "-" for the shared tabs' events."""
    return descriptor.owner_of(action) or "-"


def measured(fn) -> bool:
    """Public events are measured; private ones (timers, presets, unlocking) are not requests."""
    name = getattr(fn, "api_name", None) or ""
    return bool(name) and getattr(fn, "api_visibility", "public") != "private" and not name.startswith("load_example")


# ---- SafeBlocks' side --------------------------------------------------------------------------
def begin(fn, requests: list, langs: list[str], enqueued: float | None) -> tuple[Record, ...] | None:
    if not store.enabled() or not measured(fn):
        return None
    now, wall = time.perf_counter(), time.time()
    queue_ms = max(0.0, (time.monotonic() - enqueued) * 1000) if enqueued else None
    action = fn.api_name
    records = tuple(Record(uuid.uuid4().hex, wall, product_of(action), action, lang,
                           getattr(request, "session_hash", None), now, queue_ms)
                    for request, lang in zip(requests, langs))
    with _lock:
        for record in records:
            _recent[record.id] = record
            if record.session_hash and record.product != "-":
                _latest[(record.session_hash, action)] = record.id
                _latest.move_to_end((record.session_hash, action))
        while len(_recent) > _RECENT:
            _recent.popitem(last=False)
        while len(_latest) > _RECENT:
            _latest.popitem(last=False)
    return records


_DESCRIBED = ("model", "engine", "template", "preset")  # inputs labelled "<product>.model" etc.
_spots: dict[int, list[tuple[int, str]]] = {}


def from_inputs(records, fn, inputs: list) -> None:
    """Model, engine, template and preset chosen in the form, read from the inputs whose label key
    names them (a template, a model or an engine chosen in a form): no product code needed."""
    if not records or len(records) != 1:
        return
    spots = _spots.get(id(fn))
    if spots is None:
        spots = []
        for i, block in enumerate(getattr(fn, "inputs", ())):
            key = getattr(getattr(block, "label", None), "key", "") or ""
            name = key.rsplit(".", 1)[-1]
            if name in _DESCRIBED:
                spots.append((i, name))
        _spots[id(fn)] = spots
    for i, name in spots:
        if i < len(inputs) and inputs[i] not in (None, ""):
            records[0].fields.setdefault(name, str(inputs[i])[:64])


def activate(records):
    return _current.set(records)


def deactivate(token) -> None:
    _current.reset(token)


def keep_streaming(event_id: str | None, records) -> None:
    if event_id and records:
        with _lock:
            _pending[event_id] = records


def resume(event_id: str | None) -> tuple[Record, ...] | None:
    with _lock:
        return _pending.get(event_id) if event_id else None


def finish(records, outcome: str | None = None, error_id: str | None = None, event_id: str | None = None) -> None:
    """Close the records and queue them for the database (never raises)."""
    if not records:
        return
    if event_id:
        with _lock:
            _pending.pop(event_id, None)
    try:
        end = time.perf_counter()
        content = settings().store_content
        for record in records:
            if record.run_ms is not None:
                continue  # closed already
            record.run_ms = (end - record.started) * 1000
            if outcome is not None and record.outcome == "ok":
                record.outcome, record.error_id = outcome, error_id
            store.submit("requests", _row(record))
            if content and (record.inputs is not None or record.outputs is not None):
                store.submit("contents", {"request_id": record.id, "ts": record.ts, "session": record.session_hash,
                                          "inputs": _json(record.inputs), "outputs": _json(record.outputs)})
    except Exception:  # a measurement must never fail a request
        log.debug("capture failed", exc_info=True)


def sweep_cancelled(live_event_ids) -> None:
    """Streaming events whose event the queue has forgotten (Stop, a closed page) end as cancelled."""
    with _lock:
        gone = [event_id for event_id in _pending if event_id not in live_event_ids]
    for event_id in gone:
        finish(_pending.get(event_id), "cancelled", event_id=event_id)


def _row(record: Record) -> dict:
    row = {"id": record.id, "ts": record.ts, "product": record.product, "action": record.action,
           "queue_ms": record.queue_ms, "run_ms": record.run_ms, "outcome": record.outcome,
           "error_id": record.error_id, "lang": record.lang, "session": record.session_hash}
    row.update(record.fields)
    return row


def _json(value) -> str | None:
    if value is None:
        return None
    text = json.dumps(value, ensure_ascii=False, default=str)
    return text[:_CONTENT_CHARS]


# ---- the handlers' side ------------------------------------------------------------------------
def note(index: int | None = None, memo: dict | None = None, inputs=None, outputs=None,
         outcome: str | None = None, **values) -> None:
    """Add what the handler knows to the running request (sample `index` of a batch)."""
    records = _current.get()
    if not records:
        return
    try:
        record = records[index or 0]
    except IndexError:
        return
    product = descriptor.get(record.product)
    declared = {m.name for m in product.measures} if product else set()
    for name, value in values.items():
        if value is None:
            continue
        record.fields[name] = value  # stored either way: a measurement is never lost
        if name not in FIELDS and name not in declared and (record.product, name) not in _undeclared:
            _undeclared.add((record.product, name))  # Insights and usage report declared measures only
            log.warning("capture.note: %r is not a measure %s declares", name, record.product)
    if memo:
        record.memo.update(memo)
    if settings().store_content:
        if inputs is not None:
            record.inputs = inputs
        if outputs is not None:
            record.outputs = outputs
    if outcome in OUTCOMES:
        record.outcome = outcome


def current_id(index: int = 0) -> str | None:
    records = _current.get()
    return records[index].id if records and index < len(records) else None


def get(request_id: str) -> Record | None:
    with _lock:
        return _recent.get(request_id)


def latest(session_hash: str | None, actions) -> Record | None:
    """This session's most recent request among these actions (what its page shows now)."""
    if not session_hash:
        return None
    with _lock:
        found = [_recent.get(_latest.get((session_hash, a), "")) for a in actions]
    found = [r for r in found if r is not None]
    return max(found, key=lambda r: r.started) if found else None


def session_requests(session_hash: str | None, limit: int = 20) -> list[Record]:
    with _lock:
        mine = [r for r in _recent.values() if session_hash and r.session_hash == session_hash
                and r.product != "-"]
    return mine[-limit:]


# ---- the registry's side -----------------------------------------------------------------------
def model_event(event: str, name: str, reason: str = "", seconds: float | None = None, mb: float | None = None):
    """A registry listener: loads, unloads (with the reason) and failed loads."""
    store.submit("model_events", {"ts": time.time(), "model": name, "event": event, "reason": reason[:200],
                                  "seconds": seconds, "mb": mb})
