"""Retraining sentiment with corrections: fine-tuned on the training split plus the corrections,
scored before and after on the fixed test split and held-out corrections, promoted as a new
version only when the test split is not worse; the previous version can be restored."""
import random

import numpy as np
import pytest

from products.sentiment import retrain, versions
from products.sentiment.heads import ChineseHead

GOOD, BAD = "好棒赞喜欢满意推荐", "差烂坏失望退货糟"


def texts(rng, chars, n, extra=""):
    return ["".join(rng.choice(chars) for _ in range(6)) + extra for _ in range(n)]


def data(seed=0):
    rng = random.Random(seed)
    rows = [(t, 1) for t in texts(rng, GOOD, 300)] + [(t, 0) for t in texts(rng, BAD, 300)]
    rng.shuffle(rows)
    splits = {"train": rows[:400], "val": rows[400:500], "test": rows[500:]}
    vectors = {k: np.zeros((len(v), 384), np.float32) for k, v in splits.items()}
    return splits, vectors


def trained_head(splits, vectors):
    head, _ = retrain.fine_tune(ChineseHead(), "zh", splits["train"], vectors["train"], [], vectors["train"][:0],
                                splits["val"], vectors["val"], epochs=3, lr=0.1)
    return head


def embed(texts_, lang="zh"):
    return np.zeros((len(texts_), 384), np.float32)


def test_corrections_of_a_weak_domain_are_learned_and_the_test_split_is_not_worse():
    splits, vectors = data()
    head = trained_head(splits, vectors)
    rng = random.Random(1)
    # a domain the model never saw: book praise in characters it does not know, corrected to positive
    book = [(t, 1) for t in texts(rng, BAD[:3], 40, "这本书")]  # moving praise in words the model reads as negative
    result = retrain.retrain({"zh": head}, {"zh": book}, {"zh": (splits, vectors)}, embed)
    (report,) = result["languages"]
    assert report["held_out"] == 8 and report["held_before"]["accuracy"] < report["held_after"]["accuracy"]
    assert report["test_after"]["accuracy"] >= report["test_before"]["accuracy"] and report["not_worse"]
    assert result["promote"]


def test_a_retrain_that_hurts_the_test_split_is_not_promoted(monkeypatch):
    splits, vectors = data()
    head = trained_head(splits, vectors)
    # whatever the corrections, a fine-tune that ends worse on the test split (an untrained head here)
    monkeypatch.setattr(retrain, "fine_tune", lambda *args, **kwargs: (ChineseHead(), 1))
    result = retrain.retrain({"zh": head}, {"zh": [(t, 1 - label) for t, label in splits["test"][:20]]},
                             {"zh": (splits, vectors)}, embed)
    (report,) = result["languages"]
    assert report["test_after"]["accuracy"] < report["test_before"]["accuracy"]
    assert not report["not_worse"] and not result["promote"]


def test_too_few_corrections_change_nothing():
    splits, vectors = data()
    result = retrain.retrain({"zh": ChineseHead()}, {"zh": [("好书", 1)]}, {"zh": (splits, vectors)}, embed)
    assert result["languages"] == [] and not result["promote"]


def test_versions_promote_and_restore(fresh_settings, tmp_path):
    from products.sentiment.heads import build_heads, load_heads

    fresh_settings.setenv("AIPM_CACHE_DIR", str(tmp_path))
    bundled = tmp_path / "bundled.safetensors"
    assert versions.current(bundled) == (bundled, "v0")
    name = versions.promote(build_heads(), {"note": "test"})
    path, current = versions.current(bundled)
    assert (name, current) == ("v1", "v1") and path.exists() and set(load_heads(path)) == {"en", "zh"}
    assert versions.previous() == "v0"
    versions.restore("v0")
    assert versions.current(bundled) == (bundled, "v0")
    versions.restore("v1")
    path.write_bytes(b"damaged")
    with pytest.raises(ValueError, match="damaged"):
        versions.current(bundled)
