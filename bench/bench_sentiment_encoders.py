"""Sentiment encoders on this CPU: latency per text and per 1,000 rows, the product against the raw model.

    OMP_WAIT_POLICY=PASSIVE python bench/bench_sentiment_encoders.py [--rows 1000] [--n 20] [--threads 2]

For each encoder (the fine-tuned MiniLM, EmbeddingGemma-300M) and language, on real reviews of the
held-out domains (movie snippets, hotel reviews):
  - per text: `core.score_texts([text])`, one text at a time, median of --n (the one-text box);
  - per 1,000 rows: `core.score_texts(rows)` (what a file upload runs: windows, length-sorted batches
    of AIPM_SENTIMENT_BATCH, calibrated heads);
  - raw: the same rows through the encoder's own forward pass and the head, in fixed batches, without
    the product's windowing and sorting: the ratio product / raw is the product's overhead (or gain).
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


def child(encoder: str, rows_n: int, n: int) -> dict:
    import torch

    import shared  # noqa: F401
    from products.sentiment import core, data, experiment, models
    from shared.models import registry

    out = {"encoder": encoder, "threads": torch.get_num_threads()}
    for lang in ("en", "zh"):
        texts = [r.text for r in data.sample(experiment.pool(lang, experiment.GEMMA_POOLS), 10**9)
                 if r.domain == experiment.HOLDOUT[lang]][:rows_n]
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
    parser.add_argument("--child")
    args = parser.parse_args()
    if args.child:
        print(json.dumps(child(args.child, args.rows, args.n)))
        return
    results = []
    for encoder in ("minilm", "gemma"):
        env = {**os.environ, "AIPM_SENTIMENT_ENCODER": encoder, "AIPM_TORCH_THREADS": args.threads}
        done = subprocess.run([sys.executable, __file__, "--child", encoder, "--rows", str(args.rows), "--n", str(args.n)],
                              env=env, capture_output=True, text=True, check=True)
        results.append(json.loads(done.stdout.strip().splitlines()[-1]))
        print(json.dumps(results[-1]), flush=True)
    print(f"\n| encoder | language | per text | per 1,000 rows | raw model, per 1,000 rows | product / raw | peak RSS |")
    print("|---|---|---|---|---|---|---|")
    for r in results:
        for lang in ("en", "zh"):
            x = r[lang]
            print(f"| {r['encoder']} | {lang} | {x['per_text_ms']} ms | {x['per_1000_rows_s']} s | "
                  f"{x['raw_per_1000_rows_s']} s | {x['product_over_raw']} | {r['peak_rss_mb']} MB |")
    print(f"\n{args.threads} torch threads, {args.rows} rows of the held-out domains, load average {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
