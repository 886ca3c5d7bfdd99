"""Time from process start to the first HTTP 200, with no model loaded.

    python bench/bench_startup.py [--runs 5]

Starts `python app.py` on a free port, polls / until it answers 200, then checks through the API
that no model was loaded, and stops it. Prints each run and the median. Goal here: 5 s or less.
"""
import argparse
import statistics
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


def one_run() -> float:
    from gradio_client import Client

    from bench.app_server import start_app

    proc, url, elapsed = start_app()
    try:
        rows = Client(url, verbose=False).predict(api_name="/system_status")
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
