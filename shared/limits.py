"""Admission and charging of API requests against the key's plan (shared/plans.py).

    decision = admit(key, product)       # before the work: the rate, the monthly quotas
    charge(key, product, {"tokens": 812}, request_id)   # after it: what the request used

Every counter lives in the database and moves in one atomic statement (INSERT ... ON CONFLICT DO
UPDATE ... WHERE <below the limit> RETURNING), so replicas sharing one PostgreSQL never admit more
between them than the plan allows. A refused request does not count.
"""
from __future__ import annotations

import calendar
import json
import math
import time
from dataclasses import dataclass

from sqlalchemy import case, select

from shared import plans, store
from shared.keys import KeyRecord
from shared.store.schema import api_charges, api_monthly, api_rate


@dataclass(frozen=True)
class Decision:
    allowed: bool
    reason: str | None  # None, "rate" or "quota:<unit>"
    limit: int  # the bound that applies: requests a minute, or the refused unit's monthly quota
    remaining: int
    reset_s: float  # seconds until that bound's window (the minute, the month) ends
    retry_after_s: float | None = None  # when refused

    @property
    def unit(self) -> str:
        return self.reason.split(":", 1)[1] if self.reason and self.reason.startswith("quota:") else "requests"

    def headers(self) -> dict[str, str]:
        """OpenAI-style rate headers (`-tokens` etc. when a quota of that unit refused), Retry-After
        when refused."""
        out = {f"x-ratelimit-limit-{self.unit}": str(self.limit),
               f"x-ratelimit-remaining-{self.unit}": str(max(0, self.remaining)),
               f"x-ratelimit-reset-{self.unit}": str(math.ceil(self.reset_s))}
        if not self.allowed:
            out["Retry-After"] = str(math.ceil(self.retry_after_s or self.reset_s))
        return out


def month_of(now: float) -> str:
    return time.strftime("%Y-%m", time.gmtime(now))


def month_end(now: float) -> float:
    year, month = time.gmtime(now)[:2]
    return float(calendar.timegm((year + month // 12, month % 12 + 1, 1, 0, 0, 0)))


def _insert(conn):
    if conn.dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    return insert


def _take_rate(conn, key_id: str, minute: int, limit: int) -> int | None:
    """Count one request in this minute; the new count, or None when the minute is full. A replica
    whose clock lags counts into the newer minute rather than resetting it."""
    stmt = _insert(conn)(api_rate).values(key_id=key_id, minute=minute, count=1)
    newer = stmt.excluded.minute > api_rate.c.minute
    stmt = stmt.on_conflict_do_update(
        index_elements=[api_rate.c.key_id],
        set_={"count": case((newer, 1), else_=api_rate.c.count + 1),
              "minute": case((newer, stmt.excluded.minute), else_=api_rate.c.minute)},
        where=newer | (api_rate.c.count < limit))
    return conn.execute(stmt.returning(api_rate.c.count)).scalar()


def _take_request(conn, key_id: str, month: str, quota: int) -> float | None:
    """Reserve one unit of the monthly "requests" quota; the new total, or None when it is used up."""
    stmt = _insert(conn)(api_monthly).values(key_id=key_id, month=month, unit="requests", used=1)
    stmt = stmt.on_conflict_do_update(
        index_elements=[api_monthly.c.key_id, api_monthly.c.month, api_monthly.c.unit],
        set_={"used": api_monthly.c.used + 1}, where=api_monthly.c.used + 1 <= quota)
    return conn.execute(stmt.returning(api_monthly.c.used)).scalar()


def used(key_id: str, month: str) -> dict[str, float]:
    """What a key used in a month, per unit."""
    with store.engine().connect() as conn:
        rows = conn.execute(select(api_monthly.c.unit, api_monthly.c.used)
                            .where(api_monthly.c.key_id == key_id, api_monthly.c.month == month)).all()
    return {unit: amount for unit, amount in rows}


def admit(key: KeyRecord, product: str, now: float | None = None) -> Decision:
    """May this key make one more request now? An admitted request has taken its place in the minute
    and one unit of a monthly "requests" quota. `product` is named for per-product limits; the plans
    have none yet, so every product shares the key's limits."""
    plan = plans.get(key.plan)
    now = time.time() if now is None else now
    month, to_month_end = month_of(now), month_end(now) - now
    quotas = plan.monthly
    if quotas.keys() - {"requests"}:  # units only charge() adds: refuse once one is used up
        spent = used(key.id, month)
        for unit in sorted(quotas.keys() - {"requests"}):
            if spent.get(unit, 0) >= quotas[unit]:
                return Decision(False, f"quota:{unit}", quotas[unit], 0, to_month_end, to_month_end)
    minute, to_minute_end = int(now // 60), 60 - now % 60
    with store.engine().connect() as conn:  # one transaction: the minute and the month, or neither
        count = _take_rate(conn, key.id, minute, plan.requests_per_minute)
        if count is None:
            conn.rollback()
            return Decision(False, "rate", plan.requests_per_minute, 0, to_minute_end, to_minute_end)
        if "requests" in quotas:
            taken = _take_request(conn, key.id, month, quotas["requests"]) if quotas["requests"] > 0 else None
            if taken is None:
                conn.rollback()  # a refused request does not use its place in the minute either
                return Decision(False, "quota:requests", quotas["requests"], 0, to_month_end, to_month_end)
        conn.commit()
    return Decision(True, None, plan.requests_per_minute, plan.requests_per_minute - count, to_minute_end)


def charge(key: KeyRecord, product: str, units: dict[str, float], request_id: str,
           now: float | None = None) -> bool:
    """Add what a request used to the key's month, once per request_id (a repeat adds nothing and
    returns False). "requests" is left out: admit() counted the request already."""
    with store.engine().begin() as conn:
        return _charge(conn, key.id, product, units, request_id, time.time() if now is None else now)


def charge_later(key: KeyRecord, product: str, units: dict[str, float], request_id: str) -> bool:
    """charge() on the store's writer thread, in order with the usage rows: the request does not wait
    for it (the door's cost per request is admit's one transaction). False when the writer's queue
    is full (the store's stats count it)."""
    now = time.time()
    if not _amounts(units):
        return True  # nothing beyond the request, which admit() counted
    return store.submit_op(lambda conn, _key: _charge(conn, key.id, product, units, request_id, now))


def _amounts(units: dict[str, float] | None) -> dict[str, float]:
    return {unit: float(amount) for unit, amount in (units or {}).items()
            if unit != "requests" and amount and float(amount) > 0}


def _charge(conn, key_id: str, product: str, units: dict[str, float] | None, request_id: str, now: float) -> bool:
    amounts = _amounts(units)
    insert = _insert(conn)
    first = conn.execute(insert(api_charges).values(
        request_id=request_id, ts=now, key_id=key_id, units=json.dumps({"product": product, "units": amounts}))
        .on_conflict_do_nothing().returning(api_charges.c.request_id)).scalar()
    if first is None:
        return False
    month = month_of(now)
    for unit, amount in sorted(amounts.items()):  # one order everywhere: no deadlocks between replicas
        stmt = insert(api_monthly).values(key_id=key_id, month=month, unit=unit, used=amount)
        conn.execute(stmt.on_conflict_do_update(
            index_elements=[api_monthly.c.key_id, api_monthly.c.month, api_monthly.c.unit],
            set_={"used": api_monthly.c.used + stmt.excluded.used}))
    return True


def monthly(month: str) -> dict[str, dict[str, float]]:
    """Every key's use in a month: key id -> unit -> amount (for billing)."""
    out: dict[str, dict[str, float]] = {}
    with store.engine().connect() as conn:
        for key_id, unit, amount in conn.execute(select(api_monthly.c.key_id, api_monthly.c.unit, api_monthly.c.used)
                                                 .where(api_monthly.c.month == month)):
            out.setdefault(key_id, {})[unit] = amount
    return out
