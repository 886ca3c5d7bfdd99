"""Feedback: one shared component and /feedback, referring to the request it rates; sentiment
corrections, speech word error rate, image and copy items, recommendations that change at once."""
import pytest
from sqlalchemy import select

from shared import capture, feedback, store
from shared.store.schema import feedback as feedback_table
from shared.store.writer import Writer
from shared.ui import UserError
from tests.conftest import free_port


@pytest.fixture
def writer(tmp_path):
    new = Writer(f"sqlite:///{tmp_path / 'feedback.db'}")
    old = store.use_writer(new)
    yield new
    store.use_writer(old)


def stored():
    store.writer().flush(30)
    frame = store.read(select(feedback_table))
    return frame.astype(object).where(frame.notna(), None).to_dict("records")


class Request:
    def __init__(self, session_hash="s1", lang="en"):
        self.session_hash = session_hash
        self.headers = {"accept-language": "zh-CN" if lang == "zh" else "en"}


class Fn:
    def __init__(self, api_name):
        self.api_name, self.api_visibility = api_name, "public"


def served(action, memo, request, **fields):
    (record,) = capture.begin(Fn(action), [request], ["en"], None)
    record.memo.update(memo)
    record.fields.update(fields)
    capture.finish([record])
    return record


def test_word_error_rate_counts_words_and_chinese_characters():
    assert feedback.word_error_rate("the cat sat", "the cat sat") == (0.0, 3)
    assert feedback.word_error_rate("the cat sat on the mat", "the cat sat on mat") == (pytest.approx(1 / 6), 6)
    assert feedback.word_error_rate("Hello, world!", "hello world") == (0.0, 2)
    assert feedback.word_error_rate("今天天气很好", "今天天气不好") == (pytest.approx(1 / 6), 6)


def test_a_sentiment_correction_refers_to_the_latest_result_and_keeps_no_text(writer, fresh_settings):
    fresh_settings.setenv("AIPM_STORE_CONTENT", "0")
    request = Request()
    rated = served("sentiment", {"label": "negative", "labels": ["negative", "positive"], "language": "zh",
                                 "text": "这本书写得太好了"}, request, model="heads v0")
    feedback.record("sentiment", "correction", value="positive", request=request)
    (row,) = stored()
    assert row["request_id"] == rated.id and row["model"] == "heads v0"
    assert row["predicted"] == "negative" and row["value"] == "positive" and row["score"] == 0.0
    assert row["language"] == "zh" and row["text"] is None
    assert row["session"] != "s1", "stored as a keyed hash"
    with pytest.raises(UserError, match="not a label"):
        feedback.record("sentiment", "correction", value="neutral", request=request)  # Chinese has two


def test_with_content_on_the_rated_text_is_kept_for_training(writer, fresh_settings):
    fresh_settings.setenv("AIPM_STORE_CONTENT", "1")
    request = Request("s2")
    served("sentiment", {"label": "negative", "labels": ["negative", "positive"], "text": "好书"}, request)
    feedback.record("sentiment", "confirm", request=request)
    (row,) = stored()
    assert row["text"] == "好书" and row["value"] == "negative" and row["score"] == 1.0


def test_speech_corrections_are_scored_as_word_error_rate(writer):
    request = Request("s3")
    served("speech_transcribe", {"transcript": "the quick brown fox jumped"}, request, model="base",
           engine="faster-whisper")
    message = feedback.send("speech", "correction", text="the quick brown fox jumps", request=request)
    assert "20.0%" in message and "5 words" in message
    (row,) = stored()
    assert row["wer"] == pytest.approx(0.2) and row["words"] == 5 and row["model"] == "base"


def test_image_and_copy_items_are_checked_against_the_result(writer):
    request = Request("s4")
    served("image_generate", {"count": 2}, request, model="emoji-diffusion")
    feedback.record("image", "favourite", item="2", request=request)
    with pytest.raises(UserError, match="no 3"):
        feedback.record("image", "down", item="3", request=request)
    served("copy_generate", {"count": 3, "variants": ["Fresh coffee, fast.", "b", "c"]}, request,
           template="search_ad", model="qwen-0.5b")
    feedback.record("copy", "pick", item="1", request=request)
    feedback.record("copy", "edit", item="1", text="Fresh coffee, really fast.", request=request)
    rows = {r["kind"]: r for r in stored()}
    assert rows["favourite"]["score"] == 1.0 and rows["favourite"]["item"] == "2"
    assert rows["pick"]["template"] == "search_ad" and rows["pick"]["model"] == "qwen-0.5b"
    assert rows["edit"]["wer"] == pytest.approx(1 / 4)


def test_nothing_to_rate_and_wrong_kinds_are_clear_messages(writer):
    with pytest.raises(UserError, match="run Sentiment first"):
        feedback.record("sentiment", "correction", value="positive", request=Request("nobody"))
    with pytest.raises(UserError, match="not a kind of feedback"):
        feedback.record("image", "liked", item="1", request=Request("s4"))
    with pytest.raises(UserError, match="还没有可评价的结果"):
        feedback.record("speech", "correction", text="x", request=Request("nobody", "zh"))


def test_recommendation_feedback_is_remembered_per_session_latest_opinion_wins(writer):
    request = Request("s5")
    served("recommend_cold_start", {"items": ["50", "181"]}, request)
    feedback.record("recommend", "not_interested", item="50", request=request)
    feedback.record("recommend", "liked", item="181", request=request)
    feedback.record("recommend", "liked", item="50", request=request)
    assert feedback.session_items("s5", "recommend") == {"not_interested": [], "liked": ["181", "50"]}
    assert feedback.session_items("someone-else", "recommend") == {}


@pytest.fixture(scope="module")
def client():
    import app
    from gradio_client import Client

    _, url, _ = app.launch(app.demo, server_port=free_port(), prevent_thread_lock=True, quiet=True)
    yield Client(url, verbose=False)
    app.demo.close()


@pytest.mark.integration
def test_sentiment_then_feedback_through_the_api(client, writer):
    label, _, _ = client.predict("I love this phone!", "auto", api_name="/sentiment")
    answer = client.predict("sentiment", "correction", "negative", "", "", "", api_name="/feedback")
    assert "recorded" in answer
    mine = client.predict(api_name="/feedback_requests")
    assert [r["action"] for r in mine][-1] == "sentiment"
    (row,) = stored()
    assert row["request_id"] == mine[-1]["request_id"] and row["predicted"] == label["label"]
    seen = client.predict("day", "sentiment", "all", api_name="/insights_summary")
    assert seen["requests"] == 1 and seen["ratings"] == 1 and seen["per_model"][0]["satisfaction"] == 0.0


@pytest.mark.integration
def test_a_liked_or_hidden_recommendation_counts_at_once(client, writer):
    args = (10, True, 0.9, [], 1922, 1998)
    first, *_ = client.predict(["50", "181"], [], *args, api_name="/recommend_cold_start")
    titles = [row[1] for row in first["data"]]
    from products.recommend import core

    hidden = core.item_id(titles[0])
    client.predict("recommend", "not_interested", "", hidden, "", "", api_name="/feedback")
    second, *_ = client.predict(["50", "181"], [], *args, api_name="/recommend_cold_start")
    assert titles[0] not in [row[1] for row in second["data"]], "not interested: gone at once, no refit"
    liked = core.item_id(titles[1])
    client.predict("recommend", "liked", "", liked, "", "", api_name="/feedback")
    third, *_ = client.predict(["50", "181"], [], *args, api_name="/recommend_cold_start")
    assert titles[1] not in [row[1] for row in third["data"]], "seen: not recommended again"
    assert [row[1] for row in third["data"]] != [row[1] for row in second["data"]], "a liked item is a pick now"
