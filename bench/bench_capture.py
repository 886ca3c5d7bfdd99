"""What measuring every request costs, and whether every request is recorded.

    python bench/bench_capture.py                       # overhead: the same app's events, capture on vs off
    python bench/bench_capture.py --load --clients 50 --seconds 30   # N clients: events written = requests served

Overhead: the app's own SafeBlocks.process_api is called in this process on light public endpoints
(status, reuse seed, image preset, an unknown sentiment column list), alternating AIPM_CAPTURE=1 and
0 call by call so both see the same machine; p50/p95 per call of each, and the difference. The
database is a temporary SQLite file; the writer thread runs as in the app.

Load: the app in its own process with a temporary database, bench/load.py's mixed clients; then the
requests the clients got an answer for (ok, clean message, server error; not 'queue full', which
Gradio refuses before any event runs) against the rows in the database.
"""
from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
import shared  # noqa: E402,F401  (sets OMP_WAIT_POLICY before torch)


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def overhead(calls: int) -> None:
    folder = tempfile.mkdtemp(prefix="aipm-bench-capture-")
    os.environ["AIPM_DATABASE_URL"] = f"sqlite:///{folder}/matrix.db"
    import gradio as gr
    from gradio.state_holder import SessionState

    import app
    from shared import store
    from shared.config import settings

    demo = app.demo
    names = {"system_status": [], "image_reuse_seed": ["123"], "image_preset": ["Emoji, 25 steps"]}
    fns = {fn.api_name: fn for fn in demo.fns.values() if fn.api_name in names}
    request = gr.Request(headers={"accept-language": "en-US"}, session_hash="bench-session")
    timings: dict[bool, list[float]] = {True: [], False: []}
    per_endpoint: dict[tuple[str, bool], list[float]] = {(name, on): [] for name in names for on in (True, False)}

    state = SessionState(demo)

    async def one(fn, inputs) -> float:
        start = time.perf_counter()
        await demo.process_api(block_fn=fn, inputs=list(inputs), state=state, request=request)
        return (time.perf_counter() - start) * 1000

    async def run() -> None:
        for i in range(calls):
            for on in (True, False) if i % 2 else (False, True):
                os.environ["AIPM_CAPTURE"] = "1" if on else "0"
                settings.cache_clear()
                for name, fn in fns.items():
                    ms = await one(fn, names[name])
                    timings[on].append(ms)
                    per_endpoint[(name, on)].append(ms)

    asyncio.run(run())
    settings.cache_clear()
    store.writer().flush(60)
    written = store.writer().stats()
    on, off = timings[True], timings[False]
    print(f"{len(on)} events with capture, {len(off)} without ({', '.join(fns)}), in this process")
    print(f"without capture: p50 {statistics.median(off):.3f} ms, p95 {percentile(off, 0.95):.3f} ms")
    print(f"with capture:    p50 {statistics.median(on):.3f} ms, p95 {percentile(on, 0.95):.3f} ms")
    print(f"capture adds:    p50 {statistics.median(on) - statistics.median(off):+.3f} ms, "
          f"p95 {percentile(on, 0.95) - percentile(off, 0.95):+.3f} ms (goal: at most 2 ms at p95)")
    for name in fns:
        a, b = per_endpoint[(name, True)], per_endpoint[(name, False)]
        print(f"  {name:18} p95 with {percentile(a, 0.95):8.3f} ms, without {percentile(b, 0.95):8.3f} ms, "
              f"adds {percentile(a, 0.95) - percentile(b, 0.95):+.3f} ms")
    print(f"events written {written['written']}, dropped {written['dropped_queue_full'] + written['dropped_database']}"
          f" (of {len(on)} measured)")


def load(clients: int, seconds: float) -> int:
    from sqlalchemy import create_engine, func, select

    from bench import load as load_bench
    from bench.app_server import start_app
    from shared.store.schema import requests

    folder = tempfile.mkdtemp(prefix="aipm-bench-load-")
    url_db = f"sqlite:///{folder}/matrix.db"
    proc, url, started = start_app(AIPM_DATABASE_URL=url_db)
    print(f"app started in {started:.1f} s; database {url_db}")
    try:
        results = load_bench.run(url, clients, seconds, False, 300, 0)
        load_bench.report(results)
        time.sleep(3)  # the writer's last batch
    finally:
        proc.terminate()
        proc.wait(timeout=60)
    served = sum(1 for rows in results.values() for outcome, _, _ in rows
                 if outcome in ("ok", "user_error", "server_error"))
    engine = create_engine(url_db)
    with engine.connect() as conn:
        written = conn.execute(select(func.count()).select_from(requests)).scalar_one()
        by_outcome = dict(conn.execute(select(requests.c.outcome, func.count()).group_by(requests.c.outcome)).all())
    print(f"\nrequests served (answered, not 'queue full'): {served}; recorded in the database: {written} {by_outcome}")
    return 0 if written == served else 1


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=2000, help="rounds of the overhead measurement")
    parser.add_argument("--load", action="store_true", help="run the N-client load and count the events")
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=30)
    args = parser.parse_args()
    if args.load:
        return load(args.clients, args.seconds)
    overhead(args.calls)
    return 0


if __name__ == "__main__":
    sys.exit(main())
