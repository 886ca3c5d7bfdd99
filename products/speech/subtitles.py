"""Transcript files: SRT, WebVTT, plain text and JSON, with subtitle line wrapping.

Wrapping follows openai-whisper's `max_line_width` / `max_line_count`: with word timestamps, cues
are cut at word boundaries and take their words' times; without them, the segment's text is
wrapped at spaces (or anywhere, for text without spaces such as Chinese) and its time split in
proportion to the characters. A cue never spans two segments. With speakers, SRT and TXT lines start with `[SPEAKER_01] `
and WebVTT cues carry a voice tag (`<v SPEAKER_01>`); JSON segments have a `speaker` field.
"""
from __future__ import annotations

import json
import re
import textwrap
from dataclasses import asdict

from products.speech.engines import Segment, Word


def timestamp(seconds: float, marker: str = ",") -> str:
    millis = max(0, round(seconds * 1000))
    hours, millis = divmod(millis, 3_600_000)
    minutes, millis = divmod(millis, 60_000)
    secs, millis = divmod(millis, 1000)
    return f"{hours:02d}:{minutes:02d}:{secs:02d}{marker}{millis:03d}"


def _wrap_words(words: tuple[Word, ...], width: int | None, count: int | None):
    cues, lines, line, start, prev_end = [], [], "", None, None
    for word in words:
        text = word.word.strip()
        if not text:
            continue
        if start is None:
            start = word.start
        if line and width and len(line) + 1 + len(text) > width:
            lines.append(line)
            line = ""
            if count and len(lines) >= count:
                cues.append([start, prev_end, "\n".join(lines)])
                lines, start = [], word.start
        line = f"{line} {text}" if line else text
        prev_end = word.end
    if line:
        lines.append(line)
    if lines:
        cues.append([start, prev_end, "\n".join(lines)])
    return [tuple(c) for c in cues]


def _wrap_text(segment: Segment, width: int | None, count: int | None):
    text = " ".join(segment.text.split())
    if not text:
        return []
    lines = textwrap.wrap(text, width, break_long_words=True, break_on_hyphens=False) if width else [text]
    per = count or len(lines)
    groups = [lines[i:i + per] for i in range(0, len(lines), per)]
    total = sum(len(line) for line in lines) or 1
    cues, start, done = [], segment.start, 0
    for group in groups:
        done += sum(len(line) for line in group)
        end = segment.start + (segment.end - segment.start) * done / total
        cues.append((start, end, "\n".join(group)))
        start = end
    return cues


def cues(segments: list[Segment], max_line_width: int | None = None, max_line_count: int | None = None):
    """[(start, end, text with newlines)] for subtitles."""
    width = max_line_width or None
    count = max_line_count or None
    out = []
    for segment in segments:
        if not segment.text.strip():
            continue
        if width is None and count is None:
            out.append((segment.start, segment.end, segment.text.strip()))
        elif segment.words:
            out.extend(_wrap_words(segment.words, width, count))
        else:
            out.extend(_wrap_text(segment, width, count))
    return out


def _speaker_cues(segments, max_line_width, max_line_count):
    return [(start, end, text, segment.speaker) for segment in segments
            for start, end, text in cues([segment], max_line_width, max_line_count)]


def _tag(speaker: str, text: str, form: str = "[{}] ") -> str:
    return f"{form.format(speaker)}{text}" if speaker else text


def to_srt(segments, max_line_width=None, max_line_count=None) -> str:
    blocks = [f"{i}\n{timestamp(s)} --> {timestamp(e)}\n{_tag(who, text)}\n"
              for i, (s, e, text, who) in enumerate(_speaker_cues(segments, max_line_width, max_line_count), start=1)]
    return "\n".join(blocks)


def to_vtt(segments, max_line_width=None, max_line_count=None) -> str:
    blocks = [f"{timestamp(s, '.')} --> {timestamp(e, '.')}\n{_tag(who, text, '<v {}>')}\n"
              for s, e, text, who in _speaker_cues(segments, max_line_width, max_line_count)]
    return "WEBVTT\n\n" + "\n".join(blocks)


def to_txt(segments) -> str:
    return "".join(f"{_tag(s.speaker, s.text.strip())}\n" for s in segments if s.text.strip())


def to_json(segments, info: dict | None = None) -> str:
    return json.dumps({**(info or {}), "text": " ".join(s.text.strip() for s in segments if s.text.strip()),
                       "segments": [asdict(s) for s in segments]}, ensure_ascii=False, indent=1)


_TIME = r"(\d+):(\d\d):(\d\d)[,.](\d{3})"


def _seconds(match: tuple[str, ...]) -> float:
    h, m, s, ms = (int(x) for x in match)
    return h * 3600 + m * 60 + s + ms / 1000


def parse_cues(text: str) -> list[tuple[float, float, str]]:
    """Read SRT or WebVTT back into (start, end, text) cues."""
    out = []
    for block in re.split(r"\n\s*\n", text.replace("\r\n", "\n").strip()):
        lines = block.split("\n")
        for i, line in enumerate(lines):
            m = re.match(rf"{_TIME}\s*-->\s*{_TIME}", line.strip())
            if m:
                out.append((_seconds(m.groups()[:4]), _seconds(m.groups()[4:]), "\n".join(lines[i + 1:]).strip()))
                break
    return out
