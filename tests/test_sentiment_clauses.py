"""Clause-level sentiment: splitting, the "mixed" label, the highlighted view and the file flag."""
import pandas as pd
import pytest

from products.sentiment import clauses, core
from products.sentiment.core import Scored

POSITIVE = ("fantastic", "great", "love", "好", "干净", "满意")
NEGATIVE = ("scratches", "slow", "terrible", "差", "慢", "失望")


def keyword_score_texts(texts, language="auto", registry=None, batch_size=None, progress=None, lang_ui="en", fast=False):
    """A stand-in model: positive or negative by keywords, 0.9 sure; neutral otherwise."""
    out = []
    for text in texts:
        pos, neg = any(w in text.lower() for w in POSITIVE), any(w in text.lower() for w in NEGATIVE)
        label = "positive" if pos and not neg else "negative" if neg and not pos else "neutral"
        probs = {"negative": 0.05, "neutral": 0.05, "positive": 0.05}
        probs[label] = 0.9
        out.append(Scored(text, core.detect_language(text), label, probs))
    return out


@pytest.mark.parametrize("text, lang, expected", [
    ("The battery life is fantastic but the screen scratches way too easily.", "en",
     ["The battery life is fantastic", "but the screen scratches way too easily."]),
    ("Great food. However, the service was slow, although the staff were nice!", "en",
     ["Great food.", "However, the service was slow", "although the staff were nice!"]),
    ("Butter chicken was great, but.", "en", ["Butter chicken was great but."]),  # "But." alone is no clause
    ("Nothing to split here", "en", ["Nothing to split here"]),
    ("房间很干净，但是服务太差了。", "zh", ["房间很干净", "但是服务太差了。"]),
    ("味道不错，不过送餐太慢。下次不点了", "zh", ["味道不错", "不过送餐太慢。", "下次不点了"]),
    ("我但愿下次更好", "zh", ["我但愿下次更好"]),  # 但愿 (I hope) is not a contrast
])
def test_split_clauses(text, lang, expected):
    assert clauses.split_clauses(text, lang) == expected


def test_mixed_needs_confident_clauses_of_both_polarities():
    pos, neg, neu = (clauses.Clause("a", "positive", 0.9), clauses.Clause("b", "negative", 0.8),
                     clauses.Clause("c", "neutral", 0.9))
    assert clauses.overall("positive", [pos, neg]) == "mixed"
    assert clauses.overall("positive", [pos, neu]) == "positive"
    assert clauses.overall("negative", [pos, clauses.Clause("b", "negative", 0.55)]) == "negative"  # not sure enough
    assert clauses.highlighted([pos, neg]) == [("a", "positive"), (" ", None), ("b", "negative")]


def test_score_with_clauses_marks_mixed_texts_in_both_languages(monkeypatch):
    monkeypatch.setattr(core, "score_texts", keyword_score_texts)
    texts = ["The battery life is fantastic but the screen scratches way too easily.",
             "I love it, great value.", "菜的味道很好，但是送餐太慢了。", "物流很快，非常满意。"]
    results = core.score_with_clauses(texts)
    assert [r.overall for r in results] == ["mixed", "positive", "mixed", "positive"]
    assert [c.label for c in results[0].clauses] == ["positive", "negative"]
    assert [c.text for c in results[2].clauses] == ["菜的味道很好", "但是送餐太慢了。"]
    assert len(results[1].clauses) == 1 and results[3].clauses[0].label == "positive"


def test_file_results_have_a_mixed_flag_on_every_row(monkeypatch):
    monkeypatch.setattr(core, "score_texts", keyword_score_texts)
    frame = pd.DataFrame({"text": ["Great screen but terrible battery.", "", "Great!", "房间很干净，但是服务太差了。"]})
    scored = core.score_table(frame, "text")
    assert len(scored) == 4 and scored["mixed"].tolist() == [True, "", False, True]
    assert list(scored.columns[:4]) == ["text", "language", "label", "mixed"]


def test_the_tab_shows_clauses_and_the_overall_label(monkeypatch):
    from products.sentiment import tab

    monkeypatch.setattr(core, "score_texts", keyword_score_texts)
    probs, spans, notes = tab.analyse(["The screen is great but the battery is terrible.", "  "], ["auto", "auto"])
    assert spans[0] == [("The screen is great", "positive"), (" ", None), ("but the battery is terrible.", "negative")]
    assert "Overall: mixed" in notes[0] and probs[1] is None and "⚠️" in notes[1]
