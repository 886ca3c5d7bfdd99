"""Sentiment encoders on this CPU: latency per text and per 1,000 rows, the product against the raw model.

    OMP_WAIT_POLICY=PASSIVE python bench/bench_sentiment_encoders.py [--rows 1000] [--n 20] [--threads 2]
        [--encoders minilm,gemma,gemma-int8]

For each encoder (the fine-tuned MiniLM; EmbeddingGemma-300M in torch float32, `gemma`; the same
EmbeddingGemma as the int8 ONNX graph in ONNX Runtime, `gemma-int8`, when `python -m
products.sentiment.onnx_gemma export` made it) and language, on real reviews of the held-out domains
(movie snippets, hotel reviews):
  - per text: `core.score_texts([text])`, one text at a time, median of --n (the one-text box);
  - per 1,000 rows: `core.score_texts(rows)` (what a file upload runs: windows, length-sorted batches
    of AIPM_SENTIMENT_BATCH, calibrated heads);
  - raw: the same rows through the encoder's own forward pass and the head, in fixed batches, without
    the product's windowing and sorting: the ratio product / raw is the product's overhead (or gain).
  - a /v1/embeddings-style batch: 32 short texts (English movie snippets of at most 100 characters)
    embedded in one call, median of 5, in texts/s: the encoder object (`encode_counted`, what
    /v1/embeddings runs) and, for gemma-int8, a raw onnxruntime.InferenceSession on the same file (the
    same tokenizer and prompt, the same thread count, default options otherwise), in the same process.
Each encoder runs in its own process (its own peak RSS). Compare ratios within one run.
"""
from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")


RUNTIMES = {"minilm": ("minilm", "torch"), "gemma": ("gemma", "torch"), "gemma-int8": ("gemma", "onnx")}


def _texts_per_s(run, texts: list[str], repeats: int = 5) -> float:
    run(texts)  # warm
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        run(texts)
        times.append(time.perf_counter() - start)
    return round(len(texts) / statistics.median(times), 1)


def embeddings_batch(encoder, texts: list[str]) -> dict:
    """32 short texts in one call: the encoder object, and for the ONNX encoder the raw session."""
    out = {"texts": len(texts), "encoder_texts_per_s": _texts_per_s(lambda b: encoder.encode_counted(b, 32), texts)}
    if getattr(encoder, "dtype", "") == "int8":
        import numpy as np
        import onnxruntime as ort

        options = ort.SessionOptions()
        options.intra_op_num_threads = encoder.threads
        raw = ort.InferenceSession(str(encoder.path), options, providers=["CPUExecutionProvider"])

        def run_raw(batch):
            enc = encoder.tokenizer([encoder.prompt + t for t in batch], padding=True, truncation=True,
                                    max_length=encoder.max_tokens, return_tensors="np")
            return raw.run(None, {"input_ids": enc["input_ids"].astype(np.int64),
                                  "attention_mask": enc["attention_mask"].astype(np.int64)})[0]

        out["raw_ort_texts_per_s"] = _texts_per_s(run_raw, texts)
        out["encoder_over_raw"] = round(out["encoder_texts_per_s"] / out["raw_ort_texts_per_s"], 3)
    return out


def child(encoder: str, rows_n: int, n: int) -> dict:
    import torch

    import shared  # noqa: F401
    from products.sentiment import core, data, experiment, models
    from shared.models import registry

    out = {"encoder": encoder, "threads": torch.get_num_threads()}
    short = []
    for lang in ("en", "zh"):
        texts = [r.text for r in data.sample(experiment.pool(lang, experiment.GEMMA_POOLS), 10**9)
                 if r.domain == experiment.HOLDOUT[lang]][:rows_n]
        short = short or [t for t in texts if len(t) <= 100][:32]
        core.score_texts(texts[:8], lang)  # load and warm
        singles = []
        for text in texts[:n]:
            start = time.perf_counter()
            core.score_texts([text], lang)
            singles.append(time.perf_counter() - start)
        start = time.perf_counter()
        core.score_texts(texts, lang)
        product = time.perf_counter() - start
        with registry.use(models.SENTIMENT) as model, registry.use(model.encoder_for(lang)) as enc:
            start = time.perf_counter()
            for i in range(0, len(texts), 32):
                vectors = torch.from_numpy(enc.encode(texts[i:i + 32], batch_size=32))
                with torch.inference_mode():
                    model.heads[lang](vectors, texts[i:i + 32])
            raw = time.perf_counter() - start
            out["runtime"] = f"{getattr(enc, 'device', '')} {getattr(enc, 'dtype', '')}".strip() or str(
                getattr(enc.model, "dtype", ""))
            if lang == "en":
                out["batch32"] = embeddings_batch(enc, short)
        out[lang] = {"rows": len(texts), "per_text_ms": round(statistics.median(singles) * 1000, 1),
                     "per_1000_rows_s": round(product / len(texts) * 1000, 1),
                     "raw_per_1000_rows_s": round(raw / len(texts) * 1000, 1), "product_over_raw": round(product / raw, 3)}
    out["peak_rss_mb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=1000)
    parser.add_argument("--n", type=int, default=20)
    parser.add_argument("--threads", default="2")
    parser.add_argument("--encoders", default="minilm,gemma,gemma-int8")
    parser.add_argument("--child")
    args = parser.parse_args()
    if args.child:
        print(json.dumps(child(args.child, args.rows, args.n)))
        return
    results = []
    for encoder in args.encoders.split(","):
        name, runtime = RUNTIMES[encoder]
        env = {**os.environ, "AIPM_SENTIMENT_ENCODER": name, "AIPM_SENTIMENT_GEMMA_RUNTIME": runtime,
               "AIPM_TORCH_THREADS": args.threads}
        done = subprocess.run([sys.executable, __file__, "--child", encoder, "--rows", str(args.rows), "--n", str(args.n)],
                              env=env, capture_output=True, text=True, check=True)
        results.append(json.loads(done.stdout.strip().splitlines()[-1]))
        print(json.dumps(results[-1]), flush=True)
    print(f"\n| encoder | runtime | language | per text | per 1,000 rows | raw model, per 1,000 rows | product / raw | peak RSS |")
    print("|---|---|---|---|---|---|---|---|")
    for r in results:
        for lang in ("en", "zh"):
            x = r[lang]
            print(f"| {r['encoder']} | {r.get('runtime', '')} | {lang} | {x['per_text_ms']} ms | {x['per_1000_rows_s']} s | "
                  f"{x['raw_per_1000_rows_s']} s | {x['product_over_raw']} | {r['peak_rss_mb']} MB |")
    base = {r["encoder"]: r for r in results}
    if "gemma" in base and "gemma-int8" in base:
        a, b = base["gemma"], base["gemma-int8"]
        print(f"\ngemma-int8 speed-up over gemma (torch, {a.get('runtime', '')}; AIPM_DTYPE picks float32 or bfloat16): " + ", ".join(
            f"{lang} per text {a[lang]['per_text_ms'] / b[lang]['per_text_ms']:.2f}x, per 1,000 rows "
            f"{a[lang]['per_1000_rows_s'] / b[lang]['per_1000_rows_s']:.2f}x" for lang in ("en", "zh")))
    print("\n/v1/embeddings-style batch of 32 short English texts (texts/s):")
    for r in results:
        x = r.get("batch32", {})
        raw = f", raw onnxruntime session {x['raw_ort_texts_per_s']} (encoder / raw {x['encoder_over_raw']})" \
            if "raw_ort_texts_per_s" in x else ""
        print(f"- {r['encoder']}: encoder {x.get('encoder_texts_per_s')}{raw}")
    print(f"\n{args.threads} torch threads, {args.rows} rows of the held-out domains, load average {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
