"""The Insights tab's figures from recorded requests and feedback, filters, deleting a session's
data, and the admin-only export (CSV with formulas neutralised, Parquet)."""
import time
import uuid

import pandas as pd
import pytest

from shared import insights_tab, store
from shared.store.writer import Writer

SECRET = "insights secret"


class Request:
    def __init__(self, session_hash="me"):
        self.session_hash = session_hash
        self.headers = {"accept-language": "en"}


@pytest.fixture
def writer(tmp_path):
    new = Writer(f"sqlite:///{tmp_path / 'insights.db'}")
    old = store.use_writer(new)
    now = time.time()
    for i in range(20):
        new.submit("requests", {"id": f"r{i}", "ts": now - i * 60, "product": "sentiment", "action": "sentiment",
                                "model": "heads v0", "run_ms": float(10 + i), "queue_ms": 1.0,
                                "outcome": "server_error" if i == 0 else "ok", "session": "me" if i < 5 else "other"})
    for i in range(4):
        new.submit("requests", {"id": f"s{i}", "ts": now - 40 * 86400 if i == 3 else now, "product": "speech",
                                "action": "speech_transcribe", "model": "base", "run_ms": 1000.0 * (i + 1),
                                "outcome": "ok", "session": "other"})
    rows = [("sentiment", "correction", "negative", "positive", 0.0, None, None, "zh", None, None),
            ("sentiment", "correction", "positive", "positive", 1.0, None, None, "zh", None, None),
            ("speech", "correction", None, None, None, 0.25, 8, None, None, None),
            ("copy", "pick", None, "1", 1.0, None, None, None, "search_ad", "=HYPERLINK(\"x\")"),
            ("copy", "down", None, "2", 0.0, None, None, None, "tagline", None)]
    for product, kind, predicted, value, score, wer, words, language, template, text in rows:
        new.submit("feedback", {"id": uuid.uuid4().hex, "ts": now, "product": product, "kind": kind,
                                "predicted": predicted, "value": value, "score": score, "wer": wer, "words": words,
                                "language": language, "template": template, "text": text,
                                "model": {"sentiment": "heads v0", "speech": "base"}.get(product, "qwen-0.5b"),
                                "session": "me"})
    new.flush(30)
    yield new
    store.use_writer(old)


def test_latency_errors_and_feedback_per_product_and_model(writer):
    data = insights_tab.load("day")
    table = insights_tab.latency_table(data["requests"], data["feedback"]).set_index("product")
    sentiment = table.loc["sentiment"]
    assert sentiment["requests"] == 20 and sentiment["errors"] == pytest.approx(0.05)
    assert sentiment["p50 ms"] == pytest.approx(19.5) and sentiment["p95 ms"] == pytest.approx(28.05, abs=0.06)
    assert sentiment["ratings"] == 2 and sentiment["feedback rate"] == pytest.approx(0.1)
    assert sentiment["satisfaction"] == pytest.approx(0.5)
    assert table.loc["speech"]["requests"] == 3, "the 40-day-old request is outside the last day"


def test_filters_by_product_model_and_time(writer):
    assert len(insights_tab.load("all")["requests"]) == 24
    assert len(insights_tab.load("all", product="speech")["requests"]) == 4
    assert len(insights_tab.load("day", model="base")["requests"]) == 3
    over_time = insights_tab.requests_over_time(insights_tab.load("day")["requests"], "day")
    assert over_time["requests"].sum() == 23 and set(over_time["product"]) == {"sentiment", "speech"}


def test_sentiment_confusion_speech_wer_and_the_copy_ab_view(writer):
    feedback = insights_tab.load("day")["feedback"]
    confusion = insights_tab.confusion_table(feedback).set_index(["language", "model said"])
    assert confusion.loc[("zh", "negative"), "positive"] == 1 and confusion.loc[("zh", "positive"), "positive"] == 1
    wer = insights_tab.wer_table(feedback).set_index("model")
    assert wer.loc["base", "WER (word-weighted)"] == pytest.approx(0.25) and wer.loc["base", "words"] == 8
    ab = insights_tab.template_table(feedback[feedback["product"] == "copy"]).set_index("template")
    assert ab.loc["search_ad", "pick"] == 1 and ab.loc["search_ad", "satisfaction"] == 1.0
    assert ab.loc["tagline", "down"] == 1 and ab.loc["tagline", "satisfaction"] == 0.0


def test_the_summary_line_shows_the_stores_counts_in_both_languages(writer):
    data = insights_tab.load("day")
    line = insights_tab.summary_line(data["requests"], data["feedback"], "en")
    assert "**23** requests" in line and "**0** dropped" in line and "sqlite" in line
    assert "个请求" in insights_tab.summary_line(data["requests"], data["feedback"], "zh")


def test_deleting_this_sessions_data(writer):
    insights_tab.forget(request=Request("me"))
    writer.flush(30)
    data = insights_tab.load("all")
    assert len(data["requests"]) == 19 and data["feedback"].empty


def test_export_is_for_admins_and_neutralises_formulas(writer, fresh_settings, monkeypatch):
    import gradio as gr

    from shared import admin

    monkeypatch.setattr(admin, "_WRONG_DELAY_S", 0)
    fresh_settings.setenv("AIPM_ADMIN_PASSWORD", SECRET)
    with pytest.raises(gr.Error, match="missing or wrong"):
        insights_tab.export("csv", "guess")
    path = insights_tab.export("csv", SECRET)
    frame = pd.read_csv(path, encoding="utf-8-sig")
    assert len(frame) == 5 and frame["text"].dropna().tolist() == ["'=HYPERLINK(\"x\")"]
    parquet = pd.read_parquet(insights_tab.export("parquet", SECRET))
    assert len(parquet) == 5 and set(parquet["kind"]) == {"correction", "pick", "down"}
