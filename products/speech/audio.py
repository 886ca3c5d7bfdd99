"""Decode any audio or video upload to 16 kHz mono float32 with the ffmpeg binary (Debian's).

ffprobe first says whether the file is media at all, whether it has an audio track, and how long
it is, so a bad file gets a clear message before anything heavy runs.
"""
from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import numpy as np

from shared.i18n import t
from shared.ui import UserError

SAMPLE_RATE = 16000
SILENCE_PEAK = 10 ** (-60 / 20)  # below -60 dBFS everywhere: silence


def _binary(name: str) -> str:
    path = shutil.which(name)
    if not path:
        raise RuntimeError(f"the {name} binary is not installed (apt-get install -y ffmpeg)")
    return path


def probe(path: str, lang: str = "en") -> float:
    """The duration in seconds of the file's first audio track; UserError if it has none."""
    proc = subprocess.run(
        [_binary("ffprobe"), "-v", "error", "-print_format", "json", "-show_format", "-show_streams", path],
        capture_output=True, text=True, timeout=120)
    if proc.returncode != 0:
        raise UserError(t("speech.error.not_media", lang, name=Path(path).name))
    data = json.loads(proc.stdout or "{}")
    streams = data.get("streams", [])
    audio = [s for s in streams if s.get("codec_type") == "audio"]
    if not audio:
        key = "speech.error.no_audio_track" if streams else "speech.error.not_media"
        raise UserError(t(key, lang, name=Path(path).name))
    for value in (audio[0].get("duration"), data.get("format", {}).get("duration")):
        try:
            return float(value)
        except (TypeError, ValueError):
            continue
    return 0.0  # unknown (some streams); decode() enforces the limit itself


def load_audio(path: str | None, max_seconds: float, max_bytes: int | None = None, lang: str = "en") -> np.ndarray:
    """16 kHz mono float32 samples of an upload, with a clear UserError for every bad case."""
    if not path:
        raise UserError(t("speech.error.no_file", lang))
    file = Path(path)
    if not file.is_file():
        raise UserError(t("speech.error.no_file", lang))
    size = file.stat().st_size
    if size == 0:
        raise UserError(t("speech.error.empty", lang, name=file.name))
    if max_bytes and size > max_bytes:
        raise UserError(t("speech.error.too_big", lang, name=file.name, mb=size / 1e6, limit=max_bytes / 1e6))
    duration = probe(str(file), lang)
    if duration > max_seconds:
        raise UserError(t("speech.error.too_long", lang, seconds=duration, limit=max_seconds))
    proc = subprocess.run(
        [_binary("ffmpeg"), "-nostdin", "-v", "error", "-i", str(file), "-map", "0:a:0", "-vn",
         "-ac", "1", "-ar", str(SAMPLE_RATE), "-t", str(max_seconds + 1), "-f", "f32le", "-"],
        capture_output=True, timeout=max(600, max_seconds))
    samples = np.frombuffer(proc.stdout, np.float32).copy()
    if proc.returncode != 0 and samples.size == 0:
        detail = proc.stderr.decode("utf-8", "replace").strip().splitlines()[-1:] or [""]
        raise UserError(t("speech.error.corrupt", lang, name=file.name, detail=detail[0][:200]))
    if samples.size == 0:
        raise UserError(t("speech.error.empty", lang, name=file.name))
    if samples.size > max_seconds * SAMPLE_RATE:
        raise UserError(t("speech.error.too_long", lang, seconds=samples.size / SAMPLE_RATE, limit=max_seconds))
    return samples


def check_not_silent(samples: np.ndarray, lang: str = "en") -> None:
    if samples.size == 0 or float(np.max(np.abs(samples))) < SILENCE_PEAK:
        raise UserError(t("speech.error.silent", lang))
