"""The REST API's clients for bench/load.py: each with a key, a weighted mix of real requests and bad
input that must come back as a clean 4xx; afterwards, every answered request must have exactly one
usage row in the database (metered once, nothing lost)."""
from __future__ import annotations

import json
import time

import httpx

# (weight, label, method, path, JSON body or None, raw body or None); a label ending in '!' expects a 4xx
MIX = [
    (10, "api: models", "GET", "/v1/models", None, None),
    (30, "api: sentiment", "POST", "/api/v1/sentiment/score", {"texts": ["Great value, would buy again"]}, None),
    (15, "api: embeddings", "POST", "/v1/embeddings", {"model": "all-MiniLM-L6-v2", "input": ["hello", "world"]}, None),
    (10, "api: recommend similar", "POST", "/api/v1/recommend/similar", {"item_id": "50", "n": 5}, None),
    (4, "api: bad JSON!", "POST", "/v1/embeddings", None, b"{not json"),
    (4, "api: unknown model!", "POST", "/v1/embeddings", {"model": "nope", "input": ["x"]}, None),
    (4, "api: empty texts!", "POST", "/api/v1/sentiment/score", {"texts": []}, None),
]


class ApiClient:
    def __init__(self, url: str, key: str, timeout: float):
        self.http = httpx.Client(base_url=url.rstrip("/"), timeout=timeout,
                                 headers={"Authorization": f"Bearer {key}"})

    def call(self, method: str, path: str, body, raw) -> tuple[str, str, str | None]:
        """(outcome, detail, request id) of one call; raises on transport failures."""
        if raw is not None:
            answer = self.http.request(method, path, content=raw, headers={"content-type": "application/json"})
        else:
            answer = self.http.request(method, path, json=body)
        request_id = answer.headers.get("x-request-id")
        if answer.status_code == 200:
            return "ok", "", request_id
        try:
            error = answer.json()["error"]
        except (ValueError, KeyError, TypeError):
            return "server_error", answer.text[:300], request_id
        if answer.status_code == 429:
            return "queue_full", error["message"], request_id  # the plan's limit: a clean refusal
        if 400 <= answer.status_code < 500:
            return "user_error", error["message"], request_id
        return "server_error", error["message"], request_id


def new_key(database_url: str) -> str:
    """A key on a plan without limits that would refuse the load, in the app's database."""
    import os

    os.environ["AIPM_DATABASE_URL"] = database_url
    os.environ["AIPM_API_PLANS"] = json.dumps({"load": {"requests_per_minute": 10_000_000, "monthly": {}}})
    from shared import keys

    return keys.create_key("load-test", "load")[0]


def check_metered(database_url: str, request_ids: list[str], wait_s: float = 15) -> tuple[int, int, int]:
    """(answered requests, with exactly one usage row, missing): the app's writer writes in batches."""
    from sqlalchemy import create_engine, func, select

    from shared.store.schema import usage

    wanted = set(request_ids)
    engine = create_engine(database_url)
    deadline = time.time() + wait_s
    while True:
        with engine.connect() as conn:
            rows = conn.execute(select(usage.c.request_id, func.count()).group_by(usage.c.request_id)).all()
        counts = {request_id: n for request_id, n in rows if request_id in wanted}
        if len(counts) == len(wanted) or time.time() > deadline:
            break
        time.sleep(0.5)
    engine.dispose()
    once = sum(1 for n in counts.values() if n == 1)
    return len(wanted), once, len(wanted) - len(counts)
