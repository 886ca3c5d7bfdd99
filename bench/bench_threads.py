"""Threads by measurement: the probes that choose `auto` thread counts against the real work they stand for.

    OMP_WAIT_POLICY=PASSIVE python bench/bench_threads.py [--texts 20] [--tokens 32]

At every thread count `shared.threads.candidates` offers on this machine (1, half, all but one, all), in one
process, one after another:
  - the torch probe (shared/device.py: torch_probe) against EmbeddingGemma on the torch path, ms per
    English text, one text at a time (the sentiment box) and in batches of 32 (a file), and the
    fine-tuned MiniLM the same way;
  - the llama.cpp probe (LlamaCopyModel.thread_probe, 8 tokens) against decoding `--tokens` tokens of a
    copy prompt on the 1.5B.
A probe is right when it picks the count the real work runs fastest with. Nothing is cached: this is a
measurement to report (`python -m shared.threads` shows what the app chose and cached).
"""
from __future__ import annotations

import argparse
import os
import statistics
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
os.environ.setdefault("AIPM_SENTIMENT_GEMMA_RUNTIME", "torch")  # torch threads are what this measures


def _per_text_ms(encoder, texts: list[str]) -> float:
    encoder.encode(texts[:2])  # warm-up
    times = []
    for text in texts:
        start = time.perf_counter()
        encoder.encode([text])
        times.append(time.perf_counter() - start)
    return statistics.median(times) * 1000


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--texts", type=int, default=20)
    parser.add_argument("--tokens", type=int, default=32)
    args = parser.parse_args()

    import torch

    from products.copy import models as copy_models
    from products.copy.llama_batch import Row, Sampling
    from products.copy.llama_engine import LlamaCopyModel
    from products.sentiment import data, encoders, experiment
    from shared import artifacts, threads
    from shared.device import torch_probe
    from shared.models import registry

    counts = threads.candidates(threads.cores())
    print(f"{threads.cpu_name()}, {threads.cores()} cores; thread counts {counts}; "
          f"load average {os.getloadavg()[0]:.1f}", flush=True)
    pool = [r.text for r in data.sample(experiment.pool("en", experiment.GEMMA_POOLS), 10**9)]
    texts, batch = pool[:args.texts], pool[:128]
    rows: dict[str, dict[int, float]] = {}
    for n in counts:
        torch.set_num_threads(n)
        rows.setdefault("torch probe (ms)", {})[n] = min(torch_probe(n) for _ in range(3)) * 1000
    for name in (encoders.GEMMA, encoders.MINILM):
        spec = encoders.SPECS[name]
        registry.register(spec)
        with registry.use(spec.name) as encoder:
            for n in counts:
                torch.set_num_threads(n)
                rows.setdefault(f"{name}: ms per text, one at a time", {})[n] = _per_text_ms(encoder, texts)
                start = time.perf_counter()
                encoder.encode(batch, batch_size=32)
                rows.setdefault(f"{name}: ms per text, batches of 32", {})[n] = \
                    (time.perf_counter() - start) / len(batch) * 1000
        registry.unload(spec.name)

    model = LlamaCopyModel(str(artifacts.materialize(copy_models.QWEN_15B_GGUF)), "bench", n_ctx=2048, threads=1,
                           seqs=2)
    prompt = model.chat_prompt([{"role": "user", "content": "Write a product description for BrewMate Pro, a "
                                                            "quiet smart coffee maker with 20 recipes in its app."}])
    for n in counts:
        rows.setdefault("llama.cpp probe (ms)", {})[n] = min(model.thread_probe(n) for _ in range(2)) * 1000
        model.decode_rows([Row(prompt)], Sampling(temperature=0), 4, threading.Event())  # warm at n threads
        start = time.perf_counter()
        result = model.decode_rows([Row(prompt)], Sampling(temperature=0), args.tokens, threading.Event())
        rows.setdefault("qwen-1.5b: ms per token", {})[n] = (time.perf_counter() - start) / max(1, result.steps) * 1000
    model.close()

    print("\n| measured | " + " | ".join(f"{n} thread{'s' if n > 1 else ''}" for n in counts) + " | fastest |")
    print("|---|" + "---|" * len(counts) + "---|")
    for name, values in rows.items():
        fastest = min(values, key=values.get)
        print(f"| {name} | " + " | ".join(f"{values[n]:.1f}" for n in counts) + f" | {fastest} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
