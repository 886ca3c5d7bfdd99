"""A real PostgreSQL server for the store's tests: initdb + pg_ctl in a temporary folder on a free
port, no system service. As root (CI) the server runs as the `postgres` user (or `nobody`), since
PostgreSQL refuses to run as root. Skipped, saying why, when the server binaries are missing."""
from __future__ import annotations

import contextlib
import glob
import os
import pwd
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest

from tests.conftest import free_port


def server_binaries() -> Path | None:
    found = shutil.which("initdb")
    if found and shutil.which("pg_ctl"):
        return Path(found).resolve().parent
    for folder in sorted(glob.glob("/usr/lib/postgresql/*/bin"), reverse=True):
        if Path(folder, "initdb").exists() and Path(folder, "pg_ctl").exists():
            return Path(folder)
    return None


def _as_user() -> list[str]:
    if os.geteuid() != 0:
        return []
    for name in ("postgres", "nobody"):
        try:
            pwd.getpwnam(name)
        except KeyError:
            continue
        return ["runuser", "-u", name, "--"]
    raise NoPostgres("running as root and no unprivileged user (postgres, nobody) to run PostgreSQL as")


class NoPostgres(RuntimeError):
    """This machine cannot run a PostgreSQL server here; the message says why."""


@contextlib.contextmanager
def running_postgres():
    """A PostgreSQL server in a temporary folder for the block: yields its SQLAlchemy URL (tests use the
    fixture below; bench/bench_api.py uses this directly)."""
    binaries = server_binaries()
    if binaries is None:
        raise NoPostgres("PostgreSQL server binaries (initdb, pg_ctl) are missing: apt-get install postgresql")
    prefix = _as_user()
    folder = Path(tempfile.mkdtemp(prefix="aipm-pg-"))
    if prefix:
        shutil.chown(folder, user=prefix[2])
    data, port = folder / "data", free_port()
    env = {**os.environ, "LC_ALL": "C"}
    subprocess.run(prefix + [str(binaries / "initdb"), "-D", str(data), "-U", "aipm", "--auth=trust", "-E", "UTF8",
                             "--no-locale", "-N"], check=True, capture_output=True, env=env, cwd=folder)
    options = f"-p {port} -k {folder} -c listen_addresses=127.0.0.1 -c fsync=off -c full_page_writes=off"
    subprocess.run(prefix + [str(binaries / "pg_ctl"), "-D", str(data), "-o", options, "-l", str(folder / "log"),
                             "-w", "-t", "60", "start"], check=True, capture_output=True, env=env, cwd=folder)
    try:
        yield f"postgresql+psycopg://aipm@127.0.0.1:{port}/postgres"
    finally:
        subprocess.run(prefix + [str(binaries / "pg_ctl"), "-D", str(data), "-m", "immediate", "stop"],
                       capture_output=True, env=env, cwd=folder)
        shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture(scope="session")
def postgres_url():
    pytest.importorskip("psycopg", reason="psycopg is not installed (pip install 'psycopg[binary]')")
    try:
        with running_postgres() as url:
            yield url
    except NoPostgres as err:
        pytest.skip(str(err))


@pytest.fixture
def postgres_database(postgres_url):  # noqa: F811
    """A new empty database on the session's server, dropped after the test (replicas and limits tests)."""
    import uuid

    from sqlalchemy import create_engine, text

    name = f"t_{uuid.uuid4().hex[:12]}"
    admin = create_engine(postgres_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f"CREATE DATABASE {name}"))
    yield postgres_url.rsplit("/", 1)[0] + f"/{name}"
    with admin.connect() as conn:
        conn.execute(text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
    admin.dispose()
