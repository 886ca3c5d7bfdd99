"""The sentiment admin actions: retrain with the stored corrections (guarded, versioned) and restore
the previous heads; admins only; the figures before/after; corrections read back from the store."""
import random
import time

import pytest

from products.sentiment import improve, retrain, versions
from products.sentiment.heads import build_heads
from shared import store
from shared.store.writer import Writer
from gradio import Error as UserError  # user_errors turns UserError into gr.Error
from tests.test_feedback_retrain import BAD, data, embed, texts, trained_head

SECRET = "s3cret-admin"


@pytest.fixture
def writer(tmp_path):
    new = Writer(f"sqlite:///{tmp_path / 'improve.db'}")
    old = store.use_writer(new)
    yield new
    store.use_writer(old)


@pytest.fixture
def admin_cache(fresh_settings, tmp_path):
    fresh_settings.setenv("AIPM_CACHE_DIR", str(tmp_path / "cache"))
    fresh_settings.setenv("AIPM_ADMIN_PASSWORD", SECRET)
    return fresh_settings


def rating(text, value, language="zh", kind="correction", ts=None):
    return {"id": f"{random.getrandbits(64):x}", "ts": ts or time.time(), "product": "sentiment", "kind": kind,
            "value": value, "language": language, "text": text}


def test_corrections_are_read_back_per_language_latest_label_wins(writer):
    for row in (rating("这本书太好了", "negative", ts=time.time() - 2), rating("这本书太好了", "positive", ts=time.time() - 1),
                rating("Great phone", "positive", "en", kind="confirm"), rating(None, "positive"),
                rating("无效标签", "neutral"), rating("unknown language", "positive", "fr")):
        store.submit("feedback", row)
    assert improve.corrections_from_store() == {"zh": [("这本书太好了", 1)], "en": [("Great phone", 2)]}


def synthetic(monkeypatch, corrections):
    """The action's data, heads and encoder replaced by the small synthetic set of test_feedback_retrain."""
    splits, vectors = data()
    heads = build_heads()
    heads["zh"] = trained_head(splits, vectors)
    monkeypatch.setattr(improve, "corrections_from_store", lambda: corrections)
    monkeypatch.setattr(improve, "load_data", lambda lang: (splits, vectors))
    monkeypatch.setattr(improve, "encode", embed)
    monkeypatch.setattr(improve, "current_heads", lambda: (heads, versions.current_name()))
    switched = []
    monkeypatch.setattr(improve, "switch_model", lambda: switched.append(1) or True)
    return switched


def test_retrain_promotes_a_version_shows_figures_and_restore_goes_back(admin_cache):
    rng = random.Random(1)
    book = [(t, 1) for t in texts(rng, BAD[:3], 40, "这本书")]
    switched = synthetic(admin_cache, {"zh": book})
    report, figure, line = improve.retrain_action(SECRET)
    assert "v1" in report and "✓" in report and "v1" in line and switched == [1]
    assert versions.current_name() == "v1" and versions.previous() == "v0"
    bars = dict(zip(figure["bar"], figure["accuracy"]))
    assert set(bars) == {"zh test: before", "zh test: after", "zh held-out corrections: before",
                         "zh held-out corrections: after"}
    assert bars["zh held-out corrections: after"] > bars["zh held-out corrections: before"]
    assert bars["zh test: after"] >= bars["zh test: before"]
    stored = versions.history()[-1]["report"]["languages"][0]
    assert stored["held_out"] == 8 and stored["not_worse"]
    message, line = improve.restore_action(SECRET)
    assert "v0" in message and versions.current_name() == "v0" and switched == [1, 1]
    with pytest.raises(UserError, match="no earlier version"):
        improve.restore_action(SECRET)


def test_a_worse_retrain_keeps_the_current_heads(admin_cache):
    splits, _ = data()
    synthetic(admin_cache, {"zh": [(t, 1 - label) for t, label in splits["test"][:20]]})
    admin_cache.setattr(retrain, "fine_tune", lambda *args, **kwargs: (build_heads()["zh"], 1))
    report, figure, _ = improve.retrain_action(SECRET)
    assert "✗" in report and "Not promoted" in report and versions.current_name() == "v0"


def test_too_few_corrections_say_how_to_collect_them(admin_cache):
    synthetic(admin_cache, {"zh": [("好书", 1)]})
    report, figure, _ = improve.retrain_action(SECRET)
    assert "AIPM_STORE_CONTENT=1" in report and figure.empty and versions.current_name() == "v0"


def test_only_admins_retrain_or_restore(fresh_settings, tmp_path):
    fresh_settings.setenv("AIPM_CACHE_DIR", str(tmp_path))
    fresh_settings.delenv("AIPM_ADMIN_PASSWORD", raising=False)
    for action in (improve.retrain_action, improve.restore_action):
        with pytest.raises(UserError, match="turned off"):
            action(SECRET)
    fresh_settings.setenv("AIPM_ADMIN_PASSWORD", SECRET)
    with pytest.raises(UserError, match="missing or wrong"):
        improve.retrain_action("guess")
    assert versions.current_name() == "v0"


@pytest.mark.integration
def test_retrain_with_the_real_encoder_and_heads_on_a_small_set(admin_cache, writer):
    """The whole action on the bundled heads and the real encoder, a few hundred short reviews."""
    from products.sentiment.tools.train import chinese_rows
    from shared.models import registry

    admin_cache.setenv("AIPM_STORE_CONTENT", "1")
    rows = [r for r in chinese_rows() if len(r[0]) <= 40]
    random.Random(0).shuffle(rows)
    splits = {"train": rows[:200], "val": rows[200:260], "test": rows[260:320]}
    vectors = {k: improve.encode([t for t, _ in v]) for k, v in splits.items()}
    admin_cache.setattr(improve, "load_data", lambda lang: (splits, vectors))
    for text, label in rows[320:332]:
        store.submit("feedback", rating(text, ("negative", "positive")[label]))
    report, figure, line = improve.retrain_action(SECRET)
    promoted = versions.current_name() == "v1"
    assert ("v1" in report) == promoted and len(figure) == 4 and set(figure["stage"]) == {"before", "after"}
    if promoted:  # the guard held: the test split is not worse, and the model now loads v1
        assert versions.history()[-1]["report"]["languages"][0]["not_worse"]
        with registry.use("sentiment") as model:
            assert model.name == "heads v1"
    improve.switch_model()  # the next test loads the heads of its own cache again


def test_a_fine_tune_that_changes_nothing_is_not_promoted(admin_cache):
    rng = random.Random(1)
    synthetic(admin_cache, {"zh": [(t, 1) for t in texts(rng, BAD[:3], 40, "这本书")]})
    admin_cache.setattr(retrain, "fine_tune", lambda head, *args, **kwargs: (head, 0))
    report, _, _ = improve.retrain_action(SECRET)
    assert "unchanged" in report and versions.current_name() == "v0"


class FakeEncoder:
    dim = 4

    def __init__(self):
        self.calls = 0

    def encode(self, texts, batch_size=64):
        import numpy as np

        self.calls += 1
        return np.array([[len(t), 1, 2, 3] for t in texts], np.float32)


class FakeRegistry:
    def __init__(self, source):
        self.encoder, self.source = FakeEncoder(), source

    def use(self, name):
        import contextlib

        return contextlib.nullcontext(self.encoder)

    def status_of(self, name):
        return {"source": self.source, "dtype": "float32"}


def test_training_vectors_are_cached_by_encoder_and_texts(fresh_settings, tmp_path):
    import shared.models
    from products.sentiment import vector_cache

    fresh_settings.setenv("AIPM_CACHE_DIR", str(tmp_path))
    fake = FakeRegistry("embedded: all-MiniLM-L6-v2")
    fresh_settings.setattr(shared.models, "registry", fake)
    first = vector_cache.embed(["好", "很好"], "zh-test")
    assert fake.encoder.calls == 1 and first[:, 0].tolist() == [1, 2]
    assert (vector_cache.embed(["好", "很好"], "zh-test") == first).all() and fake.encoder.calls == 1  # from the cache
    vector_cache.embed(["好", "不好"], "zh-test")
    assert fake.encoder.calls == 2  # other texts
    fake.source = "local: /models/another-encoder"
    vector_cache.embed(["好", "很好"], "zh-test")
    assert fake.encoder.calls == 3  # another encoder never reuses the vectors
    (tmp_path / "train-cache").mkdir(exist_ok=True)
    for path in (tmp_path / "train-cache").iterdir():
        path.write_bytes(b"damaged")
    assert (vector_cache.embed(["好", "很好"], "zh-test") == first).all() and fake.encoder.calls == 4  # rebuilt
