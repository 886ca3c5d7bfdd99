"""Helpers (no tests) for the Speech-to-text tests and bench: audio spoken by espeak-ng, converted by ffmpeg, and WER."""
from __future__ import annotations

import subprocess
from pathlib import Path

PASSAGE = ("Speech recognition turns spoken words into written text. "
           "This product runs entirely on the server without any internet connection. "
           "Please send the quarterly report to the finance team before Friday. "
           "The weather today is sunny with a light breeze from the west. "
           "Our meeting starts in the main conference room after lunch.")
# Debian's espeak-ng Mandarin dictionary has almost no Hanzi (it reads them as English), so the
# Chinese sample is written in pinyin for the pinyin voice; "+f2" is the voice variant Whisper base
# recognises as Chinese (zh 0.92 here; the plain voice is heard as Thai).
CHINESE_PINYIN = ("da4 jia1 hao3. huan1 ying2 lai2 dao4 wo3 men de jie2 mu4. jin1 tian1 wo3 men yao4 tao3 lun4 "
                  "ren2 gong1 zhi4 neng2 de fa1 zhan3. ren2 gong1 zhi4 neng2 zheng4 zai4 gai3 bian4 wo3 men de "
                  "sheng1 huo2 he2 gong1 zuo4 fang1 shi4. xie4 xie4 da4 jia1.")
# The translation check speaks Spanish: Whisper base translates it to the same English on every
# CTranslate2 compute type (int8, int8_float32, int16, float32), while its translation of the
# synthetic Mandarin changes with the CPU's int8 kernels (sometimes it stays Chinese).
SPANISH = ("Buenos días y bienvenidos a nuestro programa. Hoy hablamos del desarrollo de la inteligencia "
           "artificial. Está cambiando nuestra vida y nuestro trabajo. Muchas gracias.")


def speak(text: str, path: Path, voice: str = "en-us", speed: int = 150) -> Path:
    subprocess.run(["espeak-ng", "-v", voice, "-s", str(speed), "-w", str(path), text], check=True,
                   capture_output=True)
    return path


def convert(src: Path, dst: Path, *args: str) -> Path:
    subprocess.run(["ffmpeg", "-nostdin", "-v", "error", "-y", *args, "-i", str(src), str(dst)], check=True,
                   capture_output=True)
    return dst


def to_video(src: Path, dst: Path) -> Path:
    """An mp4 with a colour video track and the speech as its audio track."""
    subprocess.run(["ffmpeg", "-nostdin", "-v", "error", "-y", "-f", "lavfi", "-i", "color=c=blue:s=64x48:r=5",
                    "-i", str(src), "-shortest", "-c:v", "mpeg4", "-c:a", "aac", str(dst)], check=True,
                   capture_output=True)
    return dst


def normalize(text: str) -> list[str]:
    import re

    return re.sub(r"[^a-z0-9' ]+", " ", text.lower()).split()


def wer(reference: str, hypothesis: str) -> float:
    ref, hyp = normalize(reference), normalize(hypothesis)
    row = list(range(len(hyp) + 1))
    for i, r in enumerate(ref, 1):
        prev, row[0] = row[0], i
        for j, h in enumerate(hyp, 1):
            prev, row[j] = row[j], min(row[j] + 1, row[j - 1] + 1, prev + (r != h))
    return row[-1] / max(1, len(ref))


def _sox(*args: str) -> None:
    subprocess.run(["sox", *args], check=True, capture_output=True)


def scene(parts: list[tuple[float, str, str]], path: Path, duration: float, noise: float = 0.02,
          speed: int = 150) -> tuple[Path, list[tuple[float, float, str]]]:
    """16 kHz audio of `duration` s in brown noise (line noise), each (offset, text, voice) utterance's
    voiced part starting exactly at its offset; returns the path and the reference (start, end, voice)
    spans. espeak-ng's own leading and trailing silence is trimmed off first, so the spans are the speech."""
    folder = path.parent / f"{path.stem}-parts"
    folder.mkdir(parents=True, exist_ok=True)
    inputs, spans = [], []
    for i, (offset, text, voice) in enumerate(parts):
        raw = speak(text, folder / f"{i}.raw.wav", voice=voice, speed=speed)
        trimmed = folder / f"{i}.wav"
        # at most 0.02 s below 0.5% at either end: what is left starts and ends with speech
        _sox(str(raw), "-r", "16000", "-c", "1", str(trimmed), "silence", "1", "0.02", "0.5%",
             "reverse", "silence", "1", "0.02", "0.5%", "reverse", "pad", str(offset))
        length = float(subprocess.run(["soxi", "-D", str(trimmed)], check=True, capture_output=True,
                                      text=True).stdout) - offset
        spans.append((offset, offset + length, voice))
        inputs += ["-v", "1", str(trimmed)]
    bed = folder / "noise.wav"
    _sox("-n", "-r", "16000", "-c", "1", str(bed), "synth", str(duration), "brownnoise", "vol", str(noise))
    _sox("-m", "-v", "1", str(bed), *inputs, "-b", "16", str(path), "trim", "0", str(duration))
    return path, spans


# A two-voice phone call with known turns (voice A: en-us, voice B: en-us+f4), after 6.7 s of line noise.
CALL = (32.0, [
    (6.7, "Good morning, this is the front desk. How can I help you?", "en-us"),
    (12.2, "Hello. I would like to book a table for two people tonight.", "en-us+f4"),
    (17.9, "Of course. What time would you like to come in?", "en-us"),
    (22.4, "Around eight o'clock, if that is possible.", "en-us+f4"),
    (26.6, "Eight o'clock is fine. Your name, please?", "en-us"),
])


def der(reference: list[tuple[float, float, str]], hypothesis: list[tuple[float, float, str]],
        collar: float = 0.25) -> float:
    """Diarization error rate (pyannote.metrics; labels matched optimally; `collar` s forgiven around
    each reference boundary, as in the NIST evaluations)."""
    from pyannote.core import Annotation, Segment as Span
    from pyannote.metrics.diarization import DiarizationErrorRate

    ref, hyp = Annotation(), Annotation()
    for i, (a, b, who) in enumerate(reference):
        ref[Span(a, b), i] = who
    for i, (a, b, who) in enumerate(hypothesis):
        hyp[Span(a, b), i] = who
    extent = Span(0.0, max(b for _, b, _ in reference + hypothesis))
    from pyannote.core import Timeline

    return float(DiarizationErrorRate(collar=collar)(ref, hyp, uem=Timeline([extent])))
