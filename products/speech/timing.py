"""Segment times held to where speech really is. Whisper's word times (cross-attention alignment)
drift a few tenths of a second into the noise around speech, most at the first and last word of a
segment. With VAD on, every segment's start is moved forward to the start of the first stretch of
speech it overlaps and its end back to the end of the last one (Silero VAD from faster-whisper, 50 ms
padding), for both engines. Measured: bench/bench_speech_timing.py.
"""
from __future__ import annotations

from dataclasses import replace

import numpy as np

from products.speech.engines import SAMPLE_RATE, Segment

PAD_MS = 50


def speech_regions(samples: np.ndarray) -> list[tuple[float, float]]:
    """(start, end) seconds of speech, by Silero VAD; [] when faster-whisper is not installed."""
    try:
        from faster_whisper.vad import VadOptions, get_speech_timestamps
    except ImportError:
        return []
    options = VadOptions(min_silence_duration_ms=200, speech_pad_ms=PAD_MS)
    return [(r["start"] / SAMPLE_RATE, r["end"] / SAMPLE_RATE) for r in get_speech_timestamps(samples, options)]


def snap(segments: list[Segment], regions: list[tuple[float, float]]) -> list[Segment]:
    """Each segment trimmed to the speech it overlaps (left as it is when it overlaps none)."""
    out = []
    for segment in segments:
        inside = [r for r in regions if r[1] > segment.start and r[0] < segment.end]
        if not inside:
            out.append(segment)
            continue
        start, end = max(segment.start, inside[0][0]), min(segment.end, inside[-1][1])
        words = list(segment.words)
        if words:  # the outer words follow, so word-cut subtitle cues agree with the segment
            words[0] = replace(words[0], start=min(max(words[0].start, start), words[0].end))
            words[-1] = replace(words[-1], end=max(min(words[-1].end, end), words[-1].start))
        out.append(replace(segment, start=start, end=max(end, start), words=tuple(words)))
    return out
