"""Run the app as it is deployed, `python app.py` in its own process, for the benchmarks."""
import os
import socket
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


def start_app(timeout_s: float = 120.0, **env: str) -> tuple[subprocess.Popen, str, float]:
    """Start the app with these extra environment variables; return (process, url, seconds to the
    first HTTP 200). The caller terminates the process."""
    port = free_port()
    start = time.perf_counter()
    proc = subprocess.Popen([sys.executable, "app.py"], cwd=ROOT,
                            env=dict(os.environ, AIPM_PORT=str(port), GRADIO_ANALYTICS_ENABLED="False", **env),
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}/"
    while time.perf_counter() - start < timeout_s:
        try:
            with urllib.request.urlopen(url, timeout=1) as response:
                if response.status == 200:
                    return proc, url, time.perf_counter() - start
        except OSError:
            if proc.poll() is not None:
                raise SystemExit("the app exited before answering")
            time.sleep(0.05)
    proc.terminate()
    raise SystemExit(f"the app did not answer within {timeout_s:.0f} s")
