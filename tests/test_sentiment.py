"""Sentiment: core functions on tiny random models (fast), and the real embedded model (integration)."""
import math
from dataclasses import dataclass

import numpy as np
import pandas as pd
import pytest

from shared.encoder import load_encoder
from shared.registry import ModelRegistry, ModelSpec
from shared.sources import LocalPath, Resolved
from shared.ui import UserError
from tests import tiny_models

from products.sentiment import core, files
from products.sentiment.encoders import MODEL_NAMES
from products.sentiment.models import SENTIMENT, SENTIMENT_SPEC, load_sentiment


@dataclass(frozen=True)
class FileSource:
    path: str
    kind = "embedded"

    def describe(self):
        return "test heads"

    def resolve(self):
        return Resolved("embedded", self.path, "test heads")


@pytest.fixture(scope="module")
def tiny_dir(tmp_path_factory):
    root = tmp_path_factory.mktemp("tiny")
    tiny_models.tiny_encoder(root / "encoder")
    tiny_models.tiny_classifier(root / "classifier")
    tiny_models.random_heads(root / "heads.safetensors")
    return root


@pytest.fixture
def embedded_registry(tiny_dir, fresh_settings):
    """The embedded path (heads over the encoder), on a tiny random encoder and random heads."""
    fresh_settings.setenv("AIPM_ENCODER_PATH", str(tiny_dir / "encoder"))
    registry = ModelRegistry(budget_bytes=10**9, keep_alive_s=0)
    registry.register(ModelSpec(MODEL_NAMES["minilm"], load_encoder, (LocalPath("AIPM_ENCODER_PATH"),),
                                dtype_policy="float32"))
    registry.register(ModelSpec(SENTIMENT, load_sentiment, (FileSource(str(tiny_dir / "heads.safetensors")),),
                                dtype_policy="float32"))
    return registry


@pytest.fixture
def classifier_registry(tiny_dir, fresh_settings):
    """A configured local transformers classifier, through the real spec's source chain."""
    fresh_settings.setenv("AIPM_SENTIMENT_PATH", str(tiny_dir / "classifier"))
    fresh_settings.setenv("AIPM_DTYPE", "float32")
    registry = ModelRegistry(budget_bytes=10**9, keep_alive_s=0)
    registry.register(SENTIMENT_SPEC)
    return registry


def test_detect_language():
    assert core.detect_language("I love this phone") == "en"
    assert core.detect_language("这本书写得太好了") == "zh"
    assert core.detect_language("iPhone 的电池很好") == "zh"
    assert core.detect_language("Great phone, 好") == "en"


def test_windows_cover_the_text_with_overlap():
    assert core.windows(list(range(10)), 16) == [(0, 10)]
    assert core.windows(list(range(100)), 40, overlap=10) == [(0, 40), (30, 70), (60, 100)]


def test_scores_on_embedded_heads(embedded_registry):
    results = core.score_texts(["I love this phone", "这本书很好"], registry=embedded_registry)
    en, zh = results
    assert en.language == "en" and set(en.probabilities) == {"negative", "neutral", "positive"}
    assert zh.language == "zh" and set(zh.probabilities) == {"negative", "positive"}
    for r in results:
        assert math.isclose(sum(r.probabilities.values()), 1.0, rel_tol=1e-5)
        assert r.label == max(r.probabilities, key=r.probabilities.get)
        assert r.windows == 1 and r.notes == []


def test_language_override(embedded_registry):
    (result,) = core.score_texts(["I love this phone"], language="zh", registry=embedded_registry)
    assert result.language == "zh" and set(result.probabilities) == {"negative", "positive"}


def test_long_text_is_windowed_and_says_so(embedded_registry):
    text = " ".join(["the phone was great but the box was broken"] * 10)  # ~90 tokens, limit 16
    (result,) = core.score_texts([text], registry=embedded_registry)
    assert result.windows > 3
    assert "windows" in result.notes[0]
    assert math.isclose(sum(result.probabilities.values()), 1.0, rel_tol=1e-5)


def test_batching_does_not_change_scores(embedded_registry):
    texts = ["I love it", "the box was broken", "good phone", "很好", "质量差"]
    one = core.score_texts(texts, registry=embedded_registry, batch_size=1)
    many = core.score_texts(texts, registry=embedded_registry, batch_size=5)
    for a, b in zip(one, many):
        assert a.label == b.label
        for k in a.probabilities:
            assert a.probabilities[k] == pytest.approx(b.probabilities[k], abs=1e-5)


def test_configured_classifier_through_source_chain(classifier_registry):
    results = core.score_texts(["I love this phone", "很好"], registry=classifier_registry)
    assert all(set(r.probabilities) == {"negative", "neutral", "positive"} for r in results)
    status = classifier_registry.status_of(SENTIMENT)
    assert status["source"].startswith("local:")


def test_empty_and_huge_texts_are_refused():
    with pytest.raises(UserError, match="enter a text"):
        core.check_text("   ")
    with pytest.raises(UserError, match="limit"):
        core.check_text("a" * (core.MAX_TEXT_CHARS + 1))
    with pytest.raises(UserError, match="Unsupported language"):
        core.score_texts(["hi"], language="fr")
    assert "输入" in str(pytest.raises(UserError, core.check_text, "", "zh").value)


# ---- files ------------------------------------------------------------------------------------
def test_read_csv_tsv_xlsx_and_encodings(tmp_path):
    frame = pd.DataFrame({"id": ["1", "2"], "review": ["I love it", "质量很差"]})
    frame.to_csv(tmp_path / "a.csv", index=False)
    frame.to_csv(tmp_path / "b.tsv", index=False, sep="\t")
    frame.to_excel(tmp_path / "c.xlsx", index=False)
    (tmp_path / "d.csv").write_bytes(frame.to_csv(index=False).encode("gb18030"))
    for name in ("a.csv", "b.tsv", "c.xlsx", "d.csv"):
        read = files.read_table(tmp_path / name)
        assert list(read.columns) == ["id", "review"], name
        assert read["review"].tolist() == ["I love it", "质量很差"], name
    assert files.guess_text_column(frame) == "review"
    assert files.guess_text_column(pd.DataFrame({"n": ["1"], "words": ["a long sentence here"]})) == "words"


def test_bad_files_get_clear_messages(tmp_path):
    (tmp_path / "x.pdf").write_bytes(b"%PDF-1.4")
    with pytest.raises(UserError, match="not supported"):
        files.read_table(tmp_path / "x.pdf")
    (tmp_path / "bad.xlsx").write_bytes(b"not a zip at all")
    with pytest.raises(UserError, match="could not be read"):
        files.read_table(tmp_path / "bad.xlsx")
    (tmp_path / "bin.csv").write_bytes(bytes([0x81, 0xFF, 0x80, 0x8D, 0x00, 0x90]) * 50)
    with pytest.raises(UserError, match="encoding"):
        files.read_table(tmp_path / "bin.csv")
    (tmp_path / "empty.csv").write_text("text\n")
    with pytest.raises(UserError, match="no rows"):
        files.read_table(tmp_path / "empty.csv")


def test_score_table(embedded_registry):
    frame = pd.DataFrame({"text": ["I love it", "", "这本书很好", "the box was broken"], "n": list("1234")})
    scored = core.score_table(frame, "text", registry=embedded_registry)
    assert len(scored) == 4 and list(scored["n"]) == list("1234")
    assert scored.loc[1, "label"] == "(empty)"
    assert scored.loc[2, "language"] == "zh" and np.isnan(scored.loc[2, "p_neutral"])
    row = scored.loc[0]
    assert row["p_negative"] + row["p_neutral"] + row["p_positive"] == pytest.approx(1.0, abs=1e-3)
    dist = core.label_distribution(scored)
    assert dist["count"].sum() == 4


def test_score_table_errors(embedded_registry, fresh_settings):
    frame = pd.DataFrame({"text": ["a", "b", "c"]})
    with pytest.raises(UserError, match="no column 'body'"):
        core.score_table(frame, "body", registry=embedded_registry)
    with pytest.raises(UserError, match="no text"):
        core.score_table(pd.DataFrame({"text": ["", " "]}), "text", registry=embedded_registry)
    fresh_settings.setenv("AIPM_SENTIMENT_MAX_ROWS", "2")
    with pytest.raises(UserError, match="limit is 2"):
        core.score_table(frame, "text", registry=embedded_registry)


def test_ten_thousand_rows_with_progress(embedded_registry):
    frame = pd.DataFrame({"text": [f"the phone was {w}" for w in ("good", "bad", "great", "broken")] * 2500})
    seen = []
    scored = core.score_table(frame, "text", registry=embedded_registry, progress=lambda f, d: seen.append((f, d)))
    assert len(scored) == 10_000 and (scored["label"] != "").all()
    assert ("loading model sentiment...") in [d for _, d in seen], "the first-use load is reported"
    scoring = [f for f, d in seen if d.startswith("Scoring")]
    assert len(scoring) > 100 and scoring[-1] == pytest.approx(1.0) and scoring == sorted(scoring)


# ---- training discipline ----------------------------------------------------------------------
def test_split_has_no_shared_texts_and_metrics_are_right():
    from products.sentiment.experiment import macro_f1
    from products.sentiment.tools.train import _dedupe_split

    rows = [(f"text {i % 50}", i % 3) for i in range(300)] + [("Text  1", 1)]
    splits = _dedupe_split(rows)
    texts = {k: {t.lower() for t, _ in v} for k, v in splits.items()}
    assert sum(len(v) for v in splits.values()) == 50
    assert not (texts["train"] & texts["test"]) and not (texts["val"] & texts["test"])
    y_true = np.array([0, 0, 1, 1, 2, 2])
    y_pred = np.array([0, 1, 1, 1, 2, 0])
    # class 0: tp1 fp1 fn1 -> 0.5; class 1: tp2 fp1 fn0 -> 0.8; class 2: tp1 fp0 fn1 -> 2/3
    assert macro_f1(y_true, y_pred, 3) == pytest.approx((0.5 + 0.8 + 2 / 3) / 3)


def test_shipped_sentiment_files_match_their_pinned_checksums():
    from shared.sources import Bundled

    from products.sentiment import encoders, models

    source = next(s for s in SENTIMENT_SPEC.sources if isinstance(s, Bundled))
    assert source.resolve().path.name == "heads-minilm.safetensors"
    assert encoders.minilm_sources()[0].resolve().path.name == "minilm-ft.safetensors"
    heads, temperatures = models.bundled_heads({"en": "gemma", "zh": "gemma"})
    assert set(heads) == {"en", "zh"} and all(0.05 < t < 20 for t in temperatures.values())


# ---- the real embedded model ------------------------------------------------------------------
@pytest.fixture(params=["minilm", "gemma"])
def encoder(request, fresh_settings):
    """The real sentiment model over each encoder in turn (unloaded before and after, so it follows the setting)."""
    from shared.models import registry

    fresh_settings.setenv("AIPM_SENTIMENT_ENCODER", request.param)
    registry.unload("sentiment")
    yield request.param
    registry.unload("sentiment")


@pytest.mark.integration
def test_real_model_gets_known_sentences_right(encoder):
    cases = {
        "I absolutely love this phone, the battery is amazing!": "positive",
        "Best customer service I have ever had, thank you so much.": "positive",
        "This is the worst purchase I have ever made. Total garbage.": "negative",
        "The delivery was late and the box arrived broken. Never again.": "negative",
        "这家餐厅的菜很好吃，服务也很周到，推荐！": "positive",
        "物流很快，质量很好，非常满意。": "positive",
        "质量很差，用了两天就坏了，非常失望。": "negative",
        "客服态度恶劣，再也不会买了。": "negative",
    }
    results = core.score_texts(list(cases))
    for (text, expected), result in zip(cases.items(), results):
        assert result.label == expected, (encoder, text, result.probabilities)
    assert [r.language for r in results] == ["en"] * 4 + ["zh"] * 4


@pytest.mark.integration
def test_mixed_reviews_in_both_languages_are_mixed(encoder):
    """Crafted mixed reviews come back "mixed" with each clause's label; plain ones keep theirs."""
    cases = {
        "The battery life is fantastic but the screen scratches way too easily.": "mixed",
        "The food was delicious, however the waiter was rude and we waited an hour.": "mixed",
        "I love this phone, the camera is superb.": "positive",
        "房间很干净，早餐也不错，但是隔音太差了，一晚上没睡好。": "mixed",
        "菜的味道很好，不过送餐太慢了，到的时候都凉了。": "mixed",
        "质量很差，用了两天就坏了，非常失望。": "negative",
    }
    results = core.score_with_clauses(list(cases))
    seen = {text: (r.overall, [(c.text, c.label, round(c.confidence, 2)) for c in r.clauses])
            for text, r in zip(cases, results)}
    misses = [text for text, expected in cases.items() if seen[text][0] != expected]
    # The default (EmbeddingGemma) gets every case; the fast MiniLM is allowed one mixed case it calls
    # by its stronger clause (measured: 菜的味道很好 at 0.56 positive, under the 0.6 a clause needs).
    allowed = 0 if encoder == "gemma" else 1
    assert len(misses) <= allowed and all(cases[m] == "mixed" for m in misses), (encoder, seen)
    assert [c.label for c in results[0].clauses] == ["positive", "negative"]
