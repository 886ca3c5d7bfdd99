"""The tables of the measurement store (SQLAlchemy Core; the same schema on SQLite and PostgreSQL).

Times are epoch seconds (float), so SQLite and PostgreSQL compare and group them the same way.
Columns that may hold user content (`contents.*`, `feedback.text`) are filled only with
AIPM_STORE_CONTENT=1 and cleared by the retention job. Alembic migrations (migrations/) create these
tables; tests check that the migrated database matches this metadata.
"""
from __future__ import annotations

import json

from sqlalchemy import BigInteger, Column, Float, Index, Integer, MetaData, String, Table, Text

metadata = MetaData()

requests = Table(
    "requests", metadata,
    Column("id", String(32), primary_key=True),  # hex id, given out before the request runs
    Column("ts", Float, nullable=False),  # when the request started (epoch seconds)
    Column("product", String(32), nullable=False),
    Column("action", String(64), nullable=False),  # the event's api_name
    Column("model", String(128)),
    Column("engine", String(64)),
    Column("template", String(64)),  # what the product says shaped the result (a template, a preset, a language)
    Column("preset", String(64)),
    Column("queue_ms", Float),
    Column("run_ms", Float),
    Column("tokens_in", Integer),
    Column("tokens_out", Integer),
    Column("audio_s", Float),
    Column("rows", Integer),
    Column("images", Integer),
    Column("pixels", BigInteger),
    Column("measures", Text),  # JSON: every other usage measure a product declares (shared/descriptor.py)
    Column("outcome", String(16), nullable=False),  # ok | user_error | server_error | cancelled
    Column("error_id", String(16)),
    Column("lang", String(8)),
    Column("session", String(32)),  # keyed hash of Gradio's session_hash
    Index("ix_requests_ts", "ts"),
    Index("ix_requests_product_ts", "product", "ts"),
    Index("ix_requests_session", "session"),
)

contents = Table(  # only with AIPM_STORE_CONTENT=1
    "contents", metadata,
    Column("request_id", String(32), primary_key=True),
    Column("ts", Float, nullable=False),
    Column("inputs", Text),  # JSON
    Column("outputs", Text),  # JSON
    Column("session", String(32)),
    Index("ix_contents_ts", "ts"),
    Index("ix_contents_session", "session"),
)

feedback = Table(
    "feedback", metadata,
    Column("id", String(32), primary_key=True),
    Column("ts", Float, nullable=False),
    Column("request_id", String(32)),  # the rated request (no foreign key: events arrive in batches)
    Column("product", String(32), nullable=False),
    Column("action", String(64)),
    Column("model", String(128)),
    Column("template", String(64)),
    Column("preset", String(64)),
    Column("kind", String(24), nullable=False),  # up, down, pick, edit, correction, favourite, ...
    Column("value", String(200)),  # a label, an item id
    Column("item", String(200)),  # which variant, image or item of the result
    Column("predicted", String(200)),  # what the model said (a label)
    Column("score", Float),  # satisfaction: 1 good, 0 bad, empty when the kind says neither
    Column("wer", Float),  # word error rate of the model's text against the user's correction
    Column("words", Integer),  # words in the correction
    Column("measures", Text),  # JSON: every other number a product's check hook measured
    Column("language", String(8)),
    Column("text", Text),  # content (the rated input, an edit, a correction): AIPM_STORE_CONTENT=1 only
    Column("session", String(32)),
    Column("lang", String(8)),
    Index("ix_feedback_ts", "ts"),
    Index("ix_feedback_product_ts", "product", "ts"),
    Index("ix_feedback_request", "request_id"),
    Index("ix_feedback_session", "session"),
)

model_events = Table(
    "model_events", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("ts", Float, nullable=False),
    Column("model", String(64), nullable=False),
    Column("event", String(16), nullable=False),  # load | unload | fail
    Column("reason", String(200)),
    Column("seconds", Float),
    Column("mb", Float),
    Index("ix_model_events_ts", "ts"),
)

meta = Table(  # small facts shared by every replica (the session-hash key)
    "meta", metadata,
    Column("key", String(64), primary_key=True),
    Column("value", String(200), nullable=False),
)

# ---- the keyed REST API (shared/keys.py, shared/limits.py, shared/metering.py) --------------------
api_keys = Table(
    "api_keys", metadata,
    Column("id", String(32), primary_key=True),
    Column("name", String(200), nullable=False),
    Column("plan", String(64), nullable=False),
    Column("prefix", String(16), nullable=False, unique=True),  # shown in lists and bills; not a secret
    Column("hash", String(64), nullable=False),  # sha256 of the secret; the secret itself is never stored
    Column("created", Float, nullable=False),
    Column("expires", Float),
    Column("revoked", Float),
)

api_rate = Table(  # one row per key: the current minute and its count (updated in one statement)
    "api_rate", metadata,
    Column("key_id", String(32), primary_key=True),
    Column("minute", BigInteger, nullable=False),  # epoch minute
    Column("count", Integer, nullable=False),
)

api_monthly = Table(  # what a key used in a month, per unit (requests, tokens, rows, ...)
    "api_monthly", metadata,
    Column("key_id", String(32), primary_key=True),
    Column("month", String(7), primary_key=True),  # YYYY-MM (UTC)
    Column("unit", String(32), primary_key=True),
    Column("used", Float, nullable=False),
)

api_charges = Table(  # one row per charged request: a retried charge finds its row and adds nothing
    "api_charges", metadata,
    Column("request_id", String(64), primary_key=True),
    Column("ts", Float, nullable=False),
    Column("key_id", String(32), nullable=False),
    Column("units", Text),  # JSON {"product": ..., "units": {unit: amount}}
    Index("ix_api_charges_ts", "ts"),
)

usage = Table(  # one small row per API request (written by the store's writer)
    "usage", metadata,
    Column("request_id", String(64), primary_key=True),
    Column("ts", Float, nullable=False),
    Column("key_id", String(32)),
    Column("key_prefix", String(16)),
    Column("plan", String(64)),
    Column("product", String(32)),
    Column("action", String(64)),
    Column("model", String(128)),
    Column("units", Text),  # JSON {unit: amount}
    Column("outcome", String(16), nullable=False),  # ok | user_error | server_error | cancelled | refused
    Column("status", Integer),
    Column("ms", Float),
    Index("ix_usage_ts", "ts"),
    Index("ix_usage_key_ts", "key_id", "ts"),
)

TABLES = {t.name: t for t in (requests, contents, feedback, model_events, meta, usage)}

# Tables whose rows carry the caller's own id: a row submitted twice (a retry) is written once, and
# the duplicate must not fail the rest of the writer's batch.
IDEMPOTENT = frozenset({"usage"})


def fold_measures(table: str, row: dict) -> dict:
    """The row as the table stores it: keys that are not columns go into its `measures` JSON (a new
    measure a product declares needs no schema change); tables without one keep the row as given."""
    columns = TABLES[table].columns
    if "measures" not in columns:
        return row
    extra = {k: v for k, v in row.items() if k not in columns and v is not None}
    if not extra:
        return row
    folded = {k: v for k, v in row.items() if k in columns}
    folded["measures"] = json.dumps({**json.loads(row.get("measures") or "{}"), **extra}, ensure_ascii=False,
                                    default=str)
    return folded
