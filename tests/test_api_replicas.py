"""Two replicas of the app (`python app.py`, two processes) on one real PostgreSQL, hammered through
HTTP with one key: the quota holds between them exactly, every request is metered once, and a key
revoked on one machine stops working on both within the key cache's seconds."""
import json
import os
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest
from sqlalchemy import create_engine, func, select

from tests.conftest import ROOT, free_port
from tests.pg_support import postgres_database, postgres_url  # noqa: F401  (fixtures)

QUOTA = 40
PLANS = {"q40": {"requests_per_minute": 100000, "monthly": {"requests": QUOTA}}}


def start_replica(url: str, tmp_path, index: int) -> tuple[subprocess.Popen, str]:
    port = free_port()
    env = {**os.environ, "AIPM_DATABASE_URL": url, "AIPM_API_PLANS": json.dumps(PLANS), "AIPM_PORT": str(port),
           "AIPM_API_KEY_CACHE_S": "1", "AIPM_CACHE_DIR": str(tmp_path / f"cache{index}"),
           "GRADIO_ANALYTICS_ENABLED": "False", "AIPM_LOG_LEVEL": "WARNING"}
    log = (tmp_path / f"replica{index}.log").open("w")
    return subprocess.Popen([sys.executable, "app.py"], cwd=ROOT, env=env, stdout=log, stderr=log), \
        f"http://127.0.0.1:{port}"


def wait_ready(proc, url: str, timeout: float = 120) -> None:
    deadline = time.time() + timeout
    while time.time() < deadline:
        assert proc.poll() is None, "a replica exited while starting"
        try:
            if httpx.get(url + "/api/v1/health", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            time.sleep(0.2)
    raise AssertionError(f"{url} did not start")


@pytest.mark.integration
def test_two_replicas_share_one_quota_meter_once_and_see_a_revocation(postgres_database, fresh_settings, tmp_path):
    database = postgres_database
    from shared import keys, store
    from shared.store import database as db
    from shared.store.schema import api_monthly, usage

    old = store.use_writer(None)
    fresh_settings.setenv("AIPM_DATABASE_URL", database)
    fresh_settings.setenv("AIPM_API_PLANS", json.dumps(PLANS))
    keys.clear_cache()
    replicas = []
    try:
        db.migrate(store.engine())
        secret, record = keys.create_key("acme", "q40")
        replicas = [start_replica(database, tmp_path, i) for i in range(2)]
        for proc, url in replicas:
            wait_ready(proc, url)
        headers = {"Authorization": f"Bearer {secret}"}

        def hit(i: int) -> int:
            return httpx.get(replicas[i % 2][1] + "/v1/models", headers=headers, timeout=60).status_code

        with ThreadPoolExecutor(16) as pool:
            answers = list(pool.map(hit, range(100)))
        assert answers.count(200) == QUOTA and answers.count(429) == 100 - QUOTA, answers
        engine = create_engine(database)
        with engine.connect() as conn:
            reserved = conn.execute(select(func.sum(api_monthly.c.used)).where(
                api_monthly.c.key_id == record.id, api_monthly.c.unit == "requests")).scalar_one()
        assert reserved == QUOTA, "the database counter is the quota, not more"
        deadline, rows = time.time() + 30, []
        while time.time() < deadline:  # each replica's writer thread writes its usage rows in batches
            with engine.connect() as conn:
                rows = conn.execute(select(usage.c.request_id, usage.c.outcome)
                                    .where(usage.c.key_id == record.id)).all()
            if len(rows) >= 100:
                break
            time.sleep(0.3)
        outcomes = [outcome for _, outcome in rows]
        assert len(rows) == 100 and len({r for r, _ in rows}) == 100, "every request metered, once"
        assert outcomes.count("ok") == QUOTA and outcomes.count("refused") == 100 - QUOTA

        second, other = keys.create_key("leaver", "q40")
        for _, url in replicas:
            assert httpx.get(url + "/v1/models", headers={"Authorization": f"Bearer {second}"}).status_code == 200
        keys.revoke(other.prefix)
        time.sleep(1.5)  # AIPM_API_KEY_CACHE_S=1 on both replicas
        for _, url in replicas:
            refused = httpx.get(url + "/v1/models", headers={"Authorization": f"Bearer {second}"})
            assert refused.status_code == 403 and "revoked" in refused.json()["error"]["message"]
        engine.dispose()
    finally:
        for proc, _ in replicas:
            proc.terminate()
        for proc, _ in replicas:
            try:
                proc.wait(15)
            except subprocess.TimeoutExpired:
                proc.kill()
        keys.clear_cache()
        store.use_writer(old)
