"""Benchmark the Marketing copy product on the embedded models.

    python bench/bench_copy.py [--models qwen-0.5b,qwen-1.5b] [--tokens 64] [--repeat 2] [--skip-gguf]

Per model, each in its own process so that peak RSS is per model:
  - GGUF load: transformers `from_pretrained(gguf_file=...)` (dequantizing) vs the registry's load of
    the cached safetensors conversion (the app's path after the first use);
  - time to first token and decode tokens/s through the app (gradio_client streaming against
    `python app.py` in its own process, as deployed) vs a raw `model.generate` with TextIteratorStreamer
    on the same model files, the same prompt and the same greedy settings, in the same run; ratios
    app/raw. (With the app in the bench's own process, gradio_client's polling thread would take the
    GIL from the model and slow the app side by 10-15%.)
  - peak RSS of the serving process and of the GGUF load.
"""
from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
os.environ.setdefault("AIPM_OFFLINE", "1")
os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")

BRIEF = ["BrewMate Pro", "a smart pour-over coffee maker",
         "brews at the exact temperature\napp with 20 recipes\nquiet 3-minute brew", "home coffee lovers", "friendly",
         "en", "", ""]
TEMPLATE = "product_description"


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def gguf_load(model: str) -> dict:
    from transformers import AutoModelForCausalLM

    from products.copy import models
    from shared import artifacts, device

    artifact = models.QWEN_15B_GGUF if model == "qwen-1.5b" else models.QWEN_05B_GGUF
    path = artifacts.materialize(artifact)
    dtype = device.resolve_dtype("cpu")
    start = time.perf_counter()
    AutoModelForCausalLM.from_pretrained(str(path.parent), gguf_file=path.name, dtype=dtype)
    return {"gguf_load_s": time.perf_counter() - start, "gguf_peak_rss_mb": peak_rss_mb()}


def raw_generate(cm, prompt: str, tokens: int, kwargs: dict) -> dict:
    import torch
    from transformers import TextIteratorStreamer

    inputs = cm.tokenizer(prompt, return_tensors="pt", add_special_tokens=False)
    streamer = TextIteratorStreamer(cm.tokenizer, skip_prompt=True, skip_special_tokens=True)
    times = []
    start = time.perf_counter()

    result = {}

    def run():
        with torch.inference_mode():
            out = cm.model.generate(**inputs, streamer=streamer, max_new_tokens=tokens, **kwargs)
        result["produced"] = out.shape[1] - inputs["input_ids"].shape[1]

    thread = threading.Thread(target=run)
    thread.start()
    for chunk in streamer:
        if chunk:
            times.append(time.perf_counter())
    thread.join()
    end = time.perf_counter()
    return {"ttft": times[0] - start, "end": end, "first": times[0], "start": start, "produced": result["produced"]}


def serve(model: str, tokens: int, repeat: int) -> dict:

    from gradio_client import Client

    from products.copy import core, models
    from products.copy.templates import TEMPLATES, Brief, build_messages, prefill
    from shared.config import raw
    from shared.models import registry

    name = models.ensure_registered(model)
    import transformers  # noqa: F401  (imported before timing: the app has them loaded too)
    from shared import device
    from transformers import AutoModelForCausalLM  # noqa: F401

    device.resolve_dtype(device.resolve_device())
    start = time.perf_counter()
    registry.load(name)
    cached_load = time.perf_counter() - start
    template = TEMPLATES[TEMPLATE]
    brief = Brief(*BRIEF[:5])
    kwargs = dict(do_sample=False, repetition_penalty=float(raw("AIPM_COPY_REPETITION_PENALTY")),
                  no_repeat_ngram_size=int(raw("AIPM_COPY_NO_REPEAT_NGRAM")))


    from bench.app_server import start_app

    server, url, _ = start_app(AIPM_COPY_MODELS=model)
    client = Client(url, verbose=False)
    client.predict(name, api_name="/system_load")  # the app's model loaded before timing
    raws, apps = [], []
    try:
        for _ in range(repeat):
            with registry.use(name) as cm:
                prompt = cm.tokenizer.apply_chat_template(build_messages(brief, template, "en"), tokenize=False,
                                                          add_generation_prompt=True) + prefill(template, "en")
                r = raw_generate(cm, prompt, tokens, {**kwargs, "eos_token_id": core._stop_token_ids(cm)})
            args = BRIEF + [TEMPLATE, 1, model, 0.0, 0.9, tokens, 1]
            start = time.perf_counter()
            job = client.submit(*args, api_name="/copy_generate")
            first = None
            while not job.done():
                outs = job.outputs()
                if first is None and outs:
                    box = outs[-1][1]
                    value = box.get("value") if isinstance(box, dict) else box
                    if value:
                        first = time.perf_counter()
                time.sleep(0.01)
            final = job.result()
            end = time.perf_counter()
            details = final[11]
            steps = details["tokens_per_variant"]
            apps.append({"ttft": (first or end) - start, "tok_s": (steps - 1) / max(1e-9, end - (first or end)),
                         "steps": steps, "server_ttft": details["first_token_s"],
                         "server_tok_s": details["decode_tok_s"]})
            raws.append({"ttft": r["ttft"], "tok_s": (r["produced"] - 1) / max(1e-9, r["end"] - r["first"]),
                         "steps": r["produced"]})
    finally:
        server.terminate()
    best_raw = {"ttft": min(x["ttft"] for x in raws), "tok_s": max(x["tok_s"] for x in raws)}
    best_app = {"ttft": min(x["ttft"] for x in apps), "tok_s": max(x["tok_s"] for x in apps)}
    return {"cached_load_s": cached_load, "serve_peak_rss_mb": peak_rss_mb(), "raw": best_raw, "app": best_app,
            "runs": {"raw": raws, "app": apps}, "dtype": registry.status_of(name)["dtype"]}


def child(args) -> None:
    result = gguf_load(args.model) if args.child == "gguf" else serve(args.model, args.tokens, args.repeat)
    print("RESULT " + json.dumps(result))


def run_child(stage: str, model: str, args) -> dict:
    cmd = [sys.executable, __file__, "--child", stage, "--models", model, "--tokens", str(args.tokens),
           "--repeat", str(args.repeat)]
    out = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT)
    for line in out.stdout.splitlines():
        if line.startswith("RESULT "):
            return json.loads(line[7:])
    raise RuntimeError(f"{stage} {model} failed:\n{out.stderr[-3000:]}")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--models", default="qwen-0.5b")
    parser.add_argument("--tokens", type=int, default=64)
    parser.add_argument("--repeat", type=int, default=2)
    parser.add_argument("--skip-gguf", action="store_true")
    parser.add_argument("--child", choices=["gguf", "serve"])
    args = parser.parse_args()
    if args.child:
        args.model = args.models
        child(args)
        return
    print(f"threads={os.environ.get('AIPM_TORCH_THREADS', 'auto')} load average={os.getloadavg()[0]:.1f}")
    for model in args.models.split(","):
        served = run_child("serve", model, args)  # converts on the first run if needed
        loaded = {} if args.skip_gguf else run_child("gguf", model, args)
        raw, app = served["raw"], served["app"]
        print(f"\n== {model} ({served['dtype']}, {args.tokens} new tokens, greedy, best of {args.repeat})")
        if loaded:
            print(f"GGUF load {loaded['gguf_load_s']:.1f}s (peak RSS {loaded['gguf_peak_rss_mb']:.0f} MB) | "
                  f"cached load {served['cached_load_s']:.2f}s | speed-up {loaded['gguf_load_s'] / served['cached_load_s']:.1f}x")
        else:
            print(f"cached load {served['cached_load_s']:.2f}s")
        print(f"time to first token: raw generate {raw['ttft'] * 1000:.0f} ms | app (gradio_client) "
              f"{app['ttft'] * 1000:.0f} ms | raw/app {raw['ttft'] / app['ttft']:.2f}x")
        print(f"decode: raw generate {raw['tok_s']:.2f} tok/s | app {app['tok_s']:.2f} tok/s | "
              f"app/raw {app['tok_s'] / raw['tok_s']:.2f}x")
        print(f"peak RSS serving {served['serve_peak_rss_mb']:.0f} MB")
        print("runs:", json.dumps(served["runs"]))


if __name__ == "__main__":
    main()
