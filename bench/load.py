"""Load test: N mixed clients for T seconds against the app, bounded, on this machine only.

    python bench/load.py                          # starts `python app.py` itself, 50 clients, 60 s
    python bench/load.py --clients 20 --seconds 30
    python bench/load.py --queue-size 8             # a short queue: the rest must get a clean 'queue full'
    python bench/load.py --url http://127.0.0.1:7860   # an app that is already running (loopback only)

Each client loops over a weighted mix of real requests through the HTTP API (`/gradio_api/call/...`):
status, single-text sentiment, a small sentiment file, recommendations for a user and similar movies,
an emoji image, speech on a short espeak-ng clip (when espeak-ng is installed), and deliberately bad
input (a NaN, an unknown choice, missing arguments), which must come back as a clear message. Copy
(an LLM, tens of seconds a request on CPU) joins with --copy.

With --api-clients N (default 10), N more clients call the REST API with a key (bench/load_api.py):
sentiment, embeddings, recommendations, the model list and bad input (malformed JSON, an unknown model,
no texts) that must come back as a clean 4xx; afterwards every answered API request must have exactly
one usage row in the app's database.

Prints per endpoint: requests, ok, clean user errors, 'queue full', server errors (the generic
message with an error id), transport failures, p50/p95 latency; then the app's peak RSS (process and
children, sampled every 0.2 s) and the output folders left on disk. Exits 1 when any request
failed other than by a clean message or a clean 'queue full'.
"""
from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import defaultdict
from pathlib import Path
from urllib.parse import urlparse

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bench import load_api  # noqa: E402
from bench.app_server import start_app  # noqa: E402

LOOPBACK = {"127.0.0.1", "localhost", "::1"}


def file_data(path: str) -> dict:
    return {"path": path, "meta": {"_type": "gradio.FileData"}}


class Api:
    """The app's HTTP API, as a client without gradio_client (50 of those would be heavy)."""

    def __init__(self, url: str, timeout: float):
        self.url = url.rstrip("/")
        self.http = httpx.Client(timeout=timeout)

    def upload(self, path: Path) -> str:
        with open(path, "rb") as handle:
            answer = self.http.post(f"{self.url}/gradio_api/upload", files={"files": (path.name, handle)})
        answer.raise_for_status()
        return answer.json()[0]

    def call(self, api_name: str, body: str) -> tuple[str, str]:
        """("complete" | "error", data) of one call; raises on transport failures."""
        posted = self.http.post(f"{self.url}/gradio_api/call/{api_name}", content=body.encode(),
                                headers={"content-type": "application/json"})
        if posted.status_code != 200:
            return "error", posted.text
        event_id = posted.json()["event_id"]
        kind = ""
        with self.http.stream("GET", f"{self.url}/gradio_api/call/{api_name}/{event_id}") as stream:
            for line in stream.iter_lines():
                if line.startswith("event:"):
                    kind = line.split(":", 1)[1].strip()
                elif line.startswith("data:") and kind in ("complete", "error"):
                    return kind, line.split(":", 1)[1].strip()
        return "error", "the stream ended without a result"


def request_mix(files: dict, with_copy: bool) -> list[tuple[float, str, str, str]]:
    """(weight, label, api_name, JSON body); a label ending in '!' expects a clean refusal."""
    mix = [
        (15, "system_status", "system_status", '{"data": []}'),
        (25, "sentiment", "sentiment", json.dumps({"data": ["The battery lasts for days, I love it", "auto"]})),
        (8, "sentiment_file", "sentiment_file", json.dumps({"data": [file_data(files["csv"]), "review", "auto", False]})),
        (10, "recommend_user", "recommend_user", json.dumps({"data": ["42", 10, True, 0.9, [], 1922, 1998]})),
        (8, "recommend_similar", "recommend_similar", json.dumps({"data": ["50", 10, True, 0.9, [], 1922, 1998]})),
        (6, "image_generate", "image_generate",
         json.dumps({"data": ["a red heart", "", "", 8, 3.0, 256, 256, 1, "Default"]})),
        (4, "bad: NaN steps!", "image_generate", '{"data": ["a red heart", "", "", NaN, 3.0, 256, 256, 1, "Default"]}'),
        (4, "bad: unknown language!", "sentiment", '{"data": ["fine", "klingon"]}'),
        (4, "bad: missing arguments!", "recommend_user", '{"data": ["42"]}'),
    ]
    if files.get("wav"):
        mix.append((4, "speech_transcribe", "speech_transcribe", json.dumps(
            {"data": [None, file_data(files["wav"]), "en", "transcribe", "tiny.en", "faster-whisper", False, 42, 2, "", "simplified", True,
                      False, 0]})))
    if with_copy:
        mix.append((2, "copy_generate", "copy_generate", json.dumps(
            {"data": ["BrewMate", "a coffee maker", "quiet", "home baristas", "friendly", "en", "", "", "search_ad",
                      1, "qwen-0.5b", 0.7, 0.9, 16, 1]})))
    return mix


def classify(kind: str, data: str) -> str:
    if kind == "complete":
        # a batched event answers a bad request with its message as the note (⚠️), not an error
        return "user_error" if '"\\u26a0\\ufe0f' in data or '"⚠️' in data else "ok"
    lowered = data.lower()
    if "queue is full" in lowered or "too many requests" in lowered:
        return "queue_full"
    if "error id" in lowered or "错误编号" in data:
        return "server_error"
    try:
        message = json.loads(data).get("error") or ""
    except (ValueError, AttributeError):
        message = data
    return "user_error" if message and message != "null" else "server_error"


def make_inputs(folder: Path) -> dict[str, Path]:
    csv = folder / "reviews.csv"
    csv.write_text("id,review\n1,\"Great, works well\"\n2,Terrible. Broke in a day\n3,这本书写得太好了\n",
                   encoding="utf-8")
    inputs = {"csv": csv}
    if shutil.which("espeak-ng"):
        wav = folder / "hello.wav"
        subprocess.run(["espeak-ng", "-w", str(wav), "Hello, this is a short load test."], check=True)
        inputs["wav"] = wav
    return inputs


def sample_rss(pid: int, stop: threading.Event, peak: list[int]) -> None:
    import psutil

    try:
        proc = psutil.Process(pid)
    except psutil.Error:
        return
    while not stop.is_set():
        try:
            total = proc.memory_info().rss + sum(c.memory_info().rss for c in proc.children(recursive=True))
            peak[0] = max(peak[0], total)
        except psutil.Error:
            return
        stop.wait(0.2)


def run(url: str, clients: int, seconds: float, with_copy: bool, timeout: float, seed: int,
        api_clients: int = 0, api_key: str = "", request_ids: list | None = None) -> dict:
    folder = Path(tempfile.mkdtemp(prefix="aipm-load-"))
    paths = make_inputs(folder)
    setup = Api(url, timeout)
    files = {name: setup.upload(path) for name, path in paths.items()}
    mix = request_mix(files, with_copy)
    weights = [w for w, *_ in mix]
    results: dict[str, list[tuple[str, float, str]]] = defaultdict(list)
    lock = threading.Lock()
    deadline = time.monotonic() + seconds

    def client(k: int) -> None:
        rng = random.Random(seed * 1000 + k)
        api = Api(url, timeout)
        while time.monotonic() < deadline:
            _, label, api_name, body = rng.choices(mix, weights)[0]
            start = time.perf_counter()
            try:
                kind, data = api.call(api_name, body)
                outcome = classify(kind, data)
            except httpx.HTTPError as err:
                outcome, data = "transport", f"{type(err).__name__}: {err}"
            with lock:
                results[label].append((outcome, time.perf_counter() - start, data[:300]))

    def api_client(k: int) -> None:
        rng = random.Random(seed * 1000 + 500 + k)
        api = load_api.ApiClient(url, api_key, timeout)
        weights_api = [w for w, *_ in load_api.MIX]
        while time.monotonic() < deadline:
            _, label, method, path, body, raw = rng.choices(load_api.MIX, weights_api)[0]
            start = time.perf_counter()
            try:
                outcome, data, request_id = api.call(method, path, body, raw)
                if request_id and request_ids is not None:
                    with lock:
                        request_ids.append(request_id)
            except httpx.HTTPError as err:
                outcome, data = "transport", f"{type(err).__name__}: {err}"
            with lock:
                results[label].append((outcome, time.perf_counter() - start, data[:300]))

    threads = [threading.Thread(target=client, args=(k,), daemon=True) for k in range(clients)]
    threads += [threading.Thread(target=api_client, args=(k,), daemon=True) for k in range(api_clients)]
    for thread in threads:
        thread.start()
    for thread in threads:  # every client stops at the deadline, after its request in flight
        thread.join(timeout=seconds + timeout + 30)
    shutil.rmtree(folder, ignore_errors=True)
    return results


def report(results: dict) -> int:
    kinds = ["ok", "user_error", "queue_full", "server_error", "transport"]
    print(f"{'endpoint':28} {'n':>5} " + " ".join(f"{k:>12}" for k in kinds) + f" {'p50 s':>8} {'p95 s':>8}")
    bad = 0
    for label in sorted(results):
        rows = results[label]
        counts = {k: sum(1 for o, _, _ in rows if o == k) for k in kinds}
        latencies = sorted(s for _, s, _ in rows)
        p50 = statistics.median(latencies)
        p95 = latencies[min(len(latencies) - 1, int(0.95 * len(latencies)))]
        print(f"{label:28} {len(rows):5d} " + " ".join(f"{counts[k]:12d}" for k in kinds) + f" {p50:8.2f} {p95:8.2f}")
        expects_refusal = label.endswith("!")
        for outcome, _, data in rows:
            wrong = outcome in ("server_error", "transport") or (expects_refusal and outcome == "ok") or \
                (not expects_refusal and outcome == "user_error")
            if wrong:
                bad += 1
                if bad <= 10:
                    print(f"   ✗ {label}: {outcome}: {data}")
    total = sum(len(rows) for rows in results.values())
    print(f"\n{total} requests; {bad} failed other than by a clean message or 'queue full'")
    return bad


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", help="an app already running on this machine (default: start one)")
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--timeout", type=float, default=300, help="most seconds one request may take")
    parser.add_argument("--copy", action="store_true", help="also send marketing-copy requests (slow on CPU)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--queue-size", type=int, help="AIPM_QUEUE_SIZE of the app it starts (default: the app's)")
    parser.add_argument("--api-clients", type=int, default=10, help="REST API clients with a key, besides --clients")
    parser.add_argument("--api-key", help="with --url: the key the API clients send (their metering is not checked)")
    args = parser.parse_args()
    proc, database, api_key = None, None, args.api_key or ""
    if args.url:
        if urlparse(args.url).hostname not in LOOPBACK:
            raise SystemExit("this load test only targets an app on this machine (127.0.0.1 / localhost)")
        if args.api_clients and not api_key:
            raise SystemExit("--url with API clients needs --api-key (or --api-clients 0)")
        url = args.url
    else:
        database = f"sqlite:///{tempfile.mkdtemp(prefix='aipm-load-db-')}/matrix.db"
        api_key = load_api.new_key(database) if args.api_clients else ""
        env = {"AIPM_DATABASE_URL": database, "AIPM_API_PLANS": os.environ.get("AIPM_API_PLANS", "")}
        if args.queue_size:
            env["AIPM_QUEUE_SIZE"] = str(args.queue_size)
        proc, url, started = start_app(**env)
        print(f"app started in {started:.1f} s at {url}")
    request_ids: list[str] = []
    peak, stop = [0], threading.Event()
    if proc is not None:
        threading.Thread(target=sample_rss, args=(proc.pid, stop, peak), daemon=True).start()
    try:
        start = time.perf_counter()
        results = run(url, args.clients, args.seconds, args.copy, args.timeout, args.seed, args.api_clients,
                      api_key, request_ids)
        elapsed = time.perf_counter() - start
        print(f"\n{args.clients} clients and {args.api_clients} API clients for {args.seconds:.0f} s "
              f"(all done after {elapsed:.0f} s)\n")
        bad = report(results)
        if database and request_ids:
            answered, once, missing = load_api.check_metered(database, request_ids)
            print(f"API requests answered {answered}: metered exactly once {once}, not metered {missing}")
            bad += answered - once
    finally:
        stop.set()
        if proc is not None:
            proc.terminate()
            proc.wait(timeout=30)
    if proc is not None:
        print(f"peak RSS of the app (with children): {peak[0] / 1e6:.0f} MB")
    from shared.outputs import disk_usage

    folders, size = disk_usage()
    print(f"output folders on disk: {folders} ({size / 1e6:.1f} MB), removed after AIPM_OUTPUT_TTL")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
