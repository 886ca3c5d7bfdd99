"""The customer-call workflow: each step's rules without models (turns, roles, items, stop strings,
re-running from a step, the report), then the whole chain on the bundled example through the Gradio
API with the real small models: every step, Stop in the middle, re-run from the email after an edit,
and bad input with clear messages."""
import json
import threading
from pathlib import Path

import numpy as np
import pytest

from shared.ui import UserError
from workflows.customer_call import pipeline, prompts, report, steps
from workflows.customer_call.pipeline import Call, Item, Turn

EXAMPLE = Path(__file__).resolve().parent.parent / "assets" / "calls" / "en_grinder_noise.flac"


class Segment:
    def __init__(self, speaker, start, end, text):
        self.speaker, self.start, self.end, self.text = speaker, start, end, text


def call_of(*turns, roles=None) -> Call:
    made = [Turn(s, i * 5.0, i * 5.0 + 4.0, text) for i, (s, text) in enumerate(turns)]
    return Call(audio="x.wav", language="en", turns=made, roles=roles or {"A": "agent", "B": "customer"},
                names={"A": "Sam", "B": "Alex"})


def test_segments_of_one_speaker_merge_into_turns():
    turns = steps.merge_turns([Segment("A", 0, 1, "Hello,"), Segment("A", 1, 2, "how can I help?"),
                               Segment("B", 2, 3, "我的"), Segment("B", 3, 4, "手机坏了"), Segment("A", 4, 5, " ")])
    assert [(t["speaker"], t["text"]) for t in turns] == [("A", "Hello, how can I help?"), ("B", "我的手机坏了")]
    assert turns[0]["start"] == 0 and turns[0]["end"] == 2


def test_roles_follow_the_greeting_else_talk_time():
    greeted = [Turn("A", 0, 3, "Thank you for calling Acme, this is Sam."), Turn("B", 3, 30, "My order is late.")]
    assert steps.guess_roles(greeted) == {"A": "agent", "B": "customer"}
    opened_by_customer = [Turn("B", 0, 25, "Hi, I have a problem with my sofa, it arrived broken and late."),
                          Turn("A", 25, 30, "Oh no, let me check.")]
    assert steps.guess_roles(opened_by_customer) == {"A": "agent", "B": "customer"}
    assert steps.guess_roles([Turn("B", 0, 5, "hello?")]) == {"B": "customer"}
    # the customer rings in talking and the agent, who then talks more, greets in the second turn
    rung_in = [Turn("B", 0, 6, "喂，你好，我买的书桌少了四颗螺丝。"),
               Turn("A", 6, 30, "您好，这里是木之家客服，我是小刘。真抱歉给您添麻烦了，请问订单号是多少？我马上帮您查一下，然后安排师傅上门。"),
               Turn("B", 30, 33, "订单号是八八二零六。")]
    assert steps.guess_roles(rung_in) == {"A": "agent", "B": "customer"}
    # diarization cut the customer's opening and gave a piece of it to the agent's voice
    pieces = [Turn("A", 0.9, 1.1, "Hello,"), Turn("B", 1.4, 3.1, "I'm calling because my card was"),
              Turn("A", 3.1, 4.3, "blocked while I was abroad,"), Turn("B", 4.6, 5.8, "and nobody warned me."),
              Turn("A", 6.2, 12.6, "Good morning, thank you for calling Harbor Bank, this is Elena."),
              Turn("B", 13.0, 40.0, "In Lisbon. I had told the bank about the trip in the app, and the card was declined.")]
    assert steps.guess_roles(pieces) == {"A": "agent", "B": "customer"}
    assert prompts.sounds_like_agent("您好，这里是某某客服中心，请问有什么可以帮您？")


def test_items_are_checked_against_the_transcript():
    call = call_of(("A", "Hello, how can I help?"), ("B", "The grinder got really loud last week."),
                   ("A", "Sorry."), ("B", "But I love how fast it grinds."))
    found = steps.clean_items({"company": "BrewMate", "topic": "grinder", "items": [
        {"kind": "complaint", "issue": "loud", "evidence": "got really loud", "turn": 2, "severity": "high"},
        {"kind": "liked", "issue": "fast", "evidence": "love how fast it grinds", "turn": 3, "severity": "loud!"},
        {"kind": "praise", "issue": "", "evidence": "", "turn": 1, "severity": "low"}]}, call)
    items = found["items"]
    assert len(items) == 2 and items[0]["turn"] == 1 and items[0]["time"] == 5.0
    assert items[1]["turn"] == 3, "turn 3 is the agent's: moved to the customer turn its evidence comes from"
    assert items[1]["severity"] == "medium"
    assert prompts.salvage_json('Sure! {"items": [{"kind": "liked"}]} hope it helps') == {"items": [{"kind": "liked"}]}
    assert prompts.salvage_json("no json here") == {"items": []}


def test_items_are_grounded_in_what_the_customer_said():
    call = call_of(("A", "Thanks for calling, this is Sam."),
                   ("B", "The air conditioning didn't work. At check in we waited almost an hour because the room "
                         "wasn't ready."),
                   ("A", "I'm sorry."), ("B", "The staff at breakfast were lovely."))
    found = steps.clean_items({"items": [
        # a paraphrased "quote" becomes the customer's sentence the issue comes from
        {"kind": "complaint", "issue": "Long wait for room to be ready", "turn": 4,
         "evidence": "The staff at breakfast were lovely."},
        {"kind": "complaint", "issue": "Broken air conditioning", "turn": 9,
         "evidence": "Customer says the AC was broken"},
        {"kind": "liked", "issue": "breakfast staff", "turn": 4, "evidence": "The staff at breakfast were lovely."},
        # nothing the customer said: dropped
        {"kind": "liked", "issue": "quick refund", "turn": 2, "evidence": "fast money back"}]}, call)
    items = found["items"]
    assert [(i["kind"], i["turn"]) for i in items] == [("complaint", 1), ("complaint", 1), ("liked", 3)]
    assert items[0]["evidence"] == "At check in we waited almost an hour because the room wasn't ready."
    assert items[1]["evidence"] == "The air conditioning didn't work."
    assert items[2]["evidence"] == "The staff at breakfast were lovely."


def test_an_issue_cut_by_the_grammar_ends_on_a_whole_clause_or_word():
    assert steps.whole_words("internet drops out every evening for two weeks, cuts off for t") == \
        "internet drops out every evening for two weeks"
    assert steps.whole_words("a" * 25 + " " + "b" * 40) == "a" * 25
    assert steps.whole_words("触摸不灵") == "触摸不灵"


def test_email_placeholders_are_filled_or_dropped():
    email = ("Dear [Customer's Name],\n\nWe are sorry. Call us at [phone number] any time. We will fix it.\n\n"
             "[Contact Information]\n\nBest regards, [Your Name]\n[Company Name]")
    assert prompts.fill_placeholders(email, "Sam", "Alex", "Acme") == (
        "Dear Alex,\n\nWe are sorry. We will fix it.\n\nBest regards, Sam\nAcme")
    assert prompts.fill_placeholders("您好【客户姓名】，感谢来电。请拨打[电话号码]。\n客服[你的名字]", "小陈", "王女士", "") == (
        "您好王女士，感谢来电。\n客服小陈")
    assert prompts.fill_placeholders("Signed, [Company]", "Sam", "Alex", "") == ""


def test_stop_strings_never_show_and_never_split():
    from products.copy.chat import StopCut

    cut = StopCut(["END"])
    assert cut.visible("hello E") == "hello " and cut.visible("hello EN") == "hello "
    assert cut.visible("hello ENOUGH") == "hello ENOUGH" and cut.visible("bye END now") == "bye "
    assert cut.hit("bye END") and cut.final("bye END now") == "bye "


def test_rerun_keeps_what_came_before_and_needs_it():
    call = call_of(("A", "Hi"), ("B", "It broke."))
    with pytest.raises(UserError, match="has not run yet"):
        next(pipeline.analyse("x.wav", call=call, from_step="email"))
    with pytest.raises(UserError, match="not a step"):
        next(pipeline.analyse("x.wav", call=call, from_step="dance"))
    with pytest.raises(UserError, match="transcript first"):
        next(pipeline.analyse("x.wav", from_step="sentiment"))
    stop = threading.Event()
    stop.set()
    call.done = ["transcript", "sentiment", "issues"]
    (stopped,) = list(pipeline.analyse("x.wav", call=call, from_step="email", stop=stop))
    assert stopped.done == ["transcript", "sentiment", "issues"] and "Stopped" in stopped.notes[-1]


def test_a_child_stop_ends_the_step_not_the_workflow():
    parent = threading.Event()
    child = steps.ChildStop(parent)
    child.set()
    assert child.is_set() and not parent.is_set()
    other = steps.ChildStop(parent)
    parent.set()
    assert other.is_set()


def test_the_email_needs_something_to_answer_and_a_language_it_writes():
    call = call_of(("A", "Hi"), ("B", "Fine."))
    with pytest.raises(UserError, match="nothing to follow up"):
        next(steps.write_email(call, threading.Event(), steps.Options()))
    call.items = [Item("complaint", "late", "it was late", 1, 5.0)]
    call.language = "de"
    with pytest.raises(UserError, match="English or Chinese"):
        next(steps.write_email(call, threading.Event(), steps.Options()))


def test_the_report_json_and_subtitles_carry_the_names(tmp_path):
    call = call_of(("A", "Hello, how can I help?"), ("B", "It broke, <b>twice</b>."))
    call.items = [Item("complaint", "broke twice", "It broke", 1, 5.0, "high")]
    call.sentiment = [{"turn": 1, "time": 5.0, "label": "negative", "score": -0.8}]
    call.email, call.topic = "Dear Alex,\nSorry.", "kettle"
    srt = report.subtitles(call, "srt")
    assert "00:00:05,000 --> 00:00:09,000\nAlex: It broke" in srt and report.subtitles(call, "vtt").startswith("WEBVTT")
    html = report.html_report(call)
    assert "&lt;b&gt;twice&lt;/b&gt;" in html and "<svg" in html and "broke twice" in html
    assert "**Sam** (0:00)" in report.markdown(call)
    again = Call.from_json(json.loads(json.dumps(call.to_json())))
    assert again.turns == call.turns and again.items == call.items


# ---- the whole chain, real models ----------------------------------------------------------------
@pytest.fixture(scope="module")
def client():
    import app
    from gradio_client import Client

    from tests.conftest import free_port

    _, url, _ = app.launch(app.demo, server_port=free_port(), prevent_thread_lock=True, quiet=True)
    yield Client(url, verbose=False)
    app.demo.close()


def outputs(result) -> dict:
    names = ["status", "turns", "plot", "sentiment", "items", "email", "image_prompt", "image", "files", "details",
             "state"]
    return dict(zip(names, result))


@pytest.mark.integration
def test_the_sentiment_product_checks_each_items_kind():
    def item(kind, issue, quote):
        return {"kind": kind, "issue": issue, "evidence": quote, "turn": 1, "time": 0.0, "severity": "medium"}

    items = [item("complaint", "card declined abroad", "The card was declined at the hotel, in front of everyone. It was awful."),
             item("liked", "fast downloads", "Downloads are really fast, the speed is great."),
             item("liked", "new router", "Will the engineer bring a new router?"),  # a question is no like
             item("liked", "it is terrible", "It is terrible, nothing works and I am furious."),  # negative: no like
             item("complaint", "lovely breakfast staff", "The staff at breakfast were lovely, truly wonderful people."),
             # mixed: read as negative as a whole (no clause split), the like kept by its name
             item("liked", "the compact size is great", "Yes, last week, and it did not help, which is a shame, because the "
                                                      "coffee used to taste amazing, and I love how compact it is on my "
                                                      "kitchen counter.")]
    kept = steps.check_kinds(items, "en")
    assert [i["evidence"] for i in kept] == [items[0]["evidence"], items[1]["evidence"], items[5]["evidence"]]
    assert steps.check_kinds([], "en") == []


@pytest.mark.integration
def test_the_whole_call_through_the_gradio_api_then_a_rerun_from_the_email(client):
    from gradio_client import handle_file

    out = outputs(client.predict(handle_file(str(EXAMPLE)), "auto", api_name="/call_analyse"))
    details = out["details"]
    assert details["done"] == list(pipeline.STEPS), out["status"]
    assert details["language"] == "en" and len(details["turns"]) >= 6
    assert sorted(details["roles"].values()) == ["agent", "customer"]
    customer = next(s for s, r in details["roles"].items() if r == "customer")
    assert details["sentiment"] and all(details["turns"][row["turn"]]["speaker"] == customer
                                        for row in details["sentiment"])
    assert any(item["kind"] == "complaint" for item in details["items"])
    assert details["email"].strip() and Path(details["image"]).exists()
    names = sorted(Path(f).name for f in out["files"])
    assert names == ["call-report.html", "call-report.md", "call.json", "call.srt", "call.vtt", "header.png"]
    # Edit the list of complaints and re-run from the email: steps 1-3 are kept, 4 and 5 run again.
    state = out["state"]
    edited_items = {"headers": ["kind", "issue", "evidence", "turn", "time", "severity"],
                    "data": [["complaint", "the delivery was two weeks late", "it came two weeks late", 2, 0.0,
                              "high"]]}
    again = outputs(client.predict("email", state, out["turns"], edited_items, "", "", api_name="/call_rerun"))
    assert again["details"]["timings"]["transcript"] == details["timings"]["transcript"], "not run again"
    assert [i["issue"] for i in again["details"]["items"]] == ["the delivery was two weeks late"]
    assert again["details"]["done"] == list(pipeline.STEPS)


@pytest.mark.integration
def test_stop_in_the_middle_keeps_the_steps_done(tmp_path):
    stop = threading.Event()
    seen = []
    for call in pipeline.analyse(str(EXAMPLE), "auto", upto="email", stop=stop):
        seen.append(list(call.done))
        if "sentiment" in call.done:
            stop.set()
    assert seen[-1] == ["transcript", "sentiment"] and "Stopped" in call.notes[-1]


@pytest.mark.integration
def test_no_speech_and_one_speaker_get_clear_messages(tmp_path):
    import soundfile as sf

    silence = tmp_path / "silence.wav"
    sf.write(silence, np.zeros(16000 * 3, dtype="float32"), 16000)
    with pytest.raises(UserError, match="silent|[Nn]o speech"):
        list(pipeline.analyse(str(silence), "en", upto="transcript"))
    from tests.speech_support import speak

    alone = speak("I bought a kettle last week and it already leaks water everywhere.", tmp_path / "alone.wav")
    (*_, call) = pipeline.analyse(str(alone), "en", upto="sentiment")
    assert list(call.roles.values()) == ["customer"] and "one speaker" in " ".join(call.notes)
    assert call.sentiment and call.sentiment[0]["label"] == "negative"


@pytest.mark.integration
def test_the_workflow_as_a_rest_endpoint_returns_every_step(tmp_path):
    import httpx

    import app
    from shared import keys
    from tests.api_support import api_database, serving

    with api_database(tmp_path), serving(app) as url:
        key, _ = keys.create_key("calls", "payg")
        with open(EXAMPLE, "rb") as audio:
            answer = httpx.post(url + "/api/v1/customer_call/analyse", headers={"Authorization": f"Bearer {key}"},
                                files={"file": ("call.flac", audio, "audio/flac")},
                                data={"language": "en", "upto": "sentiment"}, timeout=600)
        assert answer.status_code == 200, answer.text
        body = answer.json()
        assert body["steps"] == ["transcript", "sentiment"] and body["turns"] and body["sentiment"]
        bad = httpx.post(url + "/api/v1/customer_call/analyse", headers={"Authorization": f"Bearer {key}"},
                         files={"file": ("call.flac", b"not audio", "audio/flac")}, data={"upto": "dance"})
        assert bad.status_code == 400 and "not a step" in bad.json()["error"]["message"]
