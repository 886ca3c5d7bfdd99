"""The measurement store: requests, feedback and model events in a real database.

    from shared import store
    store.submit("requests", {...})        # never blocks, never raises (queued for the writer thread)
    store.read(select(...))                # a DataFrame, for Insights and exports

Default: SQLite in the cache folder (WAL mode); AIPM_DATABASE_URL names PostgreSQL for several
replicas. The schema is created and upgraded by Alembic migrations on first use.
"""
from __future__ import annotations

import threading

from shared.config import settings
from shared.store.database import pseudonym
from shared.store.writer import Writer

_lock = threading.Lock()
_writer: Writer | None = None
_reader = None  # (url, engine)


def writer() -> Writer:
    global _writer
    if _writer is None:
        with _lock:
            if _writer is None:
                config = settings()
                _writer = Writer(config.database_url, max_queue=config.store_queue,
                                 retention_days=config.retention_days)
    return _writer


def use_writer(new: Writer | None) -> Writer | None:
    """Replace the process's writer (tests, benchmarks); returns the previous one."""
    global _writer, _reader
    with _lock:
        old, _writer, _reader = _writer, new, None
    return old


def enabled() -> bool:
    return settings().capture


def submit(table: str, row: dict) -> bool:
    if not enabled():
        return False
    return writer().submit(table, row)


def submit_op(op) -> bool:
    return writer().submit_op(op)


def my_session(session_hash: str | None, timeout: float = 5.0) -> str | None:
    """The stored (pseudonymous) id of this browser session."""
    return pseudonym(session_hash, writer().session_key(timeout))


def engine():
    """An engine for reads (migrated, so the tables exist)."""
    global _reader
    from shared.store import database

    url = writer().url
    with _lock:
        if _reader is None or _reader[0] != url:
            made = database.make_engine(url)
            database.migrate(made)
            _reader = (url, made)
        return _reader[1]


def read(statement):
    """The rows of a select as a DataFrame."""
    import pandas as pd

    with engine().connect() as conn:
        result = conn.execute(statement)
        return pd.DataFrame(result.fetchall(), columns=list(result.keys()))


def forget(session_hash: str) -> bool:
    """Queue the removal of everything recorded for this browser session (after its pending events)."""
    from shared.store.database import remove_session

    def op(conn, key):
        remove_session(conn, pseudonym(session_hash, key))
    return writer().submit_op(op)


def cleanup(days: float | None = None) -> dict:
    """Run the retention job now (python -m shared.store --cleanup)."""
    from shared.store.database import remove_old_content

    with engine().begin() as conn:
        return remove_old_content(conn, settings().retention_days if days is None else days)
