"""What a scripted call is: its turns, the language, the split, and the answer key (see calls.py)."""
from __future__ import annotations

from dataclasses import dataclass

SPLITS = ("example", "tune", "held_out", "held_out_2", "held_out_3")
LANGUAGES = ("en", "zh")


@dataclass(frozen=True)
class Script:
    id: str
    language: str  # "en" | "zh"
    company: str
    topic: str
    split: str  # one of SPLITS
    turns: tuple[tuple[str, str], ...]  # (speaker "agent" | "customer", text)
    complaints: tuple[dict, ...]  # {"issue": short name, "keywords": [...]}
    liked: tuple[dict, ...] = ()
    spoken: tuple[str, ...] = ()  # per turn, what espeak-ng speaks when it differs (pinyin for zh)

    @property
    def example(self) -> bool:
        """One of the two calls bundled as the tab's demo examples."""
        return self.split == "example"

    @property
    def opener(self) -> str:
        return self.turns[0][0]

    def to_json(self) -> dict:
        return {"id": self.id, "language": self.language, "company": self.company, "topic": self.topic,
                "split": self.split, "example": self.example,
                "turns": [{"speaker": s, "text": t} for s, t in self.turns],
                "complaints": [dict(k) for k in self.complaints], "liked": [dict(k) for k in self.liked]}


def _key(issue: str, *keywords: str) -> dict:
    return {"issue": issue, "keywords": list(keywords)}


def _en(id: str, company: str, topic: str, split: str, turns, complaints, liked=()) -> Script:
    return Script(id, "en", company, topic, split, tuple(turns), tuple(complaints), tuple(liked))


def _zh(id: str, company: str, topic: str, split: str, turns, complaints, liked=()) -> Script:
    """Chinese turns are (speaker, Hanzi, pinyin)."""
    return Script(id, "zh", company, topic, split, tuple((s, text) for s, text, _ in turns),
                  tuple(complaints), tuple(liked), spoken=tuple(p for _, _, p in turns))


A, C = "agent", "customer"
