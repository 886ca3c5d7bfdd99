"""SRT and VTT from transcript segments (speaker names, when known, lead their cue)."""
from __future__ import annotations


def _clock(seconds: float, separator: str) -> str:
    millis = int(round(max(0.0, seconds) * 1000))
    hours, rest = divmod(millis, 3_600_000)
    minutes, rest = divmod(rest, 60_000)
    return f"{hours:02d}:{minutes:02d}:{rest // 1000:02d}{separator}{rest % 1000:03d}"


def _cue_text(segment) -> str:
    text = segment.text.strip()
    return f"{segment.speaker}: {text}" if segment.speaker else text


def as_srt(segments) -> str:
    cues = [f"{i}\n{_clock(s.start, ',')} --> {_clock(s.end, ',')}\n{_cue_text(s)}\n"
            for i, s in enumerate(segments, 1)]
    return "\n".join(cues)


def as_vtt(segments) -> str:
    cues = [f"{_clock(s.start, '.')} --> {_clock(s.end, '.')}\n{_cue_text(s)}\n" for s in segments]
    return "WEBVTT\n\n" + "\n".join(cues)
