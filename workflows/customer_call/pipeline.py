"""A customer call, from recording to follow-up, as five steps of our products (their plain functions,
on the shared registry), each shown as it finishes:

    1. transcript   speech: who said what (speaker labels, word timings), merged into turns, roles guessed
    2. sentiment    sentiment: each customer turn (clauses for mixed ones), the turns where it changed
    3. issues       copy's LLM: what the customer liked and complained about, as grammar-bound JSON
    4. email        copy: a follow-up email that answers each complaint and thanks for what was liked
    5. image        image: a header picture from the call's topic

`analyse` yields the Call after every step. Given a Call and `from_step`, it keeps what came before
(an edited transcript, renamed speakers, a corrected list) and re-runs only the steps from there.
"""
from __future__ import annotations

import threading
import time
from dataclasses import asdict, dataclass, field, replace
from typing import Iterator

from shared.ui import UserError

from workflows.customer_call import steps

STEPS = ("transcript", "sentiment", "issues", "email", "image")


@dataclass
class Turn:
    speaker: str
    start: float
    end: float
    text: str


@dataclass
class Item:
    kind: str  # "liked" | "complaint"
    issue: str
    evidence: str
    turn: int  # index into Call.turns
    time: float  # the turn's start, seconds
    severity: str = "medium"  # low | medium | high


@dataclass
class Call:
    audio: str = ""
    language: str = "auto"  # the call's language once transcribed ("en", "zh", ...)
    turns: list[Turn] = field(default_factory=list)
    names: dict[str, str] = field(default_factory=dict)  # speaker label -> name shown
    roles: dict[str, str] = field(default_factory=dict)  # speaker label -> "agent" | "customer"
    sentiment: list[dict] = field(default_factory=list)  # per customer turn: turn, time, label, score, ...
    changes: list[int] = field(default_factory=list)  # turn indexes where the customer's sentiment changed
    topic: str = ""
    company: str = ""
    items: list[Item] = field(default_factory=list)
    email: str = ""
    image_prompt: str = ""
    image: str | None = None
    timings: dict[str, float] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    done: list[str] = field(default_factory=list)  # the steps finished, in order
    running: str = ""  # the step running now, while a step streams

    def to_json(self) -> dict:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict) -> "Call":
        data = dict(data)
        data["turns"] = [Turn(**t) for t in data.get("turns", [])]
        data["items"] = [Item(**i) for i in data.get("items", [])]
        return cls(**{k: v for k, v in data.items() if k in cls.__dataclass_fields__})

    def customer(self) -> str | None:
        return next((s for s, role in self.roles.items() if role == "customer"), None)

    def agent(self) -> str | None:
        return next((s for s, role in self.roles.items() if role == "agent"), None)

    def name(self, speaker: str) -> str:
        return self.names.get(speaker) or speaker


def check_step(step: str) -> str:
    if step not in STEPS:
        raise UserError(f"“{step}” is not a step of this workflow; use one of: {', '.join(STEPS)}.")
    return step


def analyse(audio: str, language: str = "auto", *, upto: str = "image", call: Call | None = None,
            from_step: str = "transcript", stop: threading.Event | None = None,
            options: steps.Options | None = None) -> Iterator[Call]:
    """Run the steps from `from_step` through `upto` on `audio` (or on `call`, keeping what it holds
    before `from_step`); yield the Call after each step and while a step streams. Stop ends the run
    after the step in progress, keeping every result so far."""
    first, last = STEPS.index(check_step(from_step)), STEPS.index(check_step(upto))
    stop = stop or threading.Event()
    options = options or steps.Options()
    if call is None:
        if first > 0:
            raise UserError("Run the call from the transcript first: there is nothing to re-run from.")
        call = Call(audio=audio, language=language)
    else:
        call = replace(call, done=[s for s in call.done if STEPS.index(s) < first], running="")
        missing = [s for s in STEPS[:first] if s not in call.done]
        if missing:
            raise UserError(f"Step “{missing[0]}” has not run yet: re-run from there.")
        if first < STEPS.index("image"):
            call.image_prompt = ""  # made again from what the earlier steps now say
    for step in STEPS[first:last + 1]:
        if stop.is_set():
            call.notes.append(f"Stopped before “{step}”; the results so far are kept.")
            yield call
            return
        call.running = step
        started = time.perf_counter()
        for partial in RUNNERS[step](call, stop, options):
            yield partial
        call.timings[step] = round(time.perf_counter() - started, 2)
        call.running = ""
        call.done.append(step)
        yield call


def _transcript(call: Call, stop, options) -> Iterator[Call]:
    update = None
    for update in steps.transcribe(call.audio, call.language, stop, options):
        call.turns = [Turn(**t) for t in steps.merge_turns(update.segments)]
        yield call
    if update is None or not call.turns:
        raise UserError("No speech was found in this recording.")
    call.language = update.info.language
    call.roles = steps.guess_roles(call.turns)
    call.names = {speaker: call.names.get(speaker) or steps.default_name(role, call.language)
                  for speaker, role in call.roles.items()}
    if len(call.roles) < 2:
        call.notes.append("Only one speaker was heard: every turn is taken as the customer's.")


def _sentiment(call: Call, stop, options) -> Iterator[Call]:
    customer = call.customer()
    turns = [(i, t) for i, t in enumerate(call.turns) if t.speaker == customer and t.text.strip()]
    call.sentiment, call.changes = steps.score_turns(turns, call.language)
    yield call


def _issues(call: Call, stop, options) -> Iterator[Call]:
    found = steps.extract_items(call, stop, options)
    call.topic, call.company = found["topic"], found["company"]
    call.items = [Item(**item) for item in found["items"]]
    yield call


def _email(call: Call, stop, options) -> Iterator[Call]:
    for text in steps.write_email(call, stop, options):
        call.email = text
        yield call


def _image(call: Call, stop, options) -> Iterator[Call]:
    call.image_prompt = call.image_prompt or steps.image_prompt(call.topic)
    call.image = steps.make_image(call.image_prompt, options)
    yield call


RUNNERS = {"transcript": _transcript, "sentiment": _sentiment, "issues": _issues, "email": _email,
           "image": _image}
