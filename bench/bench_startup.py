"""Time from process start to the first HTTP 200, with no model loaded.

    python bench/bench_startup.py [--runs 5]

Starts `python app.py` on a free port, polls / until it answers 200, then checks through the API
that no model was loaded, and stops it. Prints each run and the median. Goal here: 5 s or less.
"""
import argparse
import os
import socket
import statistics
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def one_run() -> float:
    port = free_port()
    env = dict(os.environ, AIPM_PORT=str(port), GRADIO_ANALYTICS_ENABLED="False")
    start = time.perf_counter()
    proc = subprocess.Popen([sys.executable, "app.py"], cwd=ROOT, env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=1) as r:
                    if r.status == 200:
                        elapsed = time.perf_counter() - start
                        break
            except OSError:
                if proc.poll() is not None:
                    raise SystemExit("the app exited before answering")
                time.sleep(0.05)
        from gradio_client import Client

        rows = Client(f"http://127.0.0.1:{port}/", verbose=False).predict(api_name="/system_status")
        assert all(r["state"] == "not loaded" for r in rows), rows
        return elapsed
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    times = []
    for i in range(args.runs):
        times.append(one_run())
        print(f"run {i + 1}: {times[-1]:.2f} s to HTTP 200 (no model loaded)", flush=True)
    print(f"median {statistics.median(times):.2f} s, min {min(times):.2f} s, max {max(times):.2f} s over {args.runs} runs")


if __name__ == "__main__":
    main()
