"""What the REST API costs over the work it serves, in one run on this machine (ratios; these machines
are noisy).

    python bench/bench_api.py                      # all three parts
    python bench/bench_api.py --calls 300 --skip-postgres

1. One-sentence sentiment, alternating call by call: the raw core function (products.sentiment.core,
   in this process), the REST route /api/v1/sentiment/score (httpx, keep-alive, key checked, limited,
   metered) and Gradio's client on /sentiment, all on the same server process and model. Goal: the
   API's p50 within 5 ms of raw.
2. /v1/embeddings, requests of 32 and of 256 short texts: texts per second through the API (the openai
   SDK) against the raw encoder (`encode` on the same texts, same batch size). Goal: at least 0.9x.
3. The door itself, without HTTP: key check + limiter + metering (`guard.open_call` + `Call.finish`)
   per request on SQLite and on a PostgreSQL started here. Goal: p95 at most 1 ms (SQLite), 3 ms
   (PostgreSQL).
"""
from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
os.environ["AIPM_DATABASE_URL"] = f"sqlite:///{tempfile.mkdtemp(prefix='aipm-bench-api-')}/api.db"
os.environ["AIPM_API_PLANS"] = '{"bench": {"requests_per_minute": 1000000, "monthly": {}}}'

import httpx  # noqa: E402

SENTENCE = "The battery life is fantastic and the screen is bright."
TEXTS = [f"Review {i}: the product was {'great' if i % 2 else 'disappointing'} and shipping took {i % 7} days."
         for i in range(32)]


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def line(label: str, values_ms: list[float]) -> str:
    return f"{label:28} p50 {statistics.median(values_ms):8.2f} ms   p95 {percentile(values_ms, 0.95):8.2f} ms"


def serve():
    import uvicorn

    import app
    from tests.conftest import free_port

    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app.server(app.build_app()), host="127.0.0.1", port=port,
                                           log_level="warning", access_log=False))
    threading.Thread(target=server.run, daemon=True).start()
    while not server.started:
        time.sleep(0.05)
    return server, f"http://127.0.0.1:{port}"


def sentiment(url: str, key: str, calls: int) -> None:
    from gradio_client import Client

    from products.sentiment import core

    http = httpx.Client(base_url=url, headers={"Authorization": f"Bearer {key}"}, timeout=60)
    gradio = Client(url, verbose=False)
    for _ in range(5):  # load the model, warm every path
        core.score_texts([SENTENCE])
        http.post("/api/v1/sentiment/score", json={"texts": [SENTENCE]}).raise_for_status()
        gradio.predict(SENTENCE, "auto", api_name="/sentiment")
    raw, rest, via_gradio = [], [], []
    for _ in range(calls):
        start = time.perf_counter()
        core.score_with_clauses([SENTENCE])
        raw.append((time.perf_counter() - start) * 1000)
        start = time.perf_counter()
        http.post("/api/v1/sentiment/score", json={"texts": [SENTENCE]}).raise_for_status()
        rest.append((time.perf_counter() - start) * 1000)
        start = time.perf_counter()
        gradio.predict(SENTENCE, "auto", api_name="/sentiment")
        via_gradio.append((time.perf_counter() - start) * 1000)
    print(f"\n1. one-sentence sentiment, {calls} calls each, alternating")
    print(line("raw core (score_with_clauses)", raw))
    print(line("REST /api/v1/sentiment/score", rest))
    print(line("Gradio client /sentiment", via_gradio))
    gap = statistics.median(rest) - statistics.median(raw)
    print(f"REST p50 - raw p50 = {gap:+.2f} ms (goal: within 5 ms); Gradio p50 - raw p50 = "
          f"{statistics.median(via_gradio) - statistics.median(raw):+.2f} ms")


def embeddings(url: str, key: str, batches: int, size: int) -> None:
    import openai

    from shared.encoder import ENCODER
    from shared.models import registry

    texts = [TEXTS[i % len(TEXTS)] + f" ({i})" for i in range(size)]
    client = openai.OpenAI(base_url=url + "/v1", api_key=key, max_retries=0)
    for _ in range(5):  # warm both paths at this batch's shapes
        client.embeddings.create(model="all-MiniLM-L6-v2", input=texts)
        with registry.use(ENCODER) as encoder:
            encoder.encode(texts)
    raw_s, api_s = [], []
    # In blocks, not call by call: the raw encoder runs in this thread and the API's in a server thread,
    # and torch's thread pool pays for every switch of the calling thread (measured: 0.83 interleaved,
    # 0.97 in blocks at 32 texts). Two rounds of each, so drift over the run hits both.
    for _ in range(2):
        for _ in range(max(1, batches // 2)):
            start = time.perf_counter()
            with registry.use(ENCODER) as encoder:
                encoder.encode(texts)
            raw_s.append(time.perf_counter() - start)
        for _ in range(max(1, batches // 2)):
            start = time.perf_counter()
            client.embeddings.create(model="all-MiniLM-L6-v2", input=texts)
            api_s.append(time.perf_counter() - start)
    # Medians: one slow request (a collection, the writer's batch) on a noisy machine says little.
    raw_rate, api_rate = size / statistics.median(raw_s), size / statistics.median(api_s)
    print(f"/v1/embeddings, {batches} requests of {size} texts: raw encoder {raw_rate:8.1f} texts/s   "
          f"API {api_rate:8.1f} texts/s   ratio {api_rate / raw_rate:.2f} (goal: at least 0.9)")


def door(label: str, calls: int) -> None:
    """open_call + finish with a real key, limiter and metering on the configured database."""
    from starlette.requests import Request

    from shared import keys, store
    from shared.api.guard import open_call

    secret, _ = keys.create_key(f"bench-{label}", "bench")
    scope = {"type": "http", "method": "GET", "path": "/v1/models", "query_string": b"",
             "headers": [(b"authorization", f"Bearer {secret}".encode())]}
    for _ in range(20):
        open_call(Request(scope), "-", "bench").finish()
    times = []
    for _ in range(calls):
        start = time.perf_counter()
        open_call(Request(scope), "-", "bench").finish()
        times.append((time.perf_counter() - start) * 1000)
    store.writer().flush(30)
    print(line(f"key + limits + metering, {label}", times))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=200)
    parser.add_argument("--batches", type=int, default=30)
    parser.add_argument("--skip-postgres", action="store_true")
    parser.add_argument("--parts", default="1,2,3", help="which parts to run, e.g. 2 or 1,3")
    args = parser.parse_args()

    from shared import keys

    parts = set(args.parts.split(","))
    server, url = serve()
    key, _ = keys.create_key("bench", "bench")
    if "1" in parts:
        sentiment(url, key, args.calls)
    if "2" in parts:
        print("\n2. embeddings through the API (the openai SDK, base64 as it asks) against the raw encoder")
        for size in (32, 256):
            embeddings(url, key, args.batches if size == 32 else max(5, args.batches // 6), size)
    server.should_exit = True
    if "3" not in parts:
        return 0
    print(f"\n3. the door per request, {args.calls * 5} calls, in-process (the key cache is on, as deployed)")
    door("SQLite", args.calls * 5)
    if not args.skip_postgres:
        from shared import store
        from shared.config import settings
        from tests.pg_support import NoPostgres, running_postgres

        try:
            with running_postgres() as pg_url:
                os.environ["AIPM_DATABASE_URL"] = pg_url
                settings.cache_clear()
                old = store.use_writer(None)
                keys.clear_cache()
                door("PostgreSQL", args.calls * 5)
                store.writer().flush(30)
                store.use_writer(old)
        except NoPostgres as err:
            print(f"PostgreSQL skipped: {err}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
