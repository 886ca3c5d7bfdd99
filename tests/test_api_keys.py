"""API keys, limits and metering on real databases: keys stored as hashes, 401 vs 403, the CLI, the
rate at its boundary, monthly quotas under concurrency (threads on SQLite, two processes on one
PostgreSQL), idempotent charges and usage rows, and the month's bill."""
import csv
import hashlib
import json
import os
import subprocess
import sys
import time
from calendar import timegm
from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlalchemy import func, select, update

from shared import keys, limits, metering, plans, store
from shared.store import database
from shared.store.schema import api_keys, api_monthly, api_rate, usage
from shared.store.writer import Writer
from tests.conftest import ROOT
from tests.pg_support import postgres_database, postgres_url  # noqa: F401  (fixtures)

PLANS = {
    "tiny": {"requests_per_minute": 5},
    "quota": {"requests_per_minute": 100000, "monthly": {"requests": 10}},
    "tokens": {"requests_per_minute": 100, "monthly": {"tokens": 100}},
    "metered": {"requests_per_minute": 100, "monthly": {"requests": 1000, "tokens": 5000},
                "included": {"requests": 5, "tokens": 1000}, "fee": 10,
                "price": {"requests": 0.5, "tokens": 0.01}},
    "payg": {"requests_per_minute": 100, "price": {"tokens": 0.002}},
}
MARCH = float(timegm((2025, 3, 15, 12, 0, 10)))  # 10 s into a minute, mid-month (UTC)


def use_database(env, url: str, plans_json: dict = PLANS) -> None:
    env.setenv("AIPM_DATABASE_URL", url)
    env.setenv("AIPM_API_PLANS", json.dumps(plans_json))
    env.setenv("AIPM_CAPTURE", "1")
    env.setenv("AIPM_API_KEY_CACHE_S", "0")
    store.use_writer(Writer(url))
    keys.clear_cache()


@pytest.fixture
def db(tmp_path, fresh_settings):
    url = f"sqlite:///{tmp_path / 'api.db'}"
    old = store.use_writer(None)
    use_database(fresh_settings, url)
    yield fresh_settings
    store.use_writer(old)
    keys.clear_cache()


def stored(table, *where):
    with store.engine().connect() as conn:
        return conn.execute(select(table).where(*where)).all()


# ---- keys ------------------------------------------------------------------------------------------
def test_a_key_is_stored_as_its_hash_and_authenticates(db):
    secret, record = keys.create_key("acme", "tiny")
    assert secret.startswith(f"aipm_{record.prefix}_") and len(secret.split("_", 2)[2]) >= 32
    [row] = stored(api_keys)
    assert row.hash == hashlib.sha256(secret.encode()).hexdigest()
    assert secret not in " ".join(str(v) for v in row), "the secret itself is never stored"
    assert keys.authenticate(secret) == record
    assert keys.authenticate(f"  {secret}\n") == record
    assert [k.prefix for k in keys.list_keys()] == [record.prefix]


@pytest.mark.parametrize("given, message", [
    (None, "missing"), ("", "missing"), ("Bearer nonsense", "malformed"), ("aipm_ABC_x", "malformed"),
    ("aipm_abcd1234_" + "x" * 40, "unknown")])
def test_missing_malformed_and_unknown_keys_are_401(db, given, message):
    keys.create_key("acme", "tiny")
    with pytest.raises(keys.KeyInvalid, match=message) as caught:
        keys.authenticate(given)
    assert caught.value.status == 401


def test_the_right_prefix_with_the_wrong_secret_is_unknown(db):
    secret, _ = keys.create_key("acme", "tiny")
    with pytest.raises(keys.KeyInvalid, match="unknown"):
        keys.authenticate(secret[:-4] + ("aaaa" if not secret.endswith("aaaa") else "bbbb"))


def test_revoked_and_expired_keys_are_403_saying_which(db):
    revoked, first = keys.create_key("acme", "tiny")
    expiring, second = keys.create_key("beta", "tiny", expires_in_days=1)
    assert keys.revoke(f"aipm_{first.prefix}").revoked is not None
    with pytest.raises(keys.KeyRefused, match=f"aipm_{first.prefix} was revoked") as caught:
        keys.authenticate(revoked)
    assert caught.value.status == 403
    assert keys.authenticate(expiring).id == second.id
    with pytest.raises(keys.KeyRefused, match="expired"):
        keys.authenticate(expiring, now=time.time() + 2 * 86400)
    keys.revoke(second.id)  # by id too
    assert {k.id: k.state() for k in keys.list_keys()} == {first.id: "revoked", second.id: "revoked"}
    with pytest.raises(LookupError, match="nothing"):
        keys.revoke("nothing")


def test_a_revoked_key_stops_working_within_the_cache_time(db):
    db.setenv("AIPM_API_KEY_CACHE_S", "0.5")
    secret, record = keys.create_key("acme", "tiny")
    keys.authenticate(secret)
    with store.engine().begin() as conn:  # revoked by another replica: this process's cache still has it
        conn.execute(update(api_keys).where(api_keys.c.id == record.id).values(revoked=time.time()))
    assert keys.authenticate(secret).id == record.id
    time.sleep(0.6)
    with pytest.raises(keys.KeyRefused, match="revoked"):
        keys.authenticate(secret)


def test_unknown_plans_are_named(db):
    with pytest.raises(plans.UnknownPlan, match="'gold'.*metered, payg, quota, tiny, tokens"):
        keys.create_key("acme", "gold")
    secret, record = keys.create_key("acme", "tiny")
    db.setenv("AIPM_API_PLANS", json.dumps({"other": {"requests_per_minute": 1}}))
    with pytest.raises(keys.KeyRefused, match="plan 'tiny'"):
        keys.authenticate(secret)
    with pytest.raises(plans.UnknownPlan, match="'tiny'"):
        limits.admit(record, "demo")


def test_plans_default_and_mistakes_name_the_plan(db):
    assert set(plans.parse("")) == {"free", "starter", "payg"}
    assert plans.parse("")["payg"].fee == 0 and not plans.parse("")["payg"].included
    with pytest.raises(ValueError, match="plan 'x', requests_per_minute"):
        plans.parse('{"x": {"requests_per_minute": "many"}}')
    with pytest.raises(ValueError, match="plan 'x', price: 'tokens'"):
        plans.parse('{"x": {"requests_per_minute": 1, "price": {"tokens": -1}}}')
    with pytest.raises(ValueError, match="plan 'x' has unknown field"):
        plans.parse('{"x": {"requests_per_minute": 1, "quota": {}}}')


def test_the_command_line(db, tmp_path):
    env = {**os.environ, "AIPM_DATABASE_URL": os.environ["AIPM_DATABASE_URL"],
           "AIPM_API_PLANS": json.dumps(PLANS)}

    def cli(*args):
        return subprocess.run([sys.executable, "-m", "shared.keys", *args], cwd=ROOT, env=env,
                              capture_output=True, text=True, timeout=60)

    made = cli("create", "--name", "acme", "--plan", "tiny", "--expires-days", "30")
    assert made.returncode == 0, made.stderr
    secret = made.stdout.split("secret: ", 1)[1].split()[0]
    prefix = secret.split("_")[1]
    assert made.stdout.count(secret) == 1 and f"aipm_{prefix}" in made.stdout
    assert keys.authenticate(secret).name == "acme"
    listed = cli("list")
    assert f"aipm_{prefix}" in listed.stdout and "active" in listed.stdout and secret not in listed.stdout
    assert cli("revoke", prefix).returncode == 0
    assert "revoked" in cli("list").stdout
    with pytest.raises(keys.KeyRefused):
        keys.authenticate(secret)
    wrong = cli("create", "--name", "x", "--plan", "gold")
    assert wrong.returncode == 2 and "'gold'" in wrong.stderr


# ---- limits ----------------------------------------------------------------------------------------
def test_the_rate_is_exact_at_the_boundary(db):
    _, key = keys.create_key("acme", "tiny")
    decisions = [limits.admit(key, "demo", now=MARCH + i * 0.1) for i in range(7)]
    assert [d.allowed for d in decisions] == [True] * 5 + [False] * 2
    assert [d.remaining for d in decisions[:5]] == [4, 3, 2, 1, 0]
    refused = decisions[5]
    assert refused.reason == "rate" and refused.limit == 5 and round(refused.retry_after_s) == 50
    assert refused.headers() == {"x-ratelimit-limit-requests": "5", "x-ratelimit-remaining-requests": "0",
                                 "x-ratelimit-reset-requests": "50", "Retry-After": "50"}
    assert "Retry-After" not in decisions[0].headers()
    assert stored(api_rate)[0].count == 5, "refused requests are not counted"
    assert limits.admit(key, "demo", now=MARCH + 60).allowed, "the next minute starts afresh"
    assert limits.admit(key, "demo", now=MARCH).remaining == 3, "a lagging clock counts in the newer minute"


def test_concurrent_requests_get_exactly_the_monthly_quota(db):
    _, key = keys.create_key("acme", "quota")  # 10 requests a month
    with ThreadPoolExecutor(8) as pool:
        decisions = list(pool.map(lambda _: limits.admit(key, "demo", now=MARCH), range(30)))
    assert sum(d.allowed for d in decisions) == 10
    refused = [d for d in decisions if not d.allowed]
    assert {d.reason for d in refused} == {"quota:requests"}
    assert refused[0].headers()["x-ratelimit-limit-requests"] == "10"
    assert int(refused[0].headers()["Retry-After"]) == round(limits.month_end(MARCH) - MARCH)
    assert limits.used(key.id, "2025-03") == {"requests": 10}
    assert stored(api_rate)[0].count == 10, "a request the quota refused gives its minute back"
    assert limits.admit(key, "demo", now=float(timegm((2025, 4, 1, 0, 0, 0)))).allowed, "a new month"


def test_a_used_up_unit_refuses_and_charges_count_once(db):
    _, key = keys.create_key("acme", "tokens")  # 100 tokens a month
    assert limits.admit(key, "demo", now=MARCH).allowed
    assert limits.charge(key, "demo", {"tokens": 60, "requests": 1}, "r1", now=MARCH)
    assert not limits.charge(key, "demo", {"tokens": 60}, "r1", now=MARCH), "the same request again"
    assert limits.used(key.id, "2025-03") == {"tokens": 60}, "requests are admit's to count"
    assert limits.admit(key, "demo", now=MARCH + 1).allowed
    assert limits.charge(key, "demo", {"tokens": 45}, "r2", now=MARCH + 1)  # the request that crosses it
    refused = limits.admit(key, "demo", now=MARCH + 2)
    assert (refused.allowed, refused.reason) == (False, "quota:tokens")
    assert refused.headers()["x-ratelimit-limit-tokens"] == "100"


# ---- metering --------------------------------------------------------------------------------------
def usage_row(key, request_id, **extra):
    return {"request_id": request_id, "key": key, "product": "demo", "action": "run", "units": {"tokens": 12},
            "outcome": "ok", "status": 200, "ms": 8.5, "ts": MARCH, **extra}


def test_usage_rows_are_written_once_even_if_submitted_twice(db):
    _, key = keys.create_key("acme", "tiny")
    _, other = keys.create_key("beta", "tiny")
    assert metering.record_usage(usage_row(key, "a"))
    assert metering.record_usage(usage_row(other, "b", outcome="refused", status=429))
    assert metering.record_usage(usage_row(key, "a"))  # the same batch
    store.writer().flush(10)
    assert metering.record_usage(usage_row(key, "a"))  # a later batch
    store.writer().flush(10)
    assert store.writer().stats()["dropped_database"] == 0
    with store.engine().connect() as conn:
        assert conn.execute(select(func.count()).select_from(usage)).scalar_one() == 2
    frame = metering.usage_frame(MARCH - 1, MARCH + 1, key=f"aipm_{key.prefix}")
    assert frame["request_id"].tolist() == ["a"] and frame["units.tokens"].tolist() == [12]
    assert frame["plan"].tolist() == ["tiny"] and str(frame["time"].iloc[0]).startswith("2025-03-15")
    assert len(metering.usage_frame(MARCH - 1, MARCH + 1)) == 2
    assert metering.usage_frame(MARCH + 1, MARCH + 2).empty
    with pytest.raises(ValueError, match="outcome"):
        metering.record_usage(usage_row(key, "c", outcome="fine"))


def test_the_bill_of_a_month(db, tmp_path):
    _, metered = keys.create_key('=HYPERLINK("http://evil.example","x")', "metered")
    _, payg = keys.create_key("pay as you go", "payg")
    for i in range(7):
        assert limits.admit(metered, "demo", now=MARCH + i).allowed
    limits.charge(metered, "demo", {"tokens": 1500}, "m1", now=MARCH)
    limits.charge(payg, "demo", {"tokens": 200}, "p1", now=MARCH)
    limits.charge(payg, "demo", {"tokens": 999}, "p2", now=float(timegm((2025, 4, 2, 0, 0, 0))))  # next month
    path = metering.billing_csv("2025-03", tmp_path / "bill.csv")
    with open(path, encoding="utf-8-sig", newline="") as f:
        rows = list(csv.DictReader(f))
    cells = {(r["key_prefix"], r["unit"]): r for r in rows}
    m, p = f"aipm_{metered.prefix}", f"aipm_{payg.prefix}"
    assert set(cells) == {(m, "requests"), (m, "tokens"), (m, "plan fee"), (p, "tokens"), (p, "plan fee")}
    pick = ("used", "included", "billable", "unit_price", "amount")
    assert [cells[m, "requests"][c] for c in pick] == ["7", "5", "2", "0.5", "1"]
    assert [cells[m, "tokens"][c] for c in pick] == ["1500", "1000", "500", "0.01", "5"]
    assert (cells[m, "plan fee"]["amount"], cells[p, "plan fee"]["amount"]) == ("10", "0")
    assert [cells[p, "tokens"][c] for c in pick] == ["200", "0", "200", "0.002", "0.4"], "pay per use"
    assert cells[m, "tokens"]["key_name"] == "'" + '=HYPERLINK("http://evil.example","x")'
    assert {r["period"] for r in rows} == {"2025-03"}
    with pytest.raises(ValueError, match="YYYY-MM"):
        metering.billing_csv("2025-13", tmp_path / "x.csv")


# ---- two replicas on one PostgreSQL --------------------------------------------------------------
REPLICA = """
import sys, time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from shared import keys, limits
key = keys.authenticate(sys.argv[1])  # imported and connected before the start
Path(sys.argv[3]).touch()
while not Path(sys.argv[2]).exists():
    time.sleep(0.01)
with ThreadPoolExecutor(12) as pool:
    print(sum(d.allowed for d in pool.map(lambda _: limits.admit(key, "demo"), range(60))))
"""


def test_two_processes_on_one_postgresql_admit_exactly_the_quota(postgres_database, fresh_settings, tmp_path):
    pg_database = postgres_database
    plans_json = {"q50": {"requests_per_minute": 100000, "monthly": {"requests": 50}}}
    old = store.use_writer(None)
    try:
        use_database(fresh_settings, pg_database, plans_json)
        database.migrate(store.engine())
        secret, key = keys.create_key("acme", "q50")
        go = tmp_path / "go"
        env = {**os.environ, "AIPM_DATABASE_URL": pg_database, "AIPM_API_PLANS": json.dumps(plans_json)}
        ready = [tmp_path / f"ready{i}" for i in range(2)]
        replicas = [subprocess.Popen([sys.executable, "-c", REPLICA, secret, str(go), str(flag)], cwd=ROOT, env=env,
                                     stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for flag in ready]
        deadline = time.time() + 60
        while not all(flag.exists() for flag in ready) and time.time() < deadline and \
                all(r.poll() is None for r in replicas):
            time.sleep(0.02)
        go.touch()  # both start at once
        outputs = [r.communicate(timeout=120) for r in replicas]
        assert all(r.returncode == 0 for r in replicas), [err[-2000:] for _, err in outputs]
        accepted = [int(out.strip()) for out, _ in outputs]
        assert sum(accepted) == 50, accepted
        with store.engine().connect() as conn:
            counter = conn.execute(select(api_monthly.c.used).where(api_monthly.c.key_id == key.id,
                                                                    api_monthly.c.unit == "requests")).scalar_one()
        assert counter == 50
    finally:
        engine = store.engine()
        store.use_writer(old)
        engine.dispose()
        keys.clear_cache()
