"""Metering of API requests: one small usage row per request, usage over time, and the month's bill.

    record_usage({"request_id": rid, "key": record, "product": ..., "action": ..., "units": {...},
                  "outcome": "ok", "status": 200, "ms": 41.0})   # never blocks (the store's writer)
    usage_frame(since, until, key=None)    # a DataFrame for Insights
    billing_csv("2025-06", path)           # one row per key and unit, and each key's fee

Usage rows are keyed by request id: one submitted twice is stored once. The bill is computed from
the monthly counters limits.charge() keeps (atomic and idempotent), not from these rows, which a full
queue or AIPM_CAPTURE=0 may drop.
"""
from __future__ import annotations

import calendar
import csv
import json
import re
import time
from pathlib import Path

from shared import keys, limits, plans, store
from shared.spreadsheet import neutralise
from shared.store.schema import usage

OUTCOMES = ("ok", "user_error", "server_error", "cancelled", "refused")


def record_usage(row: dict) -> bool:
    """Queue one request's usage row. `key` (a KeyRecord) fills key_id, key_prefix and plan; `units`
    may be a dict. Returns False when the row was not queued (capture off, queue full)."""
    row = dict(row)
    key = row.pop("key", None)
    if key is not None:
        row.update(key_id=key.id, key_prefix=key.prefix, plan=key.plan)
    if not row.get("request_id"):
        raise ValueError("a usage row needs its request_id")
    if row.get("outcome") not in OUTCOMES:
        raise ValueError(f"usage outcome {row.get('outcome')!r} is not one of {', '.join(OUTCOMES)}")
    units = row.get("units")
    if isinstance(units, dict):
        row["units"] = json.dumps({k: v for k, v in units.items() if v is not None}, sort_keys=True)
    row.setdefault("ts", time.time())
    unknown = set(row) - set(usage.columns.keys())
    if unknown:
        raise ValueError(f"usage rows have no column(s) {sorted(unknown)}")
    return store.submit("usage", row)


def _key_filter(key):
    if key is None:
        return None
    if isinstance(key, keys.KeyRecord):
        return usage.c.key_id == key.id
    wanted = str(key).removeprefix("aipm_")
    return (usage.c.key_id == wanted) | (usage.c.key_prefix == wanted)


def usage_frame(since: float, until: float, key=None):
    """Usage rows with since <= ts < until (for one key: a KeyRecord, its id or its prefix), oldest
    first, with `time` (UTC) and one `units.<unit>` column per unit used."""
    import pandas as pd
    from sqlalchemy import select

    store.writer().flush(5)  # rows queued just now are part of the answer
    query = select(usage).where(usage.c.ts >= since, usage.c.ts < until).order_by(usage.c.ts)
    match = _key_filter(key)
    frame = store.read(query if match is None else query.where(match))
    if frame.empty:
        return frame.assign(time=pd.Series(dtype="datetime64[ns, UTC]"))
    frame["time"] = pd.to_datetime(frame["ts"], unit="s", utc=True)
    parsed = frame["units"].map(lambda text: json.loads(text) if text else {})
    expanded = pd.DataFrame(parsed.tolist(), index=frame.index).add_prefix("units.")
    return pd.concat([frame, expanded], axis=1)


def _billed(record: keys.KeyRecord, start: float, end: float, used: dict) -> bool:
    """A key is on the month's bill when it used something or could be used during the month."""
    gone = min(t for t in (record.revoked, record.expires, float("inf")) if t is not None)
    return bool(used) or (record.created < end and gone > start)


def _number(value: float):
    value = round(float(value), 6)
    return int(value) if value.is_integer() else value


COLUMNS = ["period", "key_prefix", "key_name", "plan", "unit", "used", "included", "billable", "unit_price",
           "amount"]


def bill(period: str) -> list[dict]:
    """The month's bill as rows (billing_csv writes them): per key, each unit the key used or its plan
    covers, then the plan's fee."""
    if not re.fullmatch(r"\d{4}-(0[1-9]|1[0-2])", period or ""):
        raise ValueError(f"billing period {period!r}: expected YYYY-MM")
    store.writer().flush(5)  # charges queued on the writer (limits.charge_later) are part of the bill
    start = float(calendar.timegm(time.strptime(period + "-01", "%Y-%m-%d")))  # months are UTC
    end = limits.month_end(start)
    spent = limits.monthly(period)
    rows = []
    for record in sorted(keys.list_keys(), key=lambda r: (r.name, r.prefix)):
        used = spent.get(record.id, {})
        if not _billed(record, start, end, used):
            continue
        plan = plans.get(record.plan)  # a key on a plan no longer offered stops the bill, naming it
        head = {"period": period, "key_prefix": record.label, "key_name": record.name, "plan": plan.name}
        for unit in sorted(set(used) | set(plan.included) | set(plan.monthly)):
            amount_used = used.get(unit, 0.0)
            billable = plan.billable(unit, amount_used)
            price = plan.price.get(unit, 0.0)
            rows.append({**head, "unit": unit, "used": _number(amount_used),
                         "included": _number(plan.included.get(unit, 0)), "billable": _number(billable),
                         "unit_price": price, "amount": _number(billable * price)})
        rows.append({**head, "unit": "plan fee", "used": "", "included": "", "billable": "",
                     "unit_price": plan.fee, "amount": _number(plan.fee)})
    return rows


def billing_csv(period: str, path) -> Path:
    """Write the bill of `period` (YYYY-MM, UTC) as CSV (UTF-8 with BOM, formulas neutralised)."""
    path = Path(path)
    rows = bill(period)
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="", encoding="utf-8-sig") as out:
        writer = csv.DictWriter(out, fieldnames=COLUMNS)
        writer.writeheader()
        for row in rows:
            writer.writerow({k: neutralise(v) for k, v in row.items()})
    return path
