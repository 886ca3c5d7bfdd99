"""API keys: made once, stored as a sha256 hash, checked on every request.

    secret, record = create_key("acme", "starter", expires_in_days=30)   # the secret is shown once
    record = authenticate(secret)   # KeyInvalid (HTTP 401) or KeyRefused (HTTP 403)

A secret reads `aipm_<prefix>_<random>`; the prefix finds the row, the hash is compared in constant
time. Authenticated keys are trusted for AIPM_API_KEY_CACHE_S seconds per process, so a key revoked
on one replica stops working on all of them within that time.

    python -m shared.keys create --name acme --plan starter [--expires-days 30]
    python -m shared.keys list
    python -m shared.keys revoke PREFIX_OR_ID
"""
from __future__ import annotations

import argparse
import hashlib
import hmac
import re
import secrets
import string
import threading
import time
from dataclasses import dataclass

from sqlalchemy import insert, or_, select, update
from sqlalchemy.exc import IntegrityError

from shared import plans, store
from shared.config import settings
from shared.store.schema import api_keys

_FORMAT = re.compile(r"aipm_([a-z0-9]{8})_([A-Za-z0-9_-]{32,128})")
_PREFIX_CHARS = string.ascii_lowercase + string.digits


class KeyInvalid(Exception):
    """No key, a malformed key or one this server never made (HTTP 401)."""
    status = 401


class KeyRefused(Exception):
    """A real key that may not be used now: revoked, expired or on a plan this server lacks (HTTP 403)."""
    status = 403


@dataclass(frozen=True)
class KeyRecord:
    id: str
    name: str
    plan: str
    prefix: str
    created: float
    expires: float | None = None
    revoked: float | None = None

    @property
    def label(self) -> str:
        return f"aipm_{self.prefix}"

    def state(self, now: float | None = None) -> str:
        now = time.time() if now is None else now
        if self.revoked is not None:
            return "revoked"
        if self.expires is not None and self.expires <= now:
            return "expired"
        return "active"


def _hash(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def _record(row) -> KeyRecord:
    return KeyRecord(row.id, row.name, row.plan, row.prefix, row.created, row.expires, row.revoked)


def _when(ts: float) -> str:
    return time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime(ts))


def create_key(name: str, plan: str, expires_in_days: float | None = None) -> tuple[str, KeyRecord]:
    """A new key on `plan`: (the secret, to hand over once; the stored record, which has no secret)."""
    plans.get(plan)  # an unknown plan is refused now, naming the plans there are
    name = (name or "").strip()
    if not name or len(name) > 200:
        raise ValueError("a key needs a name of 1 to 200 characters")
    now = time.time()
    expires = None if expires_in_days is None else now + float(expires_in_days) * 86400
    for _ in range(5):  # a prefix already taken (1 in 2.8e12) gets another
        prefix = "".join(secrets.choice(_PREFIX_CHARS) for _ in range(8))
        secret = f"aipm_{prefix}_{secrets.token_urlsafe(32)}"
        record = KeyRecord(secrets.token_hex(8), name, plan, prefix, now, expires)
        try:
            with store.engine().begin() as conn:
                conn.execute(insert(api_keys).values(hash=_hash(secret), **record.__dict__))
            return secret, record
        except IntegrityError:
            continue
    raise RuntimeError("could not find a free key prefix")


def list_keys() -> list[KeyRecord]:
    with store.engine().connect() as conn:
        rows = conn.execute(select(api_keys).order_by(api_keys.c.created)).all()
    return [_record(row) for row in rows]


def revoke(id_or_prefix: str) -> KeyRecord:
    """Revoke a key by its id or prefix (`aipm_` in front is accepted); LookupError when none matches."""
    wanted = id_or_prefix.strip().removeprefix("aipm_")
    match = or_(api_keys.c.id == wanted, api_keys.c.prefix == wanted)
    with store.engine().begin() as conn:
        conn.execute(update(api_keys).where(match, api_keys.c.revoked.is_(None)).values(revoked=time.time()))
        row = conn.execute(select(api_keys).where(match)).first()
    if row is None:
        raise LookupError(f"no API key with id or prefix {id_or_prefix!r}")
    _forget(row.id)
    return _record(row)


# ---- authentication, with a short per-process cache -------------------------------------------
_cache: dict[tuple[str, str], tuple[KeyRecord, float]] = {}  # (database url, hash) -> (record, when read)
_cache_lock = threading.Lock()


def _forget(key_id: str) -> None:
    with _cache_lock:
        for cached in [k for k, (record, _) in _cache.items() if record.id == key_id]:
            del _cache[cached]


def clear_cache() -> None:
    with _cache_lock:
        _cache.clear()


def _lookup(secret: str, digest: str) -> KeyRecord:
    match = _FORMAT.fullmatch(secret)
    if match is None:
        raise KeyInvalid("malformed API key: expected aipm_<prefix>_<secret>")
    with store.engine().connect() as conn:
        row = conn.execute(select(api_keys).where(api_keys.c.prefix == match.group(1))).first()
    # Compared even when no row matched, so the time taken does not tell a prefix exists.
    if not hmac.compare_digest(digest, row.hash if row is not None else "0" * 64) or row is None:
        raise KeyInvalid("unknown API key")
    return _record(row)


def authenticate(secret: str | None, now: float | None = None) -> KeyRecord:
    """The record of an active key; KeyInvalid (401) or KeyRefused (403) saying why not."""
    if not secret or not isinstance(secret, str):
        raise KeyInvalid("missing API key")
    secret = secret.strip()
    digest, ttl = _hash(secret), settings().api_key_cache_s
    slot = (store.writer().url, digest)
    with _cache_lock:
        cached = _cache.get(slot)
    if cached is not None and time.monotonic() - cached[1] < ttl:
        record = cached[0]
    else:
        record = _lookup(secret, digest)
        if ttl > 0:
            with _cache_lock:
                _cache[slot] = (record, time.monotonic())
    state = record.state(now)
    if state == "revoked":
        raise KeyRefused(f"API key {record.label} was revoked on {_when(record.revoked)}")
    if state == "expired":
        raise KeyRefused(f"API key {record.label} expired on {_when(record.expires)}")
    if record.plan not in plans.plans():
        raise KeyRefused(f"API key {record.label} is on plan {record.plan!r}, which this server does not offer "
                         f"(AIPM_API_PLANS)")
    return record


# ---- the command line ---------------------------------------------------------------------------
def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m shared.keys", description="Make, list and revoke API keys.")
    commands = parser.add_subparsers(dest="command", required=True)
    made = commands.add_parser("create", help="make a key (its secret is printed once)")
    made.add_argument("--name", required=True)
    made.add_argument("--plan", required=True)
    made.add_argument("--expires-days", type=float)
    commands.add_parser("list", help="every key, with its state (secrets are not stored)")
    gone = commands.add_parser("revoke", help="revoke a key by prefix or id")
    gone.add_argument("key")
    args = parser.parse_args(argv)
    try:
        if args.command == "create":
            secret, record = create_key(args.name, args.plan, args.expires_days)
            print(f"secret: {secret}")
            print(f"prefix: {record.label}  id: {record.id}  plan: {record.plan}"
                  + (f"  expires: {_when(record.expires)}" if record.expires else ""))
            print("Keep the secret now: it is stored only as a hash and cannot be shown again.")
        elif args.command == "list":
            for record in list_keys():
                print(f"{record.label}  {record.id}  {record.plan:<10} {record.state():<8} "
                      f"created {_when(record.created)}  {record.name}")
        else:
            record = revoke(args.key)
            print(f"revoked: {record.label} ({record.name}) on {_when(record.revoked)}")
    except (ValueError, LookupError) as err:
        parser.exit(2, f"error: {err}\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
