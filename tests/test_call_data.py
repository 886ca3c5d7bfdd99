"""The customer-call evaluation data and its scoring, without models: the scripted calls and their answer
keys are well-formed, the two bundled example recordings match their JSON, and the scoring functions
give the right numbers on hand-made calls (workflows/customer_call/tools)."""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from workflows.customer_call.tools import score
from workflows.customer_call.tools.calls import BY_ID, CALLS, LANGUAGES, SPLITS, select

ASSETS = Path(__file__).resolve().parent.parent / "assets" / "calls"


# Stand-ins with the pipeline's field names (the scorer is duck-typed).
@dataclass
class Turn:
    speaker: str
    start: float
    end: float
    text: str = ""


@dataclass
class Item:
    kind: str
    issue: str
    evidence: str = ""
    turn: int = 0
    time: float = 0.0
    severity: str = "medium"


@dataclass
class Call:
    turns: list = field(default_factory=list)
    roles: dict = field(default_factory=dict)
    items: list = field(default_factory=list)
    email: str = ""
    timings: dict = field(default_factory=dict)


# --------------------------------------------------------------------------- the scripts

def test_enough_calls_in_each_language():
    assert len(CALLS) >= 10
    assert len({c.id for c in CALLS}) == len(CALLS)
    for language in LANGUAGES:
        assert sum(c.language == language for c in CALLS) >= 5


def test_splits():
    assert {c.split for c in CALLS} <= set(SPLITS)
    examples = select("example")
    assert len(examples) == 2 and all(c.example for c in examples)
    assert sorted(c.language for c in examples) == ["en", "zh"]
    assert len(select("tune")) == 2
    assert len(select("held_out")) == 6
    for later in ("held_out_2", "held_out_3"):
        assert len(select(later)) == 4 and {c.language for c in select(later)} == set(LANGUAGES)
    assert {c.language for c in select("held_out")} == set(LANGUAGES)
    assert len(select("all")) == len(CALLS)
    with pytest.raises(ValueError):
        select("train")


def test_turns_are_well_formed():
    for c in CALLS:
        assert c.company and c.topic, c.id
        assert len(c.turns) >= 6, c.id
        assert {s for s, _ in c.turns} == {"agent", "customer"}, c.id
        assert all(text.strip() for _, text in c.turns), c.id
        if c.language == "zh":
            assert len(c.spoken) == len(c.turns), c.id  # the pinyin espeak-ng speaks, turn by turn
            assert all(p.isascii() and any(ch.isdigit() for ch in p) for p in c.spoken), c.id
            assert all(any("\u4e00" <= ch <= "\u9fff" for ch in text) for _, text in c.turns), c.id
        else:
            assert not c.spoken and all(text.isascii() for _, text in c.turns), c.id


def test_agent_opens_most_calls_but_not_all():
    openers = [c.opener for c in CALLS]
    assert openers.count("customer") >= 2
    assert openers.count("agent") > len(CALLS) / 2


def test_answer_keys():
    for c in CALLS:
        assert 1 <= len(c.complaints) <= 3, c.id
        assert len(c.liked) <= 2, c.id
        for key in (*c.complaints, *c.liked):
            assert key["issue"].strip(), c.id
            assert len(key["keywords"]) >= 1 and all(k.strip() for k in key["keywords"]), (c.id, key)
            assert all(k == k.lower() for k in key["keywords"]), (c.id, key)
            if c.language == "zh":
                assert all(not k.isascii() for k in key["keywords"]), (c.id, key)
            assert score.has_keyword(key["issue"], key["keywords"]), (c.id, key["issue"])  # names itself
        for key in c.complaints:
            assert len(key["keywords"]) >= 2, (c.id, key)
            # the customer really says it: some keyword is in a customer turn of the script
            said = " ".join(text for s, text in c.turns if s == "customer")
            assert score.has_keyword(said, key["keywords"]), (c.id, key["issue"])


# --------------------------------------------------------------------------- the bundled audio

@pytest.mark.parametrize("call_id", [c.id for c in select("example")])
def test_bundled_example_audio(call_id):
    sf = pytest.importorskip("soundfile")
    import numpy as np

    audio, meta = ASSETS / f"{call_id}.flac", ASSETS / f"{call_id}.json"
    assert audio.exists() and meta.exists()
    assert audio.stat().st_size < 1.5e6
    data = json.loads(meta.read_text(encoding="utf-8"))
    info = sf.info(str(audio))
    duration = info.frames / info.samplerate
    assert info.samplerate == 16000 and info.channels == 1
    assert 45 <= duration <= 75 and abs(duration - data["duration"]) < 0.01
    script = BY_ID[call_id]
    assert data["language"] == script.language and data["example"] is True
    assert [t["text"] for t in data["turns"]] == [text for _, text in script.turns]
    assert [t["speaker"] for t in data["turns"]] == [s for s, _ in script.turns]
    assert data["complaints"] == [dict(k) for k in script.complaints]
    assert data["made"]["voices"]["agent"] != data["made"]["voices"]["customer"]
    previous = 0.0
    samples, rate = sf.read(str(audio), dtype="float32")
    for turn in data["turns"]:
        assert previous <= turn["start"] < turn["end"] <= duration
        previous = turn["end"]
        spoken = samples[int(turn["start"] * rate):int(turn["end"] * rate)]
        assert float(np.sqrt(np.mean(spoken ** 2))) > 0.02  # speech, not silence
    gap = samples[int(data["turns"][0]["end"] * rate) + 800:int(data["turns"][1]["start"] * rate) - 800]
    assert 0 < float(np.sqrt(np.mean(gap ** 2))) < 0.01  # light noise between turns


# --------------------------------------------------------------------------- matching

@pytest.mark.parametrize("text, keywords, hit", [
    ("The grinder got LOUDER", ["loud"], True),
    ("a noisy machine", ["nois"], True),
    ("please translate this", ["late"], False),  # keywords start at a word start
    ("delivery was late", ["late"], True),
    ("we appreciate it", ["app"], False),  # three letters or fewer: whole words only
    ("the app is great", ["app"], True),
    ("a long wait at check-in", ["check in"], True),  # punctuation and hyphens are spaces
    ("it still isn’t here", ["still isn't here"], True),  # curly apostrophes
    ("手机信号特别差", ["信号"], True),  # Chinese: anywhere
    ("流量超了", ["信号", "断线"], False),
    ("", ["loud"], False),
    ("anything", [], False),
])
def test_has_keyword(text, keywords, hit):
    assert score.has_keyword(text, keywords) is hit


KEY = {
    "complaints": [{"issue": "loud", "keywords": ["loud", "nois"]},
                   {"issue": "uneven grind", "keywords": ["uneven", "chunk"]}],
    "liked": [{"issue": "taste", "keywords": ["taste"]}],
    "turns": [{"speaker": "agent", "start": 0.5, "end": 4.0}, {"speaker": "customer", "start": 4.6, "end": 10.0},
              {"speaker": "agent", "start": 10.5, "end": 14.0}, {"speaker": "customer", "start": 14.5, "end": 20.0}],
}
ZH_KEY = {"complaints": [{"issue": "流量超额", "keywords": ["流量", "超额"]},
                         {"issue": "信号差", "keywords": ["信号", "断线"]}],
          "liked": [{"issue": "便宜", "keywords": ["便宜", "划算"]}]}


def test_scores_of_a_good_call():
    items = [Item("complaint", "Grinder became loud", "it makes a rattling noise"),
             Item("complaint", "Inconsistent grind", "big chunks mixed with powder"),
             Item("liked", "Coffee taste", "it used to taste amazing")]
    call = Call(items=items, email="We're sorry it got noisy and the grind is uneven.")
    assert score.found(items, KEY) == 1.0
    assert score.found(items, KEY, "liked") == 1.0
    assert score.precision(items, KEY) == 1.0
    assert score.email_coverage(call.email, KEY) == 1.0
    assert score.unmatched(items, KEY) == []


def test_scores_with_a_miss_and_an_extra():
    items = [Item("complaint", "Too loud", ""), Item("complaint", "Price too high", "it was expensive"),
             Item("liked", "Fast shipping", "")]
    assert score.found(items, KEY) == 0.5
    assert score.precision(items, KEY) == pytest.approx(1 / 3)
    assert [i.issue for i in score.unmatched(items, KEY)] == ["Price too high", "Fast shipping"]
    assert score.found(items, KEY, "liked") == 0.0
    assert score.email_coverage("Thank you for your call.", KEY) == 0.0
    assert score.email_coverage("About the noise: a new burr set is on its way.", KEY) == 0.5


def test_kind_must_match():
    """A like that names a complaint's keyword is not the complaint, and counts as wrong."""
    items = [Item("liked", "Not loud at all", "")]
    assert score.found(items, KEY) == 0.0
    assert score.precision(items, KEY) == 0.0
    assert score.precision([Item("question", "loud", "")], KEY) == 0.0


def test_no_items():
    assert score.found([], KEY) == 0.0
    assert score.precision([], KEY) is None  # nothing extracted: shown as n/a, found = 0 says it
    assert score.found([], {"complaints": [], "liked": []}, "liked") is None
    assert score.email_coverage("", KEY) == 0.0


def test_chinese_keywords():
    items = [Item("complaint", "话费突然多了", "说是流量超了，可是我根本没用那么多"),
             Item("complaint", "客服态度", "等了很久"),
             Item("liked", "月租划算", "一直觉得很划算")]
    assert score.found(items, ZH_KEY) == 0.5
    assert score.precision(items, ZH_KEY) == pytest.approx(2 / 3)
    assert score.found(items, ZH_KEY, "liked") == 1.0
    assert score.email_coverage("关于您家里信号差的问题，工程师三天内上门；超额的流量费用已减免一半。", ZH_KEY) == 1.0


# --------------------------------------------------------------------------- speaker roles

def _turns(*spans):
    return [Turn(s, a, b) for s, a, b in spans]


def test_roles_right_when_labels_follow_the_script():
    turns = _turns(("S1", 0.4, 4.1), ("S2", 4.5, 10.2), ("S1", 10.4, 14.0), ("S2", 14.4, 20.0))
    assert score.speaker_map(turns, KEY["turns"]) == {"S1": "agent", "S2": "customer"}
    assert score.roles_right(turns, {"S1": "agent", "S2": "customer"}, KEY["turns"]) == 1.0
    assert score.role_time(turns, {"S1": "agent", "S2": "customer"}, KEY["turns"]) == 1.0
    swapped = {"S1": "customer", "S2": "agent"}
    assert score.roles_right(turns, swapped, KEY["turns"]) == 0.0
    assert score.role_time(turns, swapped, KEY["turns"]) == 0.0


def test_roles_by_most_overlap():
    # S1 mostly covers agent turns but also spills into the customer's first turn; S3 sits in noise only
    turns = _turns(("S1", 0.5, 6.0), ("S2", 6.0, 10.0), ("S1", 10.5, 14.0), ("S2", 14.5, 20.0),
                   ("S3", 30.0, 31.0))
    mapped = score.speaker_map(turns, KEY["turns"])
    assert mapped == {"S1": "agent", "S2": "customer", "S3": None}
    roles = {"S1": "agent", "S2": "customer", "S3": "customer"}
    assert score.roles_right(turns, roles, KEY["turns"]) == 1.0  # S3 overlaps nothing: not counted
    # S1's 1.4 s inside the customer's turn is time with the wrong role
    total = 3.5 + 1.4 + 4.0 + 3.5 + 5.5
    assert score.role_time(turns, roles, KEY["turns"]) == pytest.approx((total - 1.4) / total)


def test_roles_edge_cases():
    # one speaker heard for everything: mapped to whoever it overlaps most (the customer, 10.9 s vs 7 s)
    one = _turns(("S1", 0.0, 20.0))
    assert score.speaker_map(one, KEY["turns"]) == {"S1": "customer"}
    assert score.roles_right(one, {"S1": "customer"}, KEY["turns"]) == 1.0
    assert score.roles_right(one, {}, KEY["turns"]) == 0.0  # a speaker without a role is wrong
    assert score.roles_right([], {}, KEY["turns"]) is None
    assert score.role_time([], {}, KEY["turns"]) is None


def test_score_and_means():
    turns = _turns(("S1", 0.4, 4.1), ("S2", 4.5, 10.2))
    call = Call(turns=turns, roles={"S1": "agent", "S2": "customer"},
                items=[Item("complaint", "loud", "")], email="", timings={"transcript": 10.0, "issues": 2.0})
    row = score.score(call, KEY)
    assert (row["found"], row["precision"], row["email"], row["roles"]) == (0.5, 1.0, 0.0, 1.0)
    assert row["speakers"] == 2 and row["items"] == 1 and row["unmatched"] == []
    empty = score.score(Call(), KEY)
    assert empty["precision"] is None and empty["found"] == 0.0 and empty["roles"] is None
    summary = score.means([row, {**row, "found": 1.0, "precision": None, "timings": {"transcript": 20.0}}])
    assert summary["found"] == 0.75 and summary["precision"] == 1.0 and summary["calls"] == 2
    assert summary["timings"] == {"issues": 2.0, "transcript": 15.0}
    assert score.meets(summary) == {"found": False, "precision": True, "email": False}
    assert score.meets(score.means([])) == {"found": None, "precision": None, "email": None}


def test_real_pipeline_call_scores_if_importable():
    """The pipeline's own dataclasses work with the scorer (skipped while it cannot be imported)."""
    pipeline = pytest.importorskip("workflows.customer_call.pipeline")
    call = pipeline.Call(audio="x.flac", language="zh",
                         turns=[pipeline.Turn("SPEAKER_00", 0.5, 4.0, "…"),
                                pipeline.Turn("SPEAKER_01", 4.6, 10.0, "…")],
                         roles={"SPEAKER_00": "agent", "SPEAKER_01": "customer"},
                         items=[pipeline.Item("complaint", "信号差", "在客厅打电话经常断线", 1, 4.6, "high")],
                         email="信号的问题我们会尽快处理。")
    row = score.score(call, {**ZH_KEY, "turns": KEY["turns"][:2]})
    assert (row["found"], row["precision"], row["email"], row["roles"]) == (0.5, 1.0, 0.5, 1.0)
