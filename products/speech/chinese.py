"""Chinese script of the transcript: Whisper writes Mandarin in Traditional or Simplified characters
as it happens to (often Traditional); users in mainland China expect Simplified. OpenCC (the official
`opencc` package, its dictionaries inside the wheel, offline) converts every segment and word, so all
downloads follow the choice.

`t2s` / `s2t` convert characters only: they never swap vocabulary (软体 stays 软体), so a
transcript is never reworded.
"""
from __future__ import annotations

from dataclasses import replace
from functools import lru_cache

from products.speech.engines import Segment

SCRIPTS = ("simplified", "traditional")
LANGUAGES = ("zh",)  # Whisper's code for Mandarin / written Chinese; Cantonese ("yue") is left as it is
_CONFIGS = {"simplified": "t2s", "traditional": "s2t"}


@lru_cache(maxsize=2)
def _converter(script: str):
    import opencc

    return opencc.OpenCC(_CONFIGS[script])


def convert_text(text: str, script: str) -> str:
    return _converter(script).convert(text) if text else text


def convert_segment(segment: Segment, script: str) -> Segment:
    """The segment with its text and every word in `script` (times and probabilities kept)."""
    words = tuple(replace(w, word=convert_text(w.word, script)) for w in segment.words)
    return replace(segment, text=convert_text(segment.text, script), words=words)


def applies(language: str | None, task: str) -> bool:
    """Conversion is for Chinese transcripts; a translation is English."""
    return task == "transcribe" and language in LANGUAGES
