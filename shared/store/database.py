"""Connecting, migrating and the few write operations of the store: SQLite (WAL) or PostgreSQL by URL."""
from __future__ import annotations

import hashlib
import hmac
import secrets
import threading
import time
from pathlib import Path

from sqlalchemy import create_engine, delete, event, insert, select, update
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.exc import IntegrityError

from shared.store.schema import contents, feedback, meta, requests

MIGRATIONS = Path(__file__).resolve().parent / "migrations"


def make_engine(url: str) -> Engine:
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).expanduser().parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"timeout": 10})

        @event.listens_for(engine, "connect")
        def _pragmas(dbapi_connection, _record):  # WAL: readers (Insights) never block the writer
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.execute("PRAGMA busy_timeout=10000")
            cursor.close()
        return engine
    return create_engine(url, pool_pre_ping=True, pool_size=2, max_overflow=2,
                         connect_args={"connect_timeout": 5} if parsed.get_backend_name() == "postgresql" else {})


_migrating = threading.Lock()


def migrate(engine: Engine) -> None:
    """Bring the schema to the newest Alembic revision (several replicas may race: one wins, the
    others find the tables there)."""
    from alembic import command
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    # Alembic's `op` is one module-wide proxy: two writers of this process migrating at once (two
    # databases, or a test's and the app's) would run each other's operations. One at a time here;
    # other processes are separate and race only on the database, as above.
    with _migrating, engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, "head")


def session_key(engine: Engine) -> str:
    """The key that pseudonymises session ids, shared by every replica through the database."""
    with engine.begin() as conn:
        found = conn.execute(select(meta.c.value).where(meta.c.key == "session_key")).scalar()
        if found:
            return found
    try:
        with engine.begin() as conn:
            conn.execute(insert(meta).values(key="session_key", value=secrets.token_hex(32)))
    except IntegrityError:  # another replica wrote it first
        pass
    with engine.begin() as conn:
        return conn.execute(select(meta.c.value).where(meta.c.key == "session_key")).scalar_one()


def pseudonym(session_hash: str | None, key: str | None) -> str | None:
    """A session id that cannot be traced back to the browser's own: a keyed hash (the key is in the
    database, shared by replicas). Gradio's session_hash never reaches the database."""
    if not session_hash or not key:
        return None
    return hmac.new(key.encode(), session_hash.encode(), hashlib.sha256).hexdigest()[:20]


def remove_old_content(conn, days: float, now: float | None = None) -> dict:
    """The retention job: stored content older than `days` goes; measurements stay."""
    cutoff = (time.time() if now is None else now) - days * 86400
    gone = conn.execute(delete(contents).where(contents.c.ts < cutoff)).rowcount
    cleared = conn.execute(update(feedback).where(feedback.c.ts < cutoff, feedback.c.text.is_not(None))
                           .values(text=None)).rowcount
    return {"contents": gone, "feedback_texts": cleared}


def remove_session(conn, session: str) -> dict:
    """Everything recorded for one (hashed) session: requests, content, feedback."""
    return {name: conn.execute(delete(table).where(table.c.session == session)).rowcount
            for name, table in (("requests", requests), ("contents", contents), ("feedback", feedback))}


def safe_url(url: str) -> str:
    """The URL without its password, for display."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except Exception:
        return "(unparsable URL)"
