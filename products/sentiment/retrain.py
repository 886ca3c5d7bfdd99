"""Retraining the embedded sentiment heads with users' corrections, guarded.

The head of each language with corrections is fine-tuned from its current weights on the original
training split plus the corrections (repeated, so a few dozen count against thousands), the epoch
chosen on the validation split and part of the corrections. It is then scored on the fixed held-out
test split and on held-out corrections, before and after. The new heads are promoted (a new version,
products/sentiment/versions.py) only if no language got worse on its test split.
"""
from __future__ import annotations

import copy
import random

import numpy as np

from products.sentiment.heads import LABELS, char_ngram_ids

SEED = 0
REPEAT = 20  # each correction counts this many times in a fine-tuning epoch
MIN_CORRECTIONS = 4
VAL_TOLERANCE = 0.005  # validation macro-F1 a fine-tune may give up for the corrections kept aside


def _tensors(rows, vectors):
    import torch

    return (torch.from_numpy(np.asarray(vectors, dtype=np.float32)), [char_ngram_ids(t) for t, _ in rows],
            torch.tensor([label for _, label in rows], dtype=torch.long))


def evaluate(head, rows, vectors) -> dict:
    import torch

    from products.sentiment.experiment import scores

    if not rows:
        return {"accuracy": None, "macro_f1": None, "n": 0}
    x, grams, y = _tensors(rows, vectors)
    head.eval()
    with torch.no_grad():
        logits = head(x, grams=grams)
    return scores(y.numpy(), logits.argmax(-1).numpy(), int(logits.shape[-1]))


def split_corrections(corrections: list, seed: int = SEED) -> tuple[list, list]:
    """(for training, held out): one in five held out, at least one each once there are enough."""
    rows = list(dict.fromkeys(corrections))
    random.Random(seed).shuffle(rows)
    held = max(1, len(rows) // 5) if len(rows) >= MIN_CORRECTIONS else 0
    return rows[held:], rows[:held]


def fine_tune(head, lang: str, train, train_vectors, extra, extra_vectors, val, val_vectors,
              epochs: int = 6, lr: float | None = None, seed: int = SEED, steer=(), steer_vectors=None):
    """A copy of `head` fine-tuned on train + extra (repeated), and the epoch kept (0: unchanged).

    Without `steer`, the epoch best on validation. With `steer` (corrections kept aside), the epoch
    best on them (ties: on validation) among those within VAL_TOLERANCE of the starting validation
    macro-F1, kept unless it is worse on them than the start. The current head's epoch was chosen
    on this same validation split, so it is hard to beat there: requiring that would keep nearly
    every retrain at epoch 0. The test split guard (retrain) decides promotion."""
    import torch

    torch.manual_seed(seed)
    tuned = copy.deepcopy(head)
    rows = list(train) + list(extra) * REPEAT
    vectors = np.concatenate([train_vectors] + [extra_vectors] * REPEAT) if len(extra) else train_vectors
    x, grams, y = _tensors(rows, vectors)
    optimiser = (torch.optim.Adagrad(tuned.parameters(), lr=lr or 0.02) if lang == "zh"
                 else torch.optim.AdamW(tuned.parameters(), lr=lr or 3e-4, weight_decay=1e-4))
    loss_fn = torch.nn.CrossEntropyLoss()

    def score():
        val_f1 = evaluate(tuned, val, val_vectors)["macro_f1"] or 0.0
        steered = evaluate(tuned, steer, steer_vectors)["accuracy"] if len(steer) else None
        return val_f1, steered

    start_f1, start_steer = score()
    start = (copy.deepcopy(tuned.state_dict()), 0)
    best = None  # (key, weights, epoch) of the best fine-tuned epoch
    for epoch in range(epochs):
        tuned.train()
        order = torch.randperm(len(y))
        for i in range(0, len(y), 256):
            idx = order[i:i + 256]
            loss = loss_fn(tuned(x[idx], grams=[grams[j] for j in idx.tolist()]), y[idx])
            optimiser.zero_grad()
            loss.backward()
            optimiser.step()
        val_f1, steered = score()
        if len(steer) and val_f1 < start_f1 - VAL_TOLERANCE:
            continue
        key = (steered, val_f1) if len(steer) else (val_f1,)
        if best is None or key > best[0]:
            best = (key, copy.deepcopy(tuned.state_dict()), epoch + 1)
    # The tuned head has learned the corrections; it stays unless the evidence is against it: worse
    # on the corrections kept aside (with them), or no better on validation (without them).
    keep_start = best is None or (best[0][0] < start_steer if len(steer) else best[0][0] <= start_f1)
    best = (None, *start) if keep_start else best
    tuned.load_state_dict(best[1])
    tuned.eval()
    return tuned, best[2]


def retrain_language(lang: str, head, splits: dict, vectors: dict, corrections: list, embed) -> dict:
    """Fine-tune one language's head; `embed(texts)` gives encoder vectors for the corrections.
    Returns the report with before/after figures and the tuned head under "head"."""
    train_c, held_c = split_corrections(corrections)
    steer = train_c[: len(train_c) // 4]  # kept aside to choose the epoch
    learn = train_c[len(steer):]
    dim = vectors["train"].shape[1]
    vec = lambda rows: embed([t for t, _ in rows]) if rows else np.zeros((0, dim), np.float32)  # noqa: E731
    v_learn, v_steer, v_held = vec(learn), vec(steer), vec(held_c)
    tuned, epoch = fine_tune(head, lang, splits["train"], vectors["train"], learn, v_learn,
                             splits["val"], vectors["val"], steer=steer, steer_vectors=v_steer)
    report = {"language": lang, "corrections": len(corrections), "trained_on": len(learn),
              "held_out": len(held_c), "epochs": epoch,
              "test_before": evaluate(head, splits["test"], vectors["test"]),
              "test_after": evaluate(tuned, splits["test"], vectors["test"]),
              "held_before": evaluate(head, held_c, v_held) if held_c else None,
              "held_after": evaluate(tuned, held_c, v_held) if held_c else None}
    report["not_worse"] = report["test_after"]["accuracy"] >= report["test_before"]["accuracy"]
    report["changed"] = epoch > 0
    return {**report, "head": tuned}


def retrain(heads: dict, corrections: dict, data: dict, embed) -> dict:
    """Every language with enough corrections; `data[lang]` = (splits, vectors); `embed(texts, lang)`
    gives the vectors of that language's encoder. Returns
    {"languages": [reports], "promote": bool, "heads": new heads (the others unchanged)}."""
    new_heads, reports = dict(heads), []
    for lang, rows in corrections.items():
        if lang not in LABELS or len(rows) < MIN_CORRECTIONS:
            continue
        splits, vectors = data[lang]
        report = retrain_language(lang, heads[lang], splits, vectors, rows, lambda texts, lang=lang: embed(texts, lang))
        new_heads[lang] = report.pop("head")
        reports.append(report)
    # Promoted only when no language is worse on its test split and some head changed at all.
    promote = bool(reports) and all(r["not_worse"] for r in reports) and any(r["changed"] for r in reports)
    return {"languages": reports, "promote": promote, "heads": new_heads}


def report_markdown(result: dict, version: str | None, lang_ui: str = "en") -> str:
    from shared.i18n import t

    if not result["languages"]:
        return t("sentiment.retrain.none", lang_ui, n=MIN_CORRECTIONS)
    rows = [t("sentiment.retrain.header", lang_ui), "|---|---|---|---|---|---|"]
    for r in result["languages"]:
        held = (f"{r['held_before']['accuracy']:.3f} → {r['held_after']['accuracy']:.3f} (n={r['held_out']})"
                if r["held_before"] else "–")
        rows.append(f"| {r['language']} | {r['corrections']} | {r['test_before']['accuracy']:.4f} → "
                    f"{r['test_after']['accuracy']:.4f} | {r['test_before']['macro_f1']:.4f} → "
                    f"{r['test_after']['macro_f1']:.4f} | {held} | {'✓' if r['not_worse'] else '✗'} |")
    verdict = (t("sentiment.retrain.promoted", lang_ui, version=version) if version
               else t("sentiment.retrain.kept", lang_ui) if not all(r["not_worse"] for r in result["languages"])
               else t("sentiment.retrain.unchanged", lang_ui))
    return "\n".join(rows) + "\n\n" + verdict
