"""Heads over a frozen encoder: trained from registry-package data, evaluated out of domain.

    python -m products.sentiment.tools.train --encoder gemma --mode holdout   # figures with a domain held out
    python -m products.sentiment.tools.train --encoder gemma --mode full      # writes assets/sentiment/heads-gemma.safetensors
    python -m products.sentiment.tools.train --encoder base --mode holdout    # the package MiniLM, heads only (the old model)

The pools, splits and scores are products/sentiment/experiment.py's, the same as the end-to-end
fine-tuning (products/sentiment/tools/finetune.py) uses, so the encoders compare. Optimiser, learning rate
and epoch are chosen on validation; the temperature too; test and out-of-domain are scored once.
Baselines on the same splits: VADER for English, snownlp's naive Bayes retrained on our train split
for Chinese.
"""
from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np

import shared  # noqa: F401  (sets OMP_WAIT_POLICY before torch)
from shared import artifacts
from shared.encoder import ENCODER

from products.sentiment import data, experiment
from products.sentiment.experiment import macro_f1, scores
from products.sentiment.heads import LABELS, build_heads, save_heads
from products.sentiment.vector_cache import embed

ASSET_DIR = Path(__file__).resolve().parents[3] / "assets" / "sentiment"
SEED = 0


def english_rows() -> list[tuple[str, int]]:
    return [(r.text, r.label) for r in data.english_rows()]


def chinese_rows() -> list[tuple[str, int]]:
    return [(r.text, r.label) for r in data.chinese_rows()]


def _dedupe_split(rows: list[tuple[str, int]], seed: int = SEED) -> dict[str, list[tuple[str, int]]]:
    unique = data.dedupe([data.Row(t, label, "") for t, label in rows])
    return {k: [(r.text, r.label) for r in v] for k, v in data.split(unique, seed).items()}


# Optimiser, learning rate and weight decay tried per language, chosen on validation. The Chinese
# head's hashed n-gram table is sparse and wide: Adagrad (per-feature steps) suits it better than
# Adam, whose momentum keeps moving rows of n-grams absent from the batch.
GRID = {"en": (("adamw", 1e-3, 1e-4), ("adamw", 3e-3, 1e-4), ("adamw", 1e-3, 1e-2)),
        "zh": (("adagrad", 0.05, 0.0), ("adagrad", 0.1, 0.0), ("adamw", 1e-2, 0.0))}


def train_head(lang: str, splits: dict, vectors: dict, epochs: int = 20) -> tuple:
    """The head chosen on validation, its test scores, and what was chosen. `splits` hold (text, label)."""
    import torch

    from products.sentiment.heads import char_ngram_ids

    classes = len(LABELS[lang])
    y = {k: torch.tensor([label for _, label in rows]) for k, rows in splits.items()}
    x = {k: torch.from_numpy(v) for k, v in vectors.items()}
    grams = {k: [char_ngram_ids(t) for t, _ in rows] for k, rows in splits.items()}
    dim = int(x["train"].shape[1])
    counts = torch.bincount(y["train"], minlength=classes).float()
    weights = counts.sum() / (classes * counts)  # balanced classes, for macro-F1
    best = None
    for optimiser, lr, decay in GRID[lang]:
        torch.manual_seed(SEED)
        head = build_heads(dim)[lang]
        opt = (torch.optim.Adagrad if optimiser == "adagrad" else torch.optim.AdamW)(
            head.parameters(), lr=lr, weight_decay=decay)
        loss_fn = torch.nn.CrossEntropyLoss(weight=weights)
        n = len(y["train"])
        for epoch in range(epochs):
            head.train()
            perm = torch.randperm(n)
            for i in range(0, n, 256):
                idx = perm[i:i + 256]
                logits = head(x["train"][idx], grams=[grams["train"][j] for j in idx.tolist()])
                loss = loss_fn(logits, y["train"][idx])
                opt.zero_grad()
                loss.backward()
                opt.step()
            head.eval()
            with torch.no_grad():
                pred = head(x["val"], grams=grams["val"]).argmax(-1).numpy()
            val = macro_f1(y["val"].numpy(), pred, classes)
            if best is None or val > best[0]:
                best = (val, {k: v.clone() for k, v in head.state_dict().items()}, f"{optimiser} lr={lr}", decay, epoch + 1)
        print(f"  {lang} {optimiser} lr={lr} wd={decay}: best val macro-F1 so far {best[0]:.4f}", flush=True)
    head = build_heads(dim)[lang]
    head.load_state_dict(best[1])
    head.eval()
    with torch.no_grad():
        pred = head(x["test"], grams=grams["test"]).argmax(-1).numpy()
    chosen = {"optimiser": best[2], "weight_decay": best[3], "epochs": best[4], "val_macro_f1": round(best[0], 4)}
    return head, scores(y["test"].numpy(), pred, classes), chosen


def vader_baseline(rows: list[data.Row]) -> dict:
    from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

    analyzer = SentimentIntensityAnalyzer()
    probs = []
    for r in rows:  # VADER's documented thresholds (compound >= 0.05 positive, <= -0.05 negative)
        c = analyzer.polarity_scores(r.text)["compound"]
        probs.append([1.0, 0, 0] if c <= -0.05 else [0, 0, 1.0] if c >= 0.05 else [0, 1.0, 0])
    return experiment.binary_scores(rows, np.array(probs), "en")


def snownlp_baseline(train_rows: list[data.Row], rows: list[data.Row]) -> dict:
    from snownlp import sentiment

    retrained = sentiment.Sentiment()
    retrained.train([r.text for r in train_rows if r.label == 0], [r.text for r in train_rows if r.label == 1])
    return experiment.scores([r.label for r in rows], [int(retrained.classify(r.text) >= 0.5) for r in rows], 2)


def encoder_names() -> dict[str, str]:
    """--encoder -> registry model: EmbeddingGemma, or the packaged MiniLM (the previous model's baseline)."""
    from products.sentiment.encoders import GEMMA, MODEL_NAMES

    return {"gemma": MODEL_NAMES[GEMMA], "base": ENCODER}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--encoder", choices=("gemma", "base"), default="gemma")
    parser.add_argument("--mode", choices=("holdout", "full"), default="full")
    parser.add_argument("--out", type=Path, default=ASSET_DIR)
    parser.add_argument("--skip-baselines", action="store_true")
    args = parser.parse_args()
    import torch

    from products.sentiment import encoders  # noqa: F401  (registers the sentiment encoders)

    torch.manual_seed(SEED)
    name = encoder_names()[args.encoder]
    metrics, heads, temperatures = {"encoder": args.encoder, "mode": args.mode}, {}, {}
    for lang in ("en", "zh"):
        parts = experiment.splits(lang, args.mode, experiment.GEMMA_POOLS if args.encoder == "gemma" else None)
        print(f"{lang}: " + ", ".join(f"{k} {len(v)}" for k, v in parts.items()), flush=True)
        start = time.time()
        # The whole pool at once (cached): both modes reuse the same vectors.
        pool = sorted({r.text for v in parts.values() for r in v})
        pooled = embed(pool, f"{args.encoder}-{lang}-pool", name)
        where = {text: i for i, text in enumerate(pool)}
        vectors = {k: pooled[[where[r.text] for r in v]] for k, v in parts.items() if v}
        seconds = time.time() - start
        tuples = {k: [(r.text, r.label) for r in v] for k, v in parts.items() if v}
        head, _, chosen = train_head(lang, {k: tuples[k] for k in ("train", "val", "test")}, vectors)
        heads[lang] = head
        with torch.no_grad():
            logits = {k: head(torch.from_numpy(vectors[k]), [t for t, _ in tuples[k]]).numpy() for k in tuples}
        metrics[lang] = {**experiment.report(lang, logits, parts), "chosen_on_validation": chosen,
                         "embed_seconds": round(seconds, 1)}
        temperatures[lang] = metrics[lang]["temperature"]
        if not args.skip_baselines:
            scored = {k: v for k, v in parts.items() if k in ("test", "ood") and v}
            metrics[lang]["baselines"] = ({k: {"vader": vader_baseline(v)} for k, v in scored.items()} if lang == "en"
                                          else {k: {"snownlp_retrained": snownlp_baseline(parts["train"], v)}
                                                for k, v in scored.items()})
        print(json.dumps(metrics[lang], indent=1), flush=True)
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / f"metrics-{args.encoder}-{args.mode}.json").write_text(json.dumps(metrics, indent=1) + "\n")
    if args.mode == "full" and args.encoder == "gemma":
        weights = args.out / "heads-gemma.safetensors"
        save_heads(heads, weights, {"labels": json.dumps(LABELS), "encoder": "gemma",
                                    "temperatures": json.dumps(temperatures), "seed": str(SEED)})
        print(f"wrote {weights}: size {weights.stat().st_size}, sha256 {artifacts.sha256_of(weights)}")


if __name__ == "__main__":
    main()
