"""Benchmark the Marketing copy engines on one GGUF file, the same prompt, in the same run.

    python bench/bench_copy.py [--model qwen-1.5b] [--tokens 48] [--repeat 2] [--threads 2] [--skip transformers,first_use]

Each engine runs in its own process (so peak RSS is its own), one after another:
  - app:  the app's llama.cpp engine (products/copy/llama_engine.py, through the registry), N variants as
          N parallel sequences of one batch;
  - app_plain: the same without speculative decoding (AIPM_COPY_DRAFT=off);
  - raw:  llama-cpp-python's own `Llama` on the same file, same threads, context and batch; it decodes
          one sequence at a time, so 3 variants are 3 completions one after another;
  - raw_lookup: the same `Llama` with its own speculative decoding (prompt-lookup drafts, 4 tokens);
  - acceptance: the draft's guesses kept per channel and language (the product's prompt and grammar);
  - transformers: the previous path (AIPM_COPY_ENGINE=transformers: the GGUF converted once to
          safetensors, then `generate(num_return_sequences=N)`);
  - first use: the app's llama.cpp path on an empty AIPM_CACHE_DIR (join the packaged parts, verify the
          sha256, load) until the first token.
Same sampling everywhere (T 0.7, top-p 0.9, top-k 40, repetition penalty 1.1 over 64 tokens, seeded),
no grammar, `--tokens` new tokens at most. Time to first token is measured on the first (cold) prompt
of the process; tokens/s per variant = (tokens - 1) / (end - first token), best of --repeat.
The machine may be shared: compare the ratios of one run, not figures across runs.
"""
from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("AIPM_OFFLINE", "1")
import shared  # noqa: E402,F401  (sets OMP_WAIT_POLICY before llama.cpp or torch is imported)

BRIEF = dict(product="BrewMate Pro", description="a smart pour-over coffee maker",
             features="brews at the exact temperature\napp with 20 recipes\nquiet 3-minute brew",
             audience="home coffee lovers", tone="friendly")
TEMPLATE = "search_ad"
SAMPLING = dict(temperature=0.7, top_p=0.9, top_k=40, repetition_penalty=1.1)


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _prompt(cm) -> str:
    from products.copy.prompts import build_messages, prefill
    from products.copy.templates import TEMPLATES, Brief

    template = TEMPLATES[TEMPLATE]
    messages = build_messages(Brief(**BRIEF), template, "en")
    if hasattr(cm, "chat_prompt"):
        return cm.chat_prompt(messages) + prefill(template, "en")
    return cm.tokenizer.apply_chat_template(messages, tokenize=False, add_generation_prompt=True) + prefill(template, "en")


def _rate(tokens: int, first: float, end: float) -> float:
    return (tokens - 1) / max(1e-9, end - first) if tokens > 1 else 0.0


def _summary(runs: list[dict]) -> dict:
    out = {}
    for n in (1, 3):
        mine = [r for r in runs if r["variants"] == n]
        out[n] = {"ttft_s": mine[0]["ttft_s"], "tok_s_per_variant": max(r["per_variant"] for r in mine),
                  "tok_s_all": max(r["all"] for r in mine), "tokens": mine[0]["tokens"]}
    return out


def _registry_model(model: str, engine: str):
    os.environ["AIPM_COPY_ENGINE"] = engine
    os.environ.setdefault("AIPM_COPY_DRAFT", "on")  # speculative decoding measured, not decided by `auto`
    os.environ.setdefault("AIPM_COPY_THREADS", os.environ.get("BENCH_THREADS", "2"))
    from products.copy import models
    from shared.models import registry

    name = models.ensure_registered(model)
    start = time.perf_counter()
    registry.load(name)
    return registry, name, time.perf_counter() - start


def bench_app(model: str, tokens: int, repeat: int) -> dict:
    from products.copy.llama_batch import Row, Sampling

    registry, name, load_s = _registry_model(model, "llama.cpp")
    runs = []
    with registry.use(name) as cm:
        prompt = _prompt(cm)
        for r in range(repeat):
            for n in (1, 3):
                marks = []
                start = time.perf_counter()
                result = cm.decode_rows([Row(prompt, "", 11 * r + i) for i in range(n)], Sampling(**SAMPLING),
                                        tokens, threading.Event(),
                                        on_step=lambda texts: marks.append(time.perf_counter()) and None)
                end = time.perf_counter()
                rate = _rate(len(marks), marks[0], end)
                runs.append({"variants": n, "ttft_s": marks[0] - start, "tokens": len(marks), "per_variant": rate,
                             "all": rate * n, "guesses_kept": [result.accepted, result.drafted]})
        memory = cm.memory_bytes()
    return {"load_s": load_s, "peak_rss_mb": peak_rss_mb(), "registry_mb": memory / 1e6, "runs": runs,
            "threads": cm.threads, "draft": cm.draft is not None}


def bench_app_plain(model: str, tokens: int, repeat: int) -> dict:
    """The app's engine without speculative decoding (AIPM_COPY_DRAFT=off)."""
    os.environ["AIPM_COPY_DRAFT"] = "off"
    return bench_app(model, tokens, repeat)


# (template, language) pairs whose acceptance is reported: the channels of the issue, both languages
ACCEPTANCE = (("search_ad", "en"), ("social_post", "en"), ("product_description", "en"),
              ("search_ad", "zh"), ("social_post", "zh"), ("xiaohongshu", "zh"))
BRIEF_ZH = dict(product="云朵枕", description="记忆棉护颈枕", features="慢回弹记忆棉\n可拆洗枕套\n贴合颈椎曲线",
                audience="久坐办公的年轻人", tone="friendly")


def bench_acceptance(model: str, tokens: int, repeat: int) -> dict:
    """Guesses kept per channel and language: one variant of the product's own prompt and grammar."""
    from products.copy import structure
    from products.copy.llama_batch import Row, Sampling
    from products.copy.prompts import build_messages, prefill
    from products.copy.templates import TEMPLATES, Brief

    registry, name, _ = _registry_model(model, "llama.cpp")
    out = {}
    with registry.use(name) as cm:
        if cm.draft is None:
            return {"error": "no draft model attached (AIPM_COPY_DRAFT, or the 0.5B is not installed)"}
        for key, lang in ACCEPTANCE:
            template = TEMPLATES[key]
            brief = Brief(**(BRIEF_ZH if lang == "zh" else BRIEF))
            prompt = cm.chat_prompt(build_messages(brief, template, lang)) + prefill(template, lang)
            grammar = structure.grammar(template, lang, brief.product)
            marks = []
            cm.decode_rows([Row(prompt, grammar, 5)], Sampling(**SAMPLING), tokens * 2, threading.Event(),
                           on_step=lambda texts: marks.append(time.perf_counter()) and None)
            kept, made = cm.last_acceptance
            out[f"{key}/{lang}"] = {"accepted": kept, "drafted": made, "rate": kept / max(1, made),
                                    "tok_s": _rate(len(marks), marks[0], marks[-1]) if marks else 0.0}
    return {"acceptance": out, "draft_tokens": cm.draft.tokens}


def bench_raw_lookup(model: str, tokens: int, repeat: int) -> dict:
    """llama-cpp-python's own speculative decoding (prompt-lookup drafts, `LlamaPromptLookupDecoding`)."""
    return bench_raw(model, tokens, repeat, lookup=True)


def bench_raw(model: str, tokens: int, repeat: int, lookup: bool = False) -> dict:
    from llama_cpp import Llama
    from llama_cpp.llama_speculative import LlamaPromptLookupDecoding

    from products.copy import models
    from shared import artifacts

    path = artifacts.materialize(models.QWEN_15B_GGUF if model == "qwen-1.5b" else models.QWEN_05B_GGUF)
    threads = int(os.environ.get("BENCH_THREADS", "2"))
    start = time.perf_counter()
    llm = Llama(str(path), n_ctx=4096, n_batch=512, n_ubatch=512, n_threads=threads, n_threads_batch=threads,
                verbose=False, draft_model=LlamaPromptLookupDecoding(num_pred_tokens=4) if lookup else None)
    load_s = time.perf_counter() - start
    prompt = llm.tokenize(_prompt(_Chat(llm)).encode("utf-8"), add_bos=False, special=True)
    runs = []
    for r in range(repeat):
        for n in (1, 3):
            rates, counts, ttft = [], [], None
            wall = time.perf_counter()
            for i in range(n):  # the high-level API: one sequence at a time
                start = time.perf_counter()
                marks = []
                for _ in llm.create_completion(prompt, max_tokens=tokens, temperature=SAMPLING["temperature"],
                                               top_p=SAMPLING["top_p"], top_k=SAMPLING["top_k"],
                                               repeat_penalty=SAMPLING["repetition_penalty"], seed=11 * r + i,
                                               stream=True):
                    marks.append(time.perf_counter())
                ttft = ttft if ttft is not None else marks[0] - start
                rates.append(_rate(len(marks), marks[0], marks[-1]))
                counts.append(len(marks))
            all_rate = (sum(counts) - n) / max(1e-9, time.perf_counter() - wall - ttft)
            # per variant as the user sees it: with 3, they come back after 3 decodes in a row
            runs.append({"variants": n, "ttft_s": ttft, "tokens": counts[0],
                         "per_variant": rates[0] if n == 1 else all_rate / n, "all": all_rate})
    return {"load_s": load_s, "peak_rss_mb": peak_rss_mb(), "runs": runs, "threads": threads}


class _Chat:
    """The GGUF's chat template rendered the way the app renders it (same prompt text)."""

    def __init__(self, llm):
        self.chat_template = llm.metadata.get("tokenizer.chat_template", "")

    def chat_prompt(self, messages):
        from products.copy.llama_engine import LlamaCopyModel

        return LlamaCopyModel.chat_prompt(self, messages)


def bench_transformers(model: str, tokens: int, repeat: int) -> dict:
    import torch
    from transformers import StoppingCriteria

    registry, name, load_s = _registry_model(model, "transformers")
    runs = []

    class Marks(StoppingCriteria):
        def __init__(self):
            self.times = []

        def __call__(self, input_ids, scores=None, **kwargs):
            self.times.append(time.perf_counter())
            return torch.zeros((input_ids.shape[0],), dtype=torch.bool)

    with registry.use(name) as cm:
        inputs = cm.tokenizer(_prompt(cm), return_tensors="pt", add_special_tokens=False)
        for r in range(repeat):
            for n in (1, 3):
                marks = Marks()
                torch.manual_seed(11 * r)
                start = time.perf_counter()
                with torch.inference_mode():
                    cm.model.generate(**inputs, max_new_tokens=tokens, do_sample=True, num_return_sequences=n,
                                      temperature=SAMPLING["temperature"], top_p=SAMPLING["top_p"],
                                      top_k=SAMPLING["top_k"], repetition_penalty=SAMPLING["repetition_penalty"],
                                      stopping_criteria=[marks], pad_token_id=cm.tokenizer.eos_token_id)
                end = time.perf_counter()
                rate = _rate(len(marks.times), marks.times[0], end)
                runs.append({"variants": n, "ttft_s": marks.times[0] - start, "tokens": len(marks.times),
                             "per_variant": rate, "all": rate * n})
        dtype = str(cm.model.dtype)
    return {"load_s": load_s, "peak_rss_mb": peak_rss_mb(), "runs": runs, "dtype": dtype,
            "torch_threads": torch.get_num_threads()}


def bench_first_use(model: str, tokens: int, repeat: int) -> dict:
    """Empty cache: join and verify the packaged GGUF, load it in llama.cpp, first token."""
    from products.copy.llama_batch import Row, Sampling

    with tempfile.TemporaryDirectory(dir=os.environ.get("BENCH_TMP")) as empty:
        os.environ["AIPM_CACHE_DIR"] = empty
        start = time.perf_counter()
        registry, name, _ = _registry_model(model, "llama.cpp")
        with registry.use(name) as cm:
            marks = []
            cm.decode_rows([Row(_prompt(cm))], Sampling(**SAMPLING), 2, threading.Event(),
                           on_step=lambda texts: marks.append(time.perf_counter()) and None)
        first = marks[0] - start
        registry.unload(name)
    return {"first_use_s": first, "peak_rss_mb": peak_rss_mb()}


STAGES = {"app": bench_app, "app_plain": bench_app_plain, "raw": bench_raw, "raw_lookup": bench_raw_lookup,
          "acceptance": bench_acceptance, "transformers": bench_transformers, "first_use": bench_first_use}


def run_child(stage: str, args) -> dict:
    cmd = [sys.executable, __file__, "--child", stage, "--model", args.model, "--tokens", str(args.tokens),
           "--repeat", str(args.repeat)]
    env = {**os.environ, "BENCH_THREADS": str(args.threads), "AIPM_COPY_THREADS": str(args.threads),
           "AIPM_TORCH_THREADS": str(args.threads)}
    out = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT, env=env)
    for line in out.stdout.splitlines():
        if line.startswith("RESULT "):
            return json.loads(line[7:])
    raise RuntimeError(f"{stage} failed:\n{out.stderr[-3000:]}")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--model", default="qwen-1.5b")
    parser.add_argument("--tokens", type=int, default=48)
    parser.add_argument("--repeat", type=int, default=2)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--skip", default="", help="comma-separated stages to skip: " + ",".join(STAGES))
    parser.add_argument("--child", choices=list(STAGES))
    args = parser.parse_args()
    if args.child:
        print("RESULT " + json.dumps(STAGES[args.child](args.model, args.tokens, args.repeat)))
        return
    print(f"{args.model}, {args.threads} threads, {args.tokens} new tokens, best of {args.repeat}; "
          f"load average {os.getloadavg()[0]:.1f}", flush=True)
    results = {}
    for stage in STAGES:
        if stage in args.skip.split(","):
            continue
        results[stage] = run_child(stage, args)
        print(stage, json.dumps(results[stage]), flush=True)
    print(f"\n| {args.model} | 1 variant: first token | tok/s | 3 variants: tok/s per variant (all) | load | peak RSS |")
    print("|---|---|---|---|---|---|")
    for stage in ("app", "app_plain", "raw", "raw_lookup", "transformers"):
        if stage in results:
            s, r = _summary(results[stage]["runs"]), results[stage]
            print(f"| {stage} | {s[1]['ttft_s']:.2f} s | {s[1]['tok_s_per_variant']:.2f} | "
                  f"{s[3]['tok_s_per_variant']:.2f} ({s[3]['tok_s_all']:.2f}) | {r['load_s']:.1f} s | {r['peak_rss_mb']:.0f} MB |")
    if "app" in results and "raw" in results:
        a, w = _summary(results["app"]["runs"]), _summary(results["raw"]["runs"])
        print(f"app / raw llama.cpp, 1 variant: {a[1]['tok_s_per_variant'] / w[1]['tok_s_per_variant']:.2f}x; "
              f"3 variants, all tokens: {a[3]['tok_s_all'] / w[3]['tok_s_all']:.2f}x; "
              f"first token raw/app {w[1]['ttft_s'] / a[1]['ttft_s']:.2f}x")
    if "app" in results and "app_plain" in results and "raw_lookup" in results:
        a, p, k = (_summary(results[x]["runs"]) for x in ("app", "app_plain", "raw_lookup"))
        print(f"speculative / plain (app), 1 variant: {a[1]['tok_s_per_variant'] / p[1]['tok_s_per_variant']:.2f}x, "
              f"3 variants all: {a[3]['tok_s_all'] / p[3]['tok_s_all']:.2f}x; app / llama-cpp-python prompt lookup, "
              f"1 variant: {a[1]['tok_s_per_variant'] / k[1]['tok_s_per_variant']:.2f}x")
    if "acceptance" in results and "acceptance" in results["acceptance"]:
        print(f"\n| channel / language | guesses kept | tok/s (1 variant, grammar) |\n|---|---|---|")
        for key, row in results["acceptance"]["acceptance"].items():
            print(f"| {key} | {row['accepted']}/{row['drafted']} ({row['rate']:.2f}) | {row['tok_s']:.2f} |")
    if "app" in results and "transformers" in results:
        a, t = _summary(results["app"]["runs"]), _summary(results["transformers"]["runs"])
        print(f"app / transformers, 1 variant: {a[1]['tok_s_per_variant'] / t[1]['tok_s_per_variant']:.2f}x; "
              f"3 variants per variant: {a[3]['tok_s_per_variant'] / t[3]['tok_s_per_variant']:.2f}x")
    if "first_use" in results:
        print(f"first use on an empty cache (join, verify, load, first token): {results['first_use']['first_use_s']:.1f} s")


if __name__ == "__main__":
    main()
