"""One protocol for every sentiment model trained here: the same pools, splits, scores and calibration.

Pools: a seeded sample per domain (products/sentiment/data.py), small enough that the 300M encoder
can embed them on a 2-core CPU, the same for every encoder so their figures compare.
Splits, per language:
  - "holdout" (the generalisation figures): one whole domain is held out (English: the movie
    snippets; Chinese: the hotel reviews). The other domains are split 80/10/10 into train / val /
    test ("in domain"); every pooled row of the held-out domain is "ood" (out of domain).
  - "full" (the shipped model): every domain split 80/10/10; "ood" is empty.
Choices (epochs, optimiser, temperature) are made on val only; test and ood are scored once.
"""
from __future__ import annotations

import numpy as np

from products.sentiment import data

POOLS = {  # domain -> rows sampled (0: all)
    "en": {"tweets": 5000, "movie": 4000, "amazon": 0, "nyt": 2500},
    "zh": {"hotel": 3000, "book": 0, "laptop": 0, "other": 2000},
}
# EmbeddingGemma embeds 7-15 texts a second here (float32: this CPU has no fast bfloat16), so its
# pools are smaller; each domain's sample is a prefix of the larger one (same seeded shuffle).
GEMMA_POOLS = {
    "en": {"tweets": 2000, "movie": 2000, "amazon": 1500, "nyt": 1500},
    "zh": {"hotel": 1500, "book": 1200, "laptop": 1200},
}
HOLDOUT = {"en": "movie", "zh": "hotel"}
CLASSES = {"en": 3, "zh": 2}


def pool(lang: str, pools: dict | None = None) -> list[data.Row]:
    rows = data.dedupe(data.rows_for(lang))
    out = []
    for domain, n in (pools or POOLS)[lang].items():
        out += data.sample([r for r in rows if r.domain == domain], n)
    return out


def splits(lang: str, mode: str, pools: dict | None = None) -> dict[str, list[data.Row]]:
    pools = pools or POOLS
    rows = pool(lang, pools)
    held = HOLDOUT[lang] if mode == "holdout" else None
    out = {"train": [], "val": [], "test": [], "ood": [r for r in rows if r.domain == held]}
    for domain in pools[lang]:
        if domain != held:
            for name, part in data.split([r for r in rows if r.domain == domain]).items():
                out[name] += part
    return out


# ---- scores ----------------------------------------------------------------------------------------
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
    if not len(y_true):
        return {"accuracy": None, "macro_f1": None, "n": 0}
    return {"accuracy": round(float(np.mean(y_true == y_pred)), 4),
            "macro_f1": round(macro_f1(y_true, y_pred, classes), 4), "n": int(len(y_true))}


def binary_scores(rows: list[data.Row], probs: np.ndarray, lang: str) -> dict:
    """Negative vs positive: English neutral rows dropped, the decision p(positive) > p(negative)."""
    if lang == "zh":
        return scores([r.label for r in rows], probs.argmax(-1), 2)
    keep = np.array([r.label != 1 for r in rows], dtype=bool)
    truth = np.array([r.label for r in rows])[keep] // 2
    return scores(truth, (probs[keep, 2] > probs[keep, 0]).astype(int), 2)


def ece(probs: np.ndarray, labels, bins: int = 15) -> float:
    """Expected calibration error: |accuracy - confidence| per confidence bin, weighted by the bin's share."""
    labels = np.asarray(labels)
    if not len(labels):
        return float("nan")
    confidence, predicted = probs.max(-1), probs.argmax(-1)
    edges = np.linspace(0, 1, bins + 1)
    total = 0.0
    for lo, hi in zip(edges[:-1], edges[1:]):
        inside = (confidence > lo) & (confidence <= hi)
        if inside.any():
            total += inside.mean() * abs(np.mean(predicted[inside] == labels[inside]) - confidence[inside].mean())
    return round(float(total), 4)


def softmax(logits: np.ndarray, temperature: float = 1.0) -> np.ndarray:
    z = logits / temperature
    z = z - z.max(-1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(-1, keepdims=True)


def fit_temperature(logits: np.ndarray, labels) -> float:
    """The temperature that minimises negative log-likelihood on validation (a 1-d search over log T)."""
    labels = np.asarray(labels)

    def nll(t):
        p = softmax(logits, t)[np.arange(len(labels)), labels]
        return -np.mean(np.log(np.clip(p, 1e-12, None)))

    grid = np.exp(np.linspace(np.log(0.05), np.log(20), 400))
    best = grid[int(np.argmin([nll(t) for t in grid]))]
    fine = best * np.exp(np.linspace(-0.02, 0.02, 41))
    return round(float(fine[int(np.argmin([nll(t) for t in fine]))]), 4)


def report(lang: str, logits: dict[str, np.ndarray], parts: dict[str, list[data.Row]]) -> dict:
    """Scores of every split, before and after temperature scaling (fitted on val)."""
    temperature = fit_temperature(logits["val"], [r.label for r in parts["val"]])
    out = {"temperature": temperature, "sizes": {k: len(v) for k, v in parts.items()}}
    for name in ("val", "test", "ood"):
        rows = parts.get(name) or []
        if not rows:
            continue
        raw, calibrated = softmax(logits[name]), softmax(logits[name], temperature)
        labels = [r.label for r in rows]
        out[name] = {"classes": scores(labels, raw.argmax(-1), CLASSES[lang]),
                     "binary": binary_scores(rows, raw, lang),
                     "ece_before": ece(raw, labels), "ece_after": ece(calibrated, labels)}
        if name == "test":
            out["test_by_domain"] = {d: binary_scores([r for r in rows if r.domain == d],
                                                      raw[[r.domain == d for r in rows]], lang)
                                     for d in sorted({r.domain for r in rows})}
    return out
