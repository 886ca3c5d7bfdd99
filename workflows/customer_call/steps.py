"""The work of each step of the customer-call workflow, on the products' plain functions. pipeline.py
runs them in order; every function here can be called (and tested) on its own."""
from __future__ import annotations

import json
import threading
from dataclasses import dataclass

from shared.outputs import request_dir
from shared.ui import UserError

from workflows.customer_call import grounding, prompts

ROLE_NAMES = {"en": {"agent": "Agent", "customer": "Customer"}, "zh": {"agent": "客服", "customer": "客户"}}
MAX_ITEMS = 8
# An agent greets in the call's first turns; diarization may split the customer's opening into several.
GREETING_TURNS, GREETING_SECONDS = 6, 20.0


class ChildStop(threading.Event):
    """Set when it is set or its parent is: a step hands a product a flag the product may set when it
    finishes (copy's generate does) without that ending the whole workflow."""

    def __init__(self, parent: threading.Event):
        super().__init__()
        self.parent = parent

    def is_set(self) -> bool:
        return super().is_set() or self.parent.is_set()


@dataclass
class Options:
    speech_model: str | None = None  # None: the speech product's default (Whisper base)
    num_speakers: int = 2  # a call has two sides; 0 = find out
    copy_model: str | None = None  # None: the copy product's default
    image_steps: int | None = None  # None: the image model's preset
    seed: int = 0


# ---- 1. transcript -----------------------------------------------------------------------------
def transcribe(audio: str, language: str, stop: threading.Event, options: Options):
    """The speech product's updates (segments with speakers and words) until done or stopped."""
    from products.speech import core

    speech_options = core.default_options(language=language or "auto", word_timestamps=True, speakers=True,
                                          num_speakers=options.num_speakers)
    for update in core.transcribe(audio, model=options.speech_model, options=speech_options):
        yield update
        if stop.is_set():
            return


def merge_turns(segments) -> list[dict]:
    """Consecutive segments of one speaker become one turn (a speaker's sentences said in one go)."""
    turns: list[dict] = []
    for s in segments:
        text = s.text.strip()
        if not text:
            continue
        speaker = s.speaker or "SPEAKER_00"
        if turns and turns[-1]["speaker"] == speaker:
            turns[-1]["end"] = round(s.end, 2)
            turns[-1]["text"] = _join(turns[-1]["text"], text)
        else:
            turns.append({"speaker": speaker, "start": round(s.start, 2), "end": round(s.end, 2), "text": text})
    return turns


def _join(left: str, right: str) -> str:
    cjk = left[-1:] >= "\u3000" or right[:1] >= "\u3000"
    return left + ("" if cjk else " ") + right


def guess_roles(turns) -> dict[str, str]:
    """Agent and customer: the agent greets ("thank you for calling...") in their first turn, the call's
    first or, when the customer rings in talking, one of the next (diarization may cut the customer's
    opening into pieces, given to either speaker); where no greeting is heard in the opening,
    the speaker who talks less is the agent (customers explain their problem at length). One speaker
    alone is the customer."""
    talk: dict[str, float] = {}
    for t in turns:
        talk[t.speaker] = talk.get(t.speaker, 0.0) + (t.end - t.start)
    if len(talk) == 1:
        return {next(iter(talk)): "customer"}
    opening = [t for t in turns[:GREETING_TURNS] if t.start < GREETING_SECONDS]
    greeter = next((t.speaker for t in opening if prompts.sounds_like_agent(t.text)), None)
    if greeter is not None:
        agent = greeter
    else:
        ranked = sorted(talk, key=talk.get, reverse=True)
        agent = ranked[1] if len(ranked) > 1 else ranked[0]
    return {speaker: ("agent" if speaker == agent else "customer") for speaker in talk}


def default_name(role: str, language: str) -> str:
    return ROLE_NAMES.get(language if language in ROLE_NAMES else "en")[role]


# ---- 2. sentiment ------------------------------------------------------------------------------
def score_turns(turns: list[tuple[int, object]], language: str) -> tuple[list[dict], list[int]]:
    """The sentiment product on each customer turn (clauses, so a mixed turn says so); a turn where the
    overall label differs from the turn before is a change."""
    from products.sentiment import core

    if not turns:
        return [], []
    scored = core.score_with_clauses([t.text for _, t in turns], language if language in ("en", "zh") else "auto")
    rows, changes, previous = [], [], None
    for (index, turn), result in zip(turns, scored):
        probabilities = result.probabilities
        score = probabilities.get("positive", 0.0) - probabilities.get("negative", 0.0)
        rows.append({"turn": index, "time": turn.start, "label": result.overall or result.label,
                     "score": round(score, 3), "probabilities": {k: round(v, 3) for k, v in probabilities.items()},
                     "clauses": [{"text": c.text, "label": c.label} for c in result.clauses],
                     "model": result.model})
        if previous is not None and rows[-1]["label"] != previous:
            changes.append(index)
        previous = rows[-1]["label"]
    return rows, changes


# ---- 3. issues ---------------------------------------------------------------------------------
def extract_items(call, stop: threading.Event, options: Options) -> dict:
    """What the customer liked and complained about: the copy model, held to a JSON grammar, reads the
    numbered transcript; items are checked against it (a turn that is not the customer's, or out of
    range, is moved to the customer turn its evidence comes from)."""
    from products.copy import models
    from products.copy.chat import chat
    from shared.api.capabilities import ChatOptions

    model = options.copy_model or models.configured_models()[0]
    messages = prompts.extraction_messages(call)
    # Greedy with a repetition penalty: greedy alone loops, listing one item over and over (tune calls).
    chat_options = ChatOptions(max_tokens=700, temperature=0.0, seed=options.seed, grammar=prompts.ITEMS_GRAMMAR,
                               repetition_penalty=1.15)
    stream = chat(model, messages, chat_options, ChildStop(stop))
    text = "".join(stream.deltas)
    try:
        found = json.loads(text)
    except ValueError:
        found = prompts.salvage_json(text)
    found = clean_items(found, call)
    found["items"] = check_kinds(found["items"], call.language)
    return found


ISSUE_CHARS = 60  # the grammar's bound on an issue's name


def whole_words(issue: str) -> str:
    """An issue name the grammar's bound cut off ends at its last whole word or clause."""
    if len(issue) < ISSUE_CHARS:
        return issue
    clause = max(issue.rfind(","), issue.rfind("，"), issue.rfind("、"), issue.rfind(";"), issue.rfind("；"))
    cut = clause if clause > ISSUE_CHARS // 3 else issue.rfind(" ")
    return (issue[:cut] if cut > ISSUE_CHARS // 3 else issue).rstrip(" ,，、;；:")


def clean_items(found: dict, call) -> dict:
    """The model's items, each grounded in the transcript (grounding.py): its evidence is what the
    customer said, its turn the one they said it in; an item grounded in nothing is dropped."""
    customer = call.customer()
    turns = call.turns
    items, seen = [], set()
    for raw in [x for x in found.get("items") or [] if isinstance(x, dict)][:MAX_ITEMS]:
        kind = raw.get("kind") if raw.get("kind") in ("liked", "complaint") else "complaint"
        issue, evidence = whole_words(str(raw.get("issue", "")).strip()), str(raw.get("evidence", "")).strip()
        if not issue or (kind, issue.lower()) in seen:  # a small model repeats itself
            continue
        seen.add((kind, issue.lower()))
        grounded = grounding.ground(issue, evidence, turns, customer)
        if grounded is None:
            continue
        turn, quote = grounded
        severity = raw.get("severity") if raw.get("severity") in ("low", "medium", "high") else "medium"
        items.append({"kind": kind, "issue": issue[:120], "evidence": quote[:300], "turn": turn,
                      "time": turns[turn].start, "severity": severity})
    return {"company": str(found.get("company", "")).strip()[:80], "topic": str(found.get("topic", "")).strip()[:80],
            "items": items}


OPPOSITE = 0.7  # a quote the sentiment model reads this surely as the other side is not this kind of item


def check_kinds(items: list[dict], language: str) -> list[dict]:
    """The sentiment product reads each item's quote (clause by clause) and its issue name: a like whose
    quote and name both read as negative (the quote with no positive clause), or a like that is a question,
    is dropped, and so is a complaint whose quote and name both read as positive. A small model files "the
    right corner is worst when I type" under likes, and the breakfast praise under complaints; a like
    quoted from a mixed sentence ("it did not help, which is a shame, because I love how compact it is")
    keeps it by its name ("compact design")."""
    from products.sentiment import core

    if not items:
        return items
    lang = language if language in ("en", "zh") else "auto"
    quotes = core.score_with_clauses([i["evidence"] for i in items], lang)
    names = core.score_texts([i["issue"] for i in items], lang)
    kept = []
    for item, quote, name in zip(items, quotes, names):
        said = {c.label for c in quote.clauses}
        if item["kind"] == "liked":
            negative = quote.probabilities.get("negative", 0.0) >= OPPOSITE and "positive" not in said
            if item["evidence"].rstrip().endswith(("?", "？")) or (negative and name.label == "negative"):
                continue
        else:
            positive = quote.probabilities.get("positive", 0.0) >= OPPOSITE and "negative" not in said
            if positive and name.label == "positive":
                continue
        kept.append(item)
    return kept


# ---- 4. email ----------------------------------------------------------------------------------
def write_email(call, stop: threading.Event, options: Options):
    """The copy product's follow-up email channel, streamed: the text so far, then the finished email."""
    from products.copy import core
    from products.copy.options import Options as CopyOptions
    from products.copy.templates import Brief

    complaints = [i for i in call.items if i.kind == "complaint"]
    if not call.items:
        raise UserError("There is nothing to follow up on: no complaint or praise was found. Add one to the "
                        "list and re-run from the email.")
    language = call.language if call.language in ("en", "zh") else None
    if language is None:
        raise UserError(f"The follow-up email is written in English or Chinese; this call is in "
                        f"“{call.language}”.")
    customer = call.name(call.customer() or "")
    brief = Brief(product=call.company or call.topic or ("我们的产品" if language == "zh" else "our product"),
                  description=prompts.email_description(call, complaints, language),
                  features=prompts.email_points(call, language), audience=customer,
                  tone="真诚、负责" if language == "zh" else "warm, sincere and apologetic where we failed",
                  voice=prompts.signature(call, language))
    copy_options = CopyOptions(variants=1, temperature=0.3, top_p=0.9, seed=options.seed)
    agent = call.agent()
    names = {"agent": call.name(agent) if agent else "", "customer": customer, "company": call.company}
    for update in core.generate(brief, "follow_up_email", language, copy_options, options.copy_model,
                                stop=ChildStop(stop)):
        if update.done:
            text = update.variants[0].copy_text(update.template, update.lang) if update.variants else update.texts[0]
        else:
            text = update.texts[0] if update.texts else ""
        yield prompts.fill_placeholders(text, **names)


# ---- 5. image ----------------------------------------------------------------------------------
def image_prompt(topic: str) -> str:
    return f"an emoji of {topic}" if topic else "a friendly smiling face"


def make_image(prompt: str, options: Options) -> str:
    """One PNG from the image product (its default model and preset), saved for this request."""
    from products.image import service

    (png, _, _), = service.pictures(prompt, seed=options.seed, steps=options.image_steps)
    path = request_dir("call-image") / "header.png"
    path.write_bytes(png)
    return str(path)
