"""The store's writer: a bounded in-process queue and one thread that writes events in batches.

`submit` never blocks and never raises: when the queue is full the event is dropped and counted; when
the database is down the writer retries the batch with a growing pause (events wait in the queue), and
what it still cannot write is dropped and counted. The counts are on the Insights tab.
"""
from __future__ import annotations

import logging
import queue
import threading
import time
from typing import Callable

from sqlalchemy import insert

from shared.store import database
from shared.store.schema import IDEMPOTENT, TABLES, fold_measures

log = logging.getLogger(__name__)


class Writer:
    def __init__(self, url: str, max_queue: int = 10000, batch_size: int = 500, linger_s: float = 0.05,
                 retention_days: float = 30.0, cleanup_every_s: float = 3600.0, retries: int = 3,
                 backoff_s: float = 1.0, max_backoff_s: float = 30.0):
        self.url = url
        self.batch_size = batch_size
        self.linger_s = linger_s
        self.retention_days = retention_days
        self.cleanup_every_s = cleanup_every_s
        self.retries = retries
        self.backoff_s = backoff_s
        self.max_backoff_s = max_backoff_s
        self._queue: queue.Queue = queue.Queue(max_queue)
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._engine = None
        self._key: str | None = None
        self._key_ready = threading.Event()
        self._last_cleanup = 0.0
        self.counts = {"written": 0, "dropped_queue_full": 0, "dropped_database": 0, "batches": 0}
        self.last_error = ""

    # ---- the request side: never blocks, never raises -----------------------------------------
    def submit(self, table: str, row: dict) -> bool:
        return self._put((table, row))

    def submit_op(self, op: Callable) -> bool:
        """Run op(connection, key) on the writer thread, in order with the events before it (key: the
        session key, for ops on one session's rows)."""
        return self._put(("op", op))

    def _put(self, item) -> bool:
        try:
            self._start()
            self._queue.put_nowait(item)
            return True
        except queue.Full:
            with self._lock:
                self.counts["dropped_queue_full"] += 1
            return False
        except Exception:  # a request must not fail for its measurement
            log.debug("event not queued", exc_info=True)
            with self._lock:
                self.counts["dropped_queue_full"] += 1
            return False

    def _start(self) -> None:
        if self._thread is None:
            with self._lock:
                if self._thread is None:
                    self._thread = threading.Thread(target=self._loop, name="store-writer", daemon=True)
                    self._thread.start()

    def flush(self, timeout: float = 10.0) -> bool:
        """Wait until every event queued so far is written or dropped (tests, Insights' refresh)."""
        self._start()
        end = time.monotonic() + timeout
        with self._queue.all_tasks_done:
            while self._queue.unfinished_tasks:
                left = end - time.monotonic()
                if left <= 0 or not self._queue.all_tasks_done.wait(left):
                    return not self._queue.unfinished_tasks
        return True

    def session_key(self, timeout: float = 0.0) -> str | None:
        """The key for pseudonymous session ids, once the database has given it (None before)."""
        self._start()
        if self._key is None and timeout:
            self._key_ready.wait(timeout)
        return self._key

    def stats(self) -> dict:
        with self._lock:
            out = dict(self.counts)
        out.update(queued=self._queue.qsize(), capacity=self._queue.maxsize, database=database.safe_url(self.url),
                   last_error=self.last_error)
        return out

    @property
    def engine(self):
        """The engine (for reads); None until the writer has connected."""
        return self._engine

    # ---- the writer thread --------------------------------------------------------------------
    def _connect(self) -> None:
        if self._engine is None:
            engine = database.make_engine(self.url)
            database.migrate(engine)
            self._key = database.session_key(engine)
            self._key_ready.set()
            self._engine = engine

    def _loop(self) -> None:
        pause = self.backoff_s
        while True:
            try:
                first = self._queue.get(timeout=self.cleanup_every_s)
            except queue.Empty:
                first = None
            batch = [] if first is None else [first]
            if batch:
                time.sleep(self.linger_s)  # let a burst gather into one transaction
                while len(batch) < self.batch_size:
                    try:
                        batch.append(self._queue.get_nowait())
                    except queue.Empty:
                        break
            try:
                self._write_with_retries(batch, pause)
                pause = self.backoff_s
            except Exception as err:
                rows = sum(1 for kind, _ in batch if kind != "op")
                with self._lock:
                    self.counts["dropped_database"] += rows
                self.last_error = f"{type(err).__name__}: {str(err).splitlines()[0][:200] if str(err) else ''}"
                log.warning("store: %d event(s) dropped, database unavailable: %s", rows, self.last_error)
                pause = min(self.max_backoff_s, pause * 2)
            finally:
                for _ in batch:
                    self._queue.task_done()
            self._maybe_cleanup()

    def _write_with_retries(self, batch: list, pause: float) -> None:
        for attempt in range(self.retries + 1):
            try:
                self._connect()
                if batch:
                    self._write(batch)
                return
            except Exception:
                if self._engine is not None:
                    self._engine.dispose()
                    self._engine = None
                if attempt == self.retries:
                    raise
                time.sleep(pause * (2 ** attempt))

    def _write(self, batch: list) -> None:
        rows = 0
        with self._engine.begin() as conn:
            group: list = []
            for kind, payload in batch + [("op", None)]:  # the sentinel writes the last group
                if kind != "op" and (not group or group[0][0] == kind):
                    group.append((kind, payload))
                    continue
                if group:
                    rows_in = [fold_measures(kind_, row) for kind_, row in group]  # undeclared keys -> measures JSON
                    keys = sorted({k for row in rows_in for k in row})
                    values = [{k: row.get(k) for k in keys} for row in rows_in]
                    if "session" in keys:  # pseudonymised here, where the key is
                        for value in values:
                            value["session"] = database.pseudonym(value["session"], self._key)
                    conn.execute(_insert(conn, group[0][0]), values)
                    rows += len(group)
                    group = []
                if kind == "op":
                    if payload is not None:
                        payload(conn, self._key)
                else:
                    group = [(kind, payload)]
        with self._lock:
            self.counts["written"] += rows
            self.counts["batches"] += 1

    def _maybe_cleanup(self) -> None:
        now = time.time()
        if self._engine is None or now - self._last_cleanup < self.cleanup_every_s:
            return
        self._last_cleanup = now
        try:
            with self._engine.begin() as conn:
                removed = database.remove_old_content(conn, self.retention_days, now)
            if any(removed.values()):
                log.info("store retention (%s days): removed %s", self.retention_days, removed)
        except Exception as err:
            log.warning("store retention job failed: %s", err)


def _insert(conn, table: str):
    """The insert for a group of rows; for IDEMPOTENT tables a row already there is skipped."""
    if table not in IDEMPOTENT:
        return insert(TABLES[table])
    if conn.dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as dialect_insert
    else:
        from sqlalchemy.dialects.sqlite import insert as dialect_insert
    return dialect_insert(TABLES[table]).on_conflict_do_nothing()
