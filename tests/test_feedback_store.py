"""The measurement store on SQLite and on a real PostgreSQL: migrations, batched writes, a full
queue and a database that is down (the caller is never blocked or failed), retention, and
removing one session's data."""
import threading
import time
import uuid

import pytest
from sqlalchemy import create_engine, func, inspect, select, text

from shared.store import database
from shared.store.schema import contents, feedback, metadata, requests
from shared.store.writer import Writer
from tests.pg_support import postgres_url  # noqa: F401  (fixture)


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request, tmp_path):
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'matrix.db'}"
        return
    server = request.getfixturevalue("postgres_url")
    name = f"t_{uuid.uuid4().hex[:12]}"
    admin = create_engine(server, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f"CREATE DATABASE {name}"))
    yield server.rsplit("/", 1)[0] + f"/{name}"
    with admin.connect() as conn:
        conn.execute(text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
    admin.dispose()


def request_row(i: int, session: str = "session-a", ts: float | None = None) -> dict:
    return {"id": uuid.uuid4().hex, "ts": time.time() if ts is None else ts, "product": "sentiment",
            "action": "sentiment", "outcome": "ok", "run_ms": float(i), "session": session}


def count(url: str, table) -> int:
    engine = database.make_engine(url)
    try:
        with engine.connect() as conn:
            return conn.execute(select(func.count()).select_from(table)).scalar_one()
    finally:
        engine.dispose()


def test_migration_creates_the_schema_of_the_metadata(database_url):
    engine = database.make_engine(database_url)
    database.migrate(engine)
    database.migrate(engine)  # idempotent: a second replica starting finds it done
    found = inspect(engine)
    for table in metadata.sorted_tables:
        columns = {c["name"] for c in found.get_columns(table.name)}
        assert columns == set(table.columns.keys()), table.name
    if engine.dialect.name == "sqlite":
        with engine.connect() as conn:
            assert conn.execute(text("PRAGMA journal_mode")).scalar() == "wal"
    assert database.session_key(engine) == database.session_key(engine)  # one key, kept
    engine.dispose()


def test_events_are_written_in_batches(database_url):
    writer = Writer(database_url, max_queue=5000, batch_size=200)
    for i in range(1000):
        assert writer.submit("requests", request_row(i))
    assert writer.flush(60)
    stats = writer.stats()
    assert stats["written"] == 1000 and stats["dropped_queue_full"] == 0 and stats["dropped_database"] == 0
    assert 5 <= stats["batches"] < 1000, "many events share one transaction"
    assert count(database_url, requests) == 1000


def test_session_ids_are_stored_as_keyed_hashes(database_url):
    writer = Writer(database_url)
    writer.submit("requests", request_row(0, session="raw-session-hash"))
    writer.flush(30)
    engine = database.make_engine(database_url)
    with engine.connect() as conn:
        stored = conn.execute(select(requests.c.session)).scalar_one()
    assert stored != "raw-session-hash"
    assert stored == database.pseudonym("raw-session-hash", writer.session_key())
    engine.dispose()


def test_a_full_queue_drops_and_counts_without_blocking(tmp_path):
    writer = Writer(f"sqlite:///{tmp_path / 'm.db'}", max_queue=5)
    release = threading.Event()
    connect = writer._connect
    writer._connect = lambda: (release.wait(30), connect())  # a database that is slow to answer
    start = time.perf_counter()
    accepted = sum(writer.submit("requests", request_row(i)) for i in range(50))
    assert time.perf_counter() - start < 5, "submit never waits for the database"
    assert accepted <= 6  # five queued, perhaps one taken by the writer
    assert writer.stats()["dropped_queue_full"] == 50 - accepted
    release.set()
    assert writer.flush(30)
    assert writer.stats()["written"] == accepted
    assert count(writer.url, requests) == accepted


def test_a_database_that_is_down_costs_events_not_requests(postgres_url):
    from tests.conftest import free_port

    down = postgres_url.rsplit(":", 1)[0] + f":{free_port()}/postgres"  # nothing listens there
    writer = Writer(down, retries=1, backoff_s=0.01)
    assert all(writer.submit("requests", request_row(i)) for i in range(20))
    assert writer.flush(60)
    stats = writer.stats()
    assert stats["dropped_database"] == 20 and stats["written"] == 0
    assert stats["last_error"]
    assert "aipm@" in stats["database"] and ":" in stats["database"]


def test_a_database_that_comes_back_gets_the_events_that_waited(tmp_path):
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where the database's folder should be")
    url = f"sqlite:///{blocker / 'm.db'}"
    writer = Writer(url, retries=50, backoff_s=0.02, max_backoff_s=0.05)
    for i in range(10):
        writer.submit("requests", request_row(i))
    time.sleep(0.3)
    assert writer.stats()["written"] == 0
    blocker.unlink()  # the database is reachable again
    assert writer.flush(60)
    assert writer.stats()["written"] == 10 and writer.stats()["dropped_database"] == 0


def test_retention_removes_old_content_and_keeps_measurements(database_url):
    engine = database.make_engine(database_url)
    database.migrate(engine)
    now = time.time()
    old, new = now - 40 * 86400, now - 86400
    with engine.begin() as conn:
        conn.execute(requests.insert(), [request_row(0, ts=old), request_row(1, ts=new)])
        conn.execute(contents.insert(), [{"request_id": "a", "ts": old, "inputs": "[\"old\"]"},
                                         {"request_id": "b", "ts": new, "inputs": "[\"new\"]"}])
        conn.execute(feedback.insert(), [{"id": "f1", "ts": old, "product": "sentiment", "kind": "correction",
                                          "value": "positive", "text": "old text"},
                                         {"id": "f2", "ts": new, "product": "sentiment", "kind": "correction",
                                          "value": "positive", "text": "new text"}])
        removed = database.remove_old_content(conn, days=30, now=now)
    assert removed == {"contents": 1, "feedback_texts": 1}
    with engine.connect() as conn:
        assert conn.execute(select(contents.c.request_id)).scalars().all() == ["b"]
        texts = dict(conn.execute(select(feedback.c.id, feedback.c.text)).all())
        assert texts == {"f1": None, "f2": "new text"}, "the rating stays, its text goes"
        assert conn.execute(select(func.count()).select_from(requests)).scalar_one() == 2
    engine.dispose()


def test_the_retention_job_runs_on_the_writer_thread(tmp_path):
    url = f"sqlite:///{tmp_path / 'm.db'}"
    writer = Writer(url, retention_days=1, cleanup_every_s=0.1)
    writer.submit("contents", {"request_id": "old", "ts": time.time() - 3 * 86400, "inputs": "[]"})
    writer.submit("contents", {"request_id": "new", "ts": time.time(), "inputs": "[]"})
    writer.flush(30)
    deadline = time.time() + 10
    while time.time() < deadline and count(url, contents) != 1:
        time.sleep(0.1)
    assert count(url, contents) == 1


def test_deleting_one_sessions_data(database_url):
    writer = Writer(database_url)
    for i in range(3):
        writer.submit("requests", request_row(i, session="mine"))
        writer.submit("requests", request_row(i, session="theirs"))
    writer.submit("feedback", {"id": "f", "ts": time.time(), "product": "image", "kind": "favourite",
                               "session": "mine"})
    writer.submit("contents", {"request_id": "c", "ts": time.time(), "inputs": "[]", "session": "mine"})

    def forget(conn, key):
        database.remove_session(conn, database.pseudonym("mine", key))
    writer.submit_op(forget)
    writer.flush(30)
    assert count(database_url, requests) == 3
    assert count(database_url, feedback) == 0 and count(database_url, contents) == 0
