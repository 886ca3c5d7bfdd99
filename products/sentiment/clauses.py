"""Mixed reviews: a text split into clauses, each scored, and an overall label that can be "mixed".

"The battery life is fantastic but the screen scratches way too easily." is one sentence with two
opinions; scored whole it comes back confidently positive. Split at sentence ends and before contrast
words (but / however / although / 但是 / 不过 / 可是 ...), each clause gets its own label, and the text
is "mixed" when at least one clause is confidently positive and another confidently negative.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

CONFIDENT = 0.6  # a clause counts towards "mixed" when its label's probability is at least this

_WORDS_EN = r"but|however|although|though|yet|whereas|nevertheless|nonetheless|on the other hand|except that"
_WORDS_ZH = r"但是|不过|可是|然而|只是|但|却是"
_ONLY_CONTRAST = re.compile(rf"\W*(?:{_WORDS_EN}|{_WORDS_ZH})?\W*", re.IGNORECASE)  # "But." is not a clause
# Sentence ends: split after them (the mark stays with its clause).
_SENTENCE_END = re.compile(r"(?<=[.!?;。！？；…])\s*|\n+")
# Contrast words: split before them. English only as whole words after a comma or a space.
_CONTRAST_EN = re.compile(rf"[,\s]+(?=(?:{_WORDS_EN})\b)", re.IGNORECASE)
_CONTRAST_ZH = re.compile(r"[，,、\s]*(?=但是|不过|可是|然而|只是|但(?!愿|凡)|却是)")


@dataclass
class Clause:
    text: str
    label: str
    confidence: float


def split_clauses(text: str, lang: str) -> list[str]:
    """The text's clauses, in order, covering the text (whitespace at the cuts dropped)."""
    pieces = [p for p in _SENTENCE_END.split(text) if p and p.strip()]
    contrast = _CONTRAST_ZH if lang == "zh" else _CONTRAST_EN
    clauses: list[str] = []
    for piece in pieces:
        for part in contrast.split(piece):
            part = part.strip()
            if not part:
                continue
            if clauses and _ONLY_CONTRAST.fullmatch(part):
                clauses[-1] = f"{clauses[-1]} {part}" if lang != "zh" else clauses[-1] + part
            else:
                clauses.append(part)
    return clauses or [text.strip()]


def overall(whole_label: str, clauses: list[Clause]) -> str:
    """"mixed" when confident positive and confident negative clauses meet, else the whole text's label."""
    confident = {c.label for c in clauses if c.confidence >= CONFIDENT}
    return "mixed" if {"positive", "negative"} <= confident else whole_label


def highlighted(clauses: list[Clause]) -> list[tuple[str, str]]:
    """gr.HighlightedText's value: (clause, label) pairs with a space between clauses."""
    out: list[tuple[str, str | None]] = []
    for i, clause in enumerate(clauses):
        if i:
            out.append((" ", None))
        out.append((clause.text, clause.label))
    return out
