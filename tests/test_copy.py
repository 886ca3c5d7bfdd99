"""Marketing copy: templates, limits, loops, prompts, streaming, Stop and the tab, on a tiny random
Qwen2 model built here (byte-level tokenizer, ChatML template; nothing downloaded)."""
from __future__ import annotations

import json
import threading
import time

import pytest

from products.copy import convert, core, models
from products.copy import text as tx
from products.copy.templates import TEMPLATES, Brief
from products.copy.transformers_engine import Watcher
from shared.registry import ModelRegistry
from shared.ui import UserError
from tests.conftest import free_port

CHATML = ("{% for m in messages %}<|im_start|>{{ m.role }}\n{{ m.content }}<|im_end|>\n{% endfor %}"
          "{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}")
PLAIN = ("{% for m in messages %}[{{ m.role }}]\n{{ m.content }}\n{% endfor %}"
         "{% if add_generation_prompt %}[assistant]\n{% endif %}")


def build_tiny(out, with_eos: bool = True, context: int = 1024):
    """A 1-layer Qwen2 with random weights and a byte-level BPE tokenizer (no merges)."""
    import torch
    from tokenizers import Tokenizer, decoders, models as tmodels, pre_tokenizers
    from transformers import PreTrainedTokenizerFast, Qwen2Config, Qwen2ForCausalLM

    alphabet = pre_tokenizers.ByteLevel.alphabet()
    vocab = {ch: i for i, ch in enumerate(sorted(alphabet))}
    tok = Tokenizer(tmodels.BPE(vocab=vocab, merges=[]))
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=True)
    tok.decoder = decoders.ByteLevel()
    specials = ["<|endoftext|>", "<|im_start|>", "<|im_end|>"] if with_eos else []
    fast = PreTrainedTokenizerFast(tokenizer_object=tok)
    if with_eos:
        fast.add_special_tokens({"additional_special_tokens": specials[1:], "eos_token": "<|im_end|>",
                                 "pad_token": "<|endoftext|>"})
    fast.chat_template = CHATML if with_eos else PLAIN
    fast.save_pretrained(out)
    torch.manual_seed(0)
    config = Qwen2Config(vocab_size=len(fast), hidden_size=32, intermediate_size=64, num_hidden_layers=1,
                         num_attention_heads=2, num_key_value_heads=1, max_position_embeddings=context,
                         eos_token_id=fast.eos_token_id, pad_token_id=fast.pad_token_id, tie_word_embeddings=False)
    Qwen2ForCausalLM(config).save_pretrained(out, safe_serialization=True)
    return out


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    return build_tiny(tmp_path_factory.mktemp("tiny-qwen"))


@pytest.fixture(scope="module")
def tiny_no_eos(tmp_path_factory):
    return build_tiny(tmp_path_factory.mktemp("tiny-qwen-no-eos"), with_eos=False)


@pytest.fixture
def reg():
    return ModelRegistry(budget_bytes=8_000_000_000, keep_alive_s=0)


@pytest.fixture
def custom(tiny, fresh_settings, tmp_path):
    fresh_settings.setenv("AIPM_COPY_PATH", str(tiny))
    fresh_settings.setenv("AIPM_CACHE_DIR", str(tmp_path / "cache"))
    return tiny


BRIEF = dict(product="BrewMate Pro", description="a smart pour-over coffee maker",
             features="exact temperature\n20 recipes", audience="home coffee lovers", tone="friendly")


def brief(**changes) -> Brief:
    return Brief(**{**BRIEF, **changes})


# ---- counting and trimming --------------------------------------------------------------------
def test_counting_rules():
    assert tx.count("Brew better", "width") == 11
    assert tx.count("咖啡机", "width") == 6 and tx.count("咖啡机", "chars") == 3  # Google Ads counts CJK as 2
    assert tx.count("ＡＢ", "width") == 4  # full-width Latin counts 2 too
    with pytest.raises(ValueError):
        tx.count("x", "pixels")


def test_trim_at_word_boundary():
    assert tx.trim("Brew barista-grade coffee at home every morning", 30) == "Brew barista-grade coffee"
    assert tx.trim("Short line", 30) == "Short line"
    assert tx.trim("Supercalifragilistic", 5) == "Super"  # one long word: cut inside it
    assert tx.trim("这是一个非常非常长的标题", 10) == "这是一个非"  # 5 characters x 2
    assert tx.trim("这是一个非常长的标题", 6, "chars") == "这是一个非常"
    assert tx.trim("Fresh, fast, and quiet coffee", 17) == "Fresh, fast"  # no dangling "and" or comma


def test_chinese_ratio():
    assert tx.chinese_ratio("智能咖啡机") == 1.0
    assert tx.chinese_ratio("smart coffee") == 0.0
    assert 0.3 < tx.chinese_ratio("BrewMate 智能咖啡机") < 0.5


# ---- loops on crafted outputs -----------------------------------------------------------------
@pytest.mark.parametrize("text, reason", [
    ("Headline 1: Fresh coffee\nHeadline 2: fresh coffee!\n", "repeated line"),
    ("Great post\n#coffee #morning #coffee ", "repeated hashtag"),
    ("#a #b #c #d #e #f ", "too many hashtags"),
    ("so good so good so good so good", "repeated phrase"),
    ("好喝好喝好喝好喝好喝", "repeated phrase"),
    ("wowwwwwwww", "repeated phrase"),
])
def test_loop_reasons(text, reason):
    assert tx.loop_reason(text, max_hashtags=5) == reason


@pytest.mark.parametrize("text", ["Fresh coffee\nBetter mornings\n", "Costs 1000000 yuan...", "#a #b #c",
                                  "Headline 1: Fresh coffee\nHeadline 2: Fresh"])  # last line still being written
def test_no_loop_in_normal_copy(text):
    assert tx.loop_reason(text, max_hashtags=5) == ""


def test_clean_removes_what_loops_leave():
    raw = "Wake up to better coffee\nwake up to better coffee!\nBrew it your way\n#coffee #brew #coffee #brew #x #y #z"
    assert tx.clean(raw, max_hashtags=4) == "Wake up to better coffee\nBrew it your way\n#coffee #brew #x #y"
    assert tx.clean("好喝好喝好喝好喝好喝！") == "好喝！"
    assert tx.clean("so good so good so good so good.") == "so good."


# ---- templates --------------------------------------------------------------------------------
def test_every_template_has_limits_and_both_languages_or_a_reason():
    assert set(TEMPLATES) == {"product_description", "tagline", "social_post", "search_ad", "email_subject",
                              "seo_meta", "xiaohongshu", "follow_up_email"}
    for template in TEMPLATES.values():
        assert template.fields and all(f.limit > 0 for f in template.fields)
    assert TEMPLATES["search_ad"].fields[0].limit == 30 and TEMPLATES["search_ad"].fields[1].limit == 90
    assert TEMPLATES["seo_meta"].fields[1].limit == 155 and TEMPLATES["email_subject"].fields[0].limit == 60
    assert TEMPLATES["follow_up_email"].fields[0].limit == 70 and TEMPLATES["follow_up_email"].total_limit == 1800


# ---- checks -----------------------------------------------------------------------------------
def test_bad_requests_get_clear_messages():
    with pytest.raises(UserError, match="brief is empty"):
        core.check(Brief(product="  ", tone="friendly"), "tagline", "en", core.Options())
    with pytest.raises(UserError, match="'fr' is not supported"):
        core.check(brief(), "tagline", "fr", core.Options())
    with pytest.raises(UserError, match="不支持语言"):
        core.check(brief(), "tagline", "de", core.Options(), lang_ui="zh")
    with pytest.raises(UserError, match="Unknown channel"):
        core.check(brief(), "billboard", "en", core.Options())
    with pytest.raises(UserError, match="1 to 5 variants"):
        core.check(brief(), "tagline", "en", core.Options(variants=6))
    checked = core.check(brief(), "xiaohongshu", "English", core.Options())
    assert checked.lang == "zh" and "written in Chinese" in checked.notes[0]
    options = core.Options(variants=3, temperature=0)
    checked = core.check(brief(), "tagline", "中文", options)
    assert checked.lang == "zh" and checked.options.variants == 1 and "one variant" in checked.notes[0]
    assert options.variants == 3  # the caller's options are left as they were


def test_check_returns_cleaned_copies_and_leaves_the_callers_brief():
    asked = Brief(product="  BrewMate\r\nPro  ", features="x" * (core.MAX_FIELD_CHARS + 10), tone=" friendly ")
    checked = core.check(asked, "tagline", "en", core.Options())
    assert checked.brief.product == "BrewMate\nPro" and checked.brief.tone == "friendly"
    assert len(checked.brief.features) == core.MAX_FIELD_CHARS
    assert asked.product == "  BrewMate\r\nPro  " and len(asked.features) == core.MAX_FIELD_CHARS + 10


def test_max_new_tokens_limit_comes_from_the_settings_object():
    from products.copy.settings import CopySettings

    assert core.max_new_tokens_limit(CopySettings(max_new_tokens=64)) == 64
    with pytest.raises(UserError):
        core.check(brief(), "tagline", "en", core.Options(max_new_tokens=65), config=CopySettings(max_new_tokens=64))


def test_resolve_decoding_fills_every_default_from_the_template_and_settings():
    from products.copy.settings import CopySettings

    template = TEMPLATES["tagline"]
    config = CopySettings(repetition_penalty=1.3, no_repeat_ngram=4)
    decoding = core.resolve_decoding(core.Options(variants=2), template, config, seed_source=lambda: 42)
    assert (decoding.rows, decoding.max_new_tokens, decoding.seed) == (2, template.max_new_tokens, 42)
    assert (decoding.repetition_penalty, decoding.no_repeat_ngram) == (1.3, 4)
    asked = core.Options(max_new_tokens=24, repetition_penalty=1.0, no_repeat_ngram_size=0, seed=7, top_k=5)
    decoding = core.resolve_decoding(asked, template, config, seed_source=lambda: 42)
    assert (decoding.max_new_tokens, decoding.repetition_penalty, decoding.no_repeat_ngram, decoding.seed,
            decoding.top_k) == (24, 1.0, 0, 7, 5)
    assert asked.repetition_penalty == 1.0 and asked.seed == 7  # unchanged


def test_seeds_are_read_by_the_shared_rule():
    from products.copy.settings import CopySettings

    template, config = TEMPLATES["tagline"], CopySettings()
    resolve = core.resolve_decoding
    assert resolve(core.Options(seed=7), template, config).seed == 7
    assert resolve(core.Options(seed=7.0), template, config).seed == 7  # a JSON number
    assert resolve(core.Options(seed=2**32 + 5), template, config).seed == 5  # what generators take
    for random in (-1, None, "", "random"):
        assert 0 <= resolve(core.Options(seed=random), template, config).seed < 2**32
    for bad in (1e30, 2**63, -2, 1.5, "abc"):
        with pytest.raises(UserError, match="not a whole number"):
            resolve(core.Options(seed=bad), template, config)
    with pytest.raises(UserError, match="不是"):
        resolve(core.Options(seed=1e30), template, config, lang_ui="zh")


def test_a_seed_past_64_bits_is_refused_before_the_model_loads(reg):
    with pytest.raises(UserError, match="not a whole number"):
        core.run_to_end(brief(), "tagline", "en", core.Options(seed=1e30), "qwen-0.5b", reg=reg)
    assert reg.status_of("copy-qwen-0.5b")["state"] == "not loaded"


def test_newest_keeps_only_the_latest_step_and_the_last_kind():
    import queue

    out = queue.Queue()
    for item in (("step", ["a"]), ("step", ["ab"]), ("end", None)):
        out.put(item)
    assert core.newest(out) == (["ab"], "end", None)
    out.put(("error", ValueError("x")))
    step, kind, value = core.newest(out)
    assert step is None and kind == "error" and isinstance(value, ValueError)


def test_fit_brief_trims_the_longest_field_with_a_note():
    long = brief(features="fast " * 2000)
    fitted, notes = core.fit_brief(long, "en", lambda s: len(s.split()), budget=100)
    assert len(fitted.features.split()) < 100 and fitted.product == "BrewMate Pro"
    assert long.features == "fast " * 2000  # a shortened copy; the caller's brief is unchanged
    assert notes and "shortened" in notes[0]
    same, none = core.fit_brief(brief(), "en", lambda s: len(s.split()), budget=100)
    assert none == []


def test_presets():
    assert core.Options.preset("precise").temperature < core.Options.preset("balanced").temperature < \
        core.Options.preset("creative").temperature


# ---- the watcher stops rows that loop or are complete ------------------------------------------
def test_watcher_stops_looping_and_complete_rows(tiny):
    import queue

    import torch
    from transformers import AutoTokenizer

    tok = AutoTokenizer.from_pretrained(tiny)
    rows = ["Fresh coffee\nfresh coffee\n", "Fresh coffee\nBetter mornings", "Just one tagline\n"]
    ids = [tok(x, add_special_tokens=False)["input_ids"] for x in rows]
    width = max(map(len, ids))
    batch = torch.tensor([[0, 0] + x + [tok.pad_token_id] * (width - len(x)) for x in ids])
    stop = threading.Event()
    out = queue.Queue()
    watcher = Watcher(tok, 2, 3, TEMPLATES["email_subject"], "en", stop, out, time.perf_counter())
    assert watcher(batch).tolist() == [True, False, False]
    assert watcher.loops[0] == "repeated line"
    tag = Watcher(tok, 2, 3, TEMPLATES["tagline"], "en", stop, out, time.perf_counter())
    assert tag(batch).tolist() == [True, True, True]  # rows 1 and 2 wrote their one tagline line: done
    stop.set()
    assert watcher(batch).tolist() == [True, True, True]
    assert out.get_nowait()[0] == "step"


# ---- generation on the tiny model --------------------------------------------------------------
def test_streaming_yields_variants_and_releases_the_lease(custom, reg):
    updates = list(core.generate(brief(), "email_subject", "en", core.Options(variants=3, seed=7, max_new_tokens=24),
                                 "custom", reg=reg))
    assert len(updates) >= 3 and all(len(u.texts) == 3 for u in updates)
    final = updates[-1]
    assert final.done and not final.stopped and len(final.variants) == 3
    assert 1 <= final.stats.steps <= 24 and final.stats.first_token_s > 0 and final.stats.prompt_tokens > 50
    assert any(not u.done and any(u.texts) for u in updates)  # partial text arrived before the end
    assert reg.status_of("copy-custom")["leases"] == 0
    for variant in final.variants:
        assert all(line.count <= line.limit for line in variant.lines)
    again = core.run_to_end(brief(), "email_subject", "en", core.Options(variants=3, seed=7, max_new_tokens=24),
                            "custom", reg=reg)
    assert again.texts == final.texts  # same seed, same copy
    one = core.run_to_end(brief(), "tagline", "zh", core.Options(variants=1, max_new_tokens=8), "custom", reg=reg)
    assert len(one.texts) == 1 and len(one.variants) == 1


def test_generate_leaves_its_arguments_as_they_were_and_takes_a_settings_object(custom, reg):
    from products.copy.settings import CopySettings

    asked, options = brief(product="  BrewMate Pro  "), core.Options(variants=3, temperature=0, max_new_tokens=8)
    config = CopySettings(repair=False, repetition_penalty=1.0, no_repeat_ngram=0)
    final = core.run_to_end(asked, "tagline", "en", options, "custom", reg=reg, config=config)
    assert len(final.texts) == 1 and any("one variant" in note for note in final.notes)  # greedy: one
    assert options == core.Options(variants=3, temperature=0, max_new_tokens=8)  # not edited
    assert asked.product == "  BrewMate Pro  " and options.repetition_penalty is None


def test_stop_ends_the_thread_within_a_token(tiny_no_eos, fresh_settings, reg, tmp_path):
    fresh_settings.setenv("AIPM_COPY_PATH", str(tiny_no_eos))
    stop = threading.Event()
    steps_at_stop = None
    final = None
    for update in core.generate(brief(), "product_description", "en",
                                core.Options(variants=2, temperature=1.0, top_p=1.0, max_new_tokens=500),
                                "custom", reg=reg, stop=stop):
        if update.done:
            final = update
        elif update.stats.steps >= 3 and steps_at_stop is None:
            assert reg.status_of("copy-custom")["leases"] == 1  # held while streaming
            steps_at_stop = update.stats.steps
            stop.set()
    assert final.stopped and final.stats.steps <= steps_at_stop + 3 < 500
    assert not [t for t in threading.enumerate() if t.name == "copy-generate"]
    assert reg.status_of("copy-custom")["leases"] == 0


def test_closing_the_stream_stops_the_thread(tiny_no_eos, fresh_settings, reg):
    fresh_settings.setenv("AIPM_COPY_PATH", str(tiny_no_eos))
    stream = core.generate(brief(), "product_description", "en",
                           core.Options(variants=1, temperature=1.0, top_p=1.0, max_new_tokens=500), "custom", reg=reg)
    first = next(stream)
    assert not first.done
    stream.close()  # what Gradio does when the event is cancelled
    assert not [t for t in threading.enumerate() if t.name == "copy-generate"]
    assert reg.status_of("copy-custom")["leases"] == 0


def test_over_long_brief_is_trimmed_to_the_context(tmp_path, fresh_settings, reg):
    small = build_tiny(tmp_path / "small", context=512)
    fresh_settings.setenv("AIPM_COPY_PATH", str(small))
    final = core.run_to_end(brief(features="long feature text " * 2000), "tagline", "en",
                            core.Options(variants=1, max_new_tokens=8), "custom", reg=reg)
    assert final.stats.prompt_tokens + 8 <= 512
    assert any("shortened" in note for note in final.notes)


def test_configured_models_and_unknown_model(fresh_settings, reg):
    fresh_settings.setenv("AIPM_COPY_PATH", "")
    fresh_settings.setenv("AIPM_COPY_HUB", "")
    fresh_settings.setenv("AIPM_COPY_MODELS", "qwen-0.5b, nonsense")
    assert models.configured_models() == ["qwen-0.5b"]
    fresh_settings.setenv("AIPM_COPY_MODELS", "qwen-1.5b,qwen-0.5b")
    fresh_settings.setenv("AIPM_COPY_HUB", "Qwen/Qwen2.5-7B-Instruct")
    assert models.configured_models() == ["custom", "qwen-1.5b", "qwen-0.5b"]
    with pytest.raises(UserError, match="Unknown model"):
        core.run_to_end(brief(), "tagline", "en", core.Options(), "gpt-9", reg=reg)


# ---- the conversion cache -------------------------------------------------------------------
def test_conversion_cache_is_verified_and_reused(tiny, fresh_settings, tmp_path, monkeypatch):
    fresh_settings.setenv("AIPM_CACHE_DIR", str(tmp_path / "cache"))
    gguf = tmp_path / "model.gguf"
    gguf.write_bytes(b"GGUF-not-really")
    calls = []

    def fake_convert(source, out, dtype, progress=None):  # the real one is exercised by the integration test
        import shutil

        shutil.rmtree(out, ignore_errors=True)
        shutil.copytree(tiny, out)
        files = {p.name: {"size": p.stat().st_size, "sha256": convert.artifacts.sha256_of(p)} for p in out.iterdir()}
        (out / convert.MANIFEST).write_text(json.dumps({"files": files}))
        calls.append(out)
        return out

    monkeypatch.setattr(convert, "convert", fake_convert)
    folder = convert.cached_conversion(gguf, "torch.float32")
    assert folder.name.endswith("-float32") and convert.check_manifest(folder)
    assert convert.cached_conversion(gguf, "torch.float32") == folder and len(calls) == 1  # reused
    with open(folder / "config.json", "a") as handle:
        handle.write(" ")  # tampered: converted again
    assert not convert.check_manifest(folder)
    convert.cached_conversion(gguf, "torch.float32")
    assert len(calls) == 2


# ---- through the app (gradio_client) --------------------------------------------------------
def test_gradio_client_streams_and_stops(tiny_no_eos, fresh_settings, tmp_path):
    import gradio as gr
    from gradio_client import Client

    from products.copy import PRODUCT, build_tab
    from shared.models import registry

    fresh_settings.setenv("AIPM_COPY_PATH", str(tiny_no_eos))
    fresh_settings.setenv("AIPM_CACHE_DIR", str(tmp_path / "cache"))
    assert PRODUCT.title == "copy.tab"
    with gr.Blocks() as demo:
        build_tab()
    demo.queue().launch(prevent_thread_lock=True, server_port=free_port(), quiet=True)
    try:
        client = Client(demo.local_url, verbose=False)
        args = ["BrewMate Pro", "a smart pour-over coffee maker", "exact temperature", "home coffee lovers",
                "friendly", "en", "", "", "email_subject", 2, "custom", 0.7, 0.9, 16, 5]
        job = client.submit(*args, api_name="/copy_generate")
        final = job.result()
        outputs = job.outputs()
        assert len(outputs) >= 2  # streamed: partial updates before the last
        status, boxes, tables, details = final[0], final[1:6], final[6:11], final[11]
        assert "2 variant(s) written" in status and details["seed"] == 5 and len(details["variants"]) == 2
        assert details["tokens_per_variant"] <= 16
        values = [b["value"] if isinstance(b, dict) else b for b in boxes]  # gr.update dicts come as dicts
        assert values[0] == details["variants"][0]["text"] and values[2:] == ["", "", ""]
        assert [b.get("visible") for b in boxes if isinstance(b, dict)] == [True, True, False, False, False]

        with pytest.raises(Exception, match="brief is empty"):
            client.predict("", "", "", "", "friendly", "en", "", "", "tagline", 1, "custom", 0.7, 0.9, 0, -1,
                           api_name="/copy_generate")

        # Stop: a long generation is cancelled; the model thread ends early and the lease is released.
        steps = []
        original = Watcher.__call__

        def spy(self, input_ids, scores=None, **kwargs):
            steps.append(self.steps + 1)
            return original(self, input_ids, scores, **kwargs)

        fresh_settings.setattr(Watcher, "__call__", spy)
        long_args = args[:8] + ["product_description", 1, "custom", 1.0, 1.0, 512, -1]
        job = client.submit(*long_args, api_name="/copy_generate")
        deadline = time.time() + 60
        while len(job.outputs()) < 2 and not job.done() and time.time() < deadline:
            time.sleep(0.05)
        assert not job.done()
        client.predict(api_name="/copy_stop")
        deadline = time.time() + 15
        while time.time() < deadline and ([t for t in threading.enumerate() if t.name == "copy-generate"]
                                         or registry.status_of("copy-custom")["leases"]):
            time.sleep(0.05)
        assert not [t for t in threading.enumerate() if t.name == "copy-generate"]
        assert registry.status_of("copy-custom")["leases"] == 0
        assert steps and max(steps) < 512  # stopped, not run to the end
        last = job.outputs()[-1] if job.outputs() else None
        assert last is None or len(last) == 12
    finally:
        demo.close()
        try:
            registry.unload("copy-custom")
        except Exception:
            pass
