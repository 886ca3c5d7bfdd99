"""Every extracted item is held to what the customer said: its evidence becomes the customer's own
sentence (a small model paraphrases "quotes" and sometimes quotes the wrong turn), and an item that shares
nothing with anything the customer said is dropped as made up."""
from __future__ import annotations

import re

# Words that say nothing about which sentence an item comes from.
_STOP = set("""a an the and or but so to of in on at for with from by as is are was were be been it its this that
these those i we you he she they me my our your their them us do does did not no yes very really just
about after before again also all any can could would should will there here then than too up out over
what which who when where how why if because into only some more most much many one two customer said
says say told tell item issue complaint complained problem""".split())
_SENTENCE = re.compile(r"[^.!?。！？；;]+[.!?。！？；;]*")


def stems(text: str) -> set[str]:
    """English words without common endings ("waited" and "wait" meet), and Chinese character pairs."""
    text = text.lower()
    out = set()
    for word in re.findall(r"[a-z0-9']+", text):
        word = word.strip("'")
        if word in _STOP or len(word) < 2:
            continue
        for ending in ("ing", "ed", "es", "ly", "s"):
            if word.endswith(ending) and len(word) - len(ending) >= 3:
                word = word[: -len(ending)]
                break
        out.add(word)
    for run in re.findall(r"[\u3400-\u9fff]+", text):
        out.update(run[i:i + 2] for i in range(len(run) - 1))
    return out


def sentences(text: str) -> list[str]:
    return [s.strip() for s in _SENTENCE.findall(text) if s.strip()]


def _plain(text: str) -> str:
    return re.sub(r"\s+", " ", text.strip().strip("\"'“”").lower())


def ground(issue: str, evidence: str, turns, speaker) -> tuple[int, str] | None:
    """(turn index, quote) for an item: the customer's sentence that shares most with it, the issue's
    words counting double (small models quote a real sentence of the wrong complaint, or paraphrase);
    the model's evidence is the quote when the customer said it word for word there. None when no
    customer sentence shares a word with the item. `speaker` None looks in every turn."""
    issue_stems, evidence_stems, said = stems(issue), stems(evidence), _plain(evidence)
    best, best_score = None, 0
    for i, turn in enumerate(turns):
        if speaker is not None and turn.speaker != speaker:  # None: no one has the customer's role
            continue
        for sentence in sentences(turn.text):
            have = stems(sentence)
            score = 2 * len(issue_stems & have) + len(evidence_stems & have)
            if score > best_score:
                best, best_score = (i, sentence), score
    if best is None:
        return None
    turn, sentence = best
    verbatim = len(said) >= 6 and said in _plain(turns[turn].text) and (
        _plain(sentence) in said or said in _plain(sentence))
    return turn, (evidence.strip().strip("\"'“”") if verbatim else sentence)
