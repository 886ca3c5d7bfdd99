"""Speak the scripted calls (calls.py) with espeak-ng: two clearly different voices per call, 0.4-0.8 s
between turns, light background noise, 16 kHz mono FLAC; beside each audio a JSON with the script, the
answer key and the true start/end of every turn in the mixed audio (the voiced part: espeak-ng's own
leading and trailing silence is cut off), so speaker labels can be scored by time overlap.

    python -m workflows.customer_call.tools.make_audio --examples --out assets/calls   # the 2 bundled ones
    python -m workflows.customer_call.tools.make_audio --all --out out/calls           # every call

Deterministic for a given espeak-ng: pauses and noise come from a seed made of the call's id.
"""
from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import zlib
from math import gcd
from pathlib import Path

import numpy as np

from workflows.customer_call.tools.calls import BY_ID, CALLS, Script, select

RATE = 16000
SPEECH_RMS = 0.07  # about -23 dBFS per turn
NOISE_DB = -30.0  # background noise this far below the speech level
PAUSE = (0.4, 0.8)  # seconds of silence (noise) between turns
LEAD, TAIL = (0.6, 1.0), 0.6
# (agent, customer) voices per language, cycled over the calls of that language: a male and a female
# variant each time, swapping who is who. "+f2" is the Mandarin variant Whisper recognises as Chinese
# (tests/speech_support.py); the pinyin voice reads the tone-numbered pinyin of calls.py.
VOICES = {
    "en": [("en-us+m3", "en-gb+f4"), ("en-gb+f2", "en-us+m1"), ("en-us+m7", "en-gb+f3"),
           ("en-gb+f4", "en-us+m3"), ("en-us+m1", "en-gb+f2")],
    "zh": [("cmn-latn-pinyin+m3", "cmn-latn-pinyin+f2"), ("cmn-latn-pinyin+f2", "cmn-latn-pinyin+m3"),
           ("cmn-latn-pinyin+m1", "cmn-latn-pinyin+f4"), ("cmn-latn-pinyin+f4", "cmn-latn-pinyin+m1"),
           ("cmn-latn-pinyin+m3", "cmn-latn-pinyin+f4")],
}
SPEED = {"en": 170, "zh": 185}  # words per minute, espeak-ng's -s


def voices(script: Script) -> dict[str, str]:
    same = [c.id for c in CALLS if c.language == script.language]
    agent, customer = VOICES[script.language][same.index(script.id) % len(VOICES[script.language])]
    return {"agent": agent, "customer": customer}


def seed(script: Script) -> int:
    return zlib.crc32(script.id.encode())


def espeak_version() -> str:
    out = subprocess.run(["espeak-ng", "--version"], check=True, capture_output=True, text=True).stdout
    return out.split("Data at")[0].strip()


def speak(text: str, voice: str, speed: int, folder: Path) -> np.ndarray:
    """One utterance as float32 samples at RATE, trimmed to its voiced part and set to SPEECH_RMS."""
    import soundfile as sf
    from scipy.signal import resample_poly

    path = folder / "turn.wav"
    subprocess.run(["espeak-ng", "-v", voice, "-s", str(speed), "-w", str(path), text], check=True,
                   capture_output=True)
    samples, rate = sf.read(str(path), dtype="float32", always_2d=False)
    if samples.ndim > 1:
        samples = samples.mean(axis=1)
    if rate != RATE:
        g = gcd(RATE, rate)
        samples = resample_poly(samples, RATE // g, rate // g).astype(np.float32)
    loud = np.flatnonzero(np.abs(samples) > 0.005 * max(1e-9, float(np.abs(samples).max())))
    if not len(loud):
        raise RuntimeError(f"espeak-ng produced silence for {text[:40]!r} ({voice})")
    samples = samples[loud[0]:loud[-1] + 1]
    return samples * (SPEECH_RMS / max(1e-9, float(np.sqrt(np.mean(samples ** 2)))))


def noise(n: int, rng: np.random.Generator) -> np.ndarray:
    """Soft, slightly low-passed hiss with a faint mains hum: a quiet room on a phone line."""
    from scipy.signal import lfilter

    hiss = lfilter([0.3], [1.0, -0.95], rng.standard_normal(n)).astype(np.float32)
    hiss /= max(1e-9, float(np.sqrt(np.mean(hiss ** 2))))
    t = np.arange(n, dtype=np.float32) / RATE
    hum = 0.3 * np.sin(2 * np.pi * 50.0 * t + rng.uniform(0, 2 * np.pi)).astype(np.float32)
    bed = hiss + hum
    return bed * (SPEECH_RMS * 10 ** (NOISE_DB / 20) / float(np.sqrt(np.mean(bed ** 2))))


def render(script: Script) -> tuple[np.ndarray, list[dict], dict]:
    """The call's mixed samples, its turns with true times, and how it was made."""
    rng = np.random.default_rng(seed(script))
    who = voices(script)
    speed = SPEED[script.language]
    spoken = script.spoken or tuple(text for _, text in script.turns)
    pieces, turns = [], []
    with tempfile.TemporaryDirectory() as tmp:
        at = float(rng.uniform(*LEAD))
        for (speaker, text), say in zip(script.turns, spoken):
            gap = float(rng.uniform(*PAUSE))
            samples = speak(say, who[speaker], speed, Path(tmp))
            start = round(at * RATE)
            pieces.append((start, samples))
            turns.append({"speaker": speaker, "text": text, **({"spoken": say} if say != text else {}),
                          "start": round(start / RATE, 3), "end": round((start + len(samples)) / RATE, 3)})
            at = (start + len(samples)) / RATE + gap
    total = pieces[-1][0] + len(pieces[-1][1]) + round(TAIL * RATE)
    mix = noise(total, rng)
    for start, samples in pieces:
        mix[start:start + len(samples)] += samples
    peak = float(np.abs(mix).max())
    if peak > 0.98:
        mix *= 0.98 / peak
    made = {"tool": "espeak-ng", "espeak_version": espeak_version(), "voices": who, "speed_wpm": speed,
            "seed": seed(script), "sample_rate": RATE, "noise_db_below_speech": -NOISE_DB,
            "pause_s": list(PAUSE)}
    return mix, turns, made


def make(script: Script, out: Path, force: bool = False) -> Path:
    """Write <out>/<id>.flac and <id>.json (unless both exist and not `force`); return the audio path."""
    import soundfile as sf

    out.mkdir(parents=True, exist_ok=True)
    audio, meta = out / f"{script.id}.flac", out / f"{script.id}.json"
    if audio.exists() and meta.exists() and not force:
        return audio
    mix, turns, made = render(script)
    sf.write(str(audio), mix, RATE, format="FLAC", subtype="PCM_16")
    data = {**script.to_json(), "audio": audio.name, "duration": round(len(mix) / RATE, 3),
            "turns": turns, "made": made}
    meta.write_text(json.dumps(data, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    return audio


def load(meta: Path) -> dict:
    """The JSON written beside an audio."""
    return json.loads(Path(meta).read_text(encoding="utf-8"))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    which = parser.add_mutually_exclusive_group()
    which.add_argument("--all", action="store_true", help="every call")
    which.add_argument("--examples", action="store_true", help="the 2 bundled example calls (default)")
    which.add_argument("--split", choices=("example", "tune", "held_out"))
    which.add_argument("--ids", nargs="+", choices=sorted(BY_ID), help="these calls")
    parser.add_argument("--out", type=Path, default=Path("assets/calls"))
    parser.add_argument("--force", action="store_true", help="write again even if present")
    args = parser.parse_args(argv)
    chosen = (list(CALLS) if args.all else [BY_ID[i] for i in args.ids] if args.ids
              else select(args.split) if args.split else select("example"))
    for script in chosen:
        audio = make(script, args.out, force=args.force)
        data = load(audio.with_suffix(".json"))
        print(f"{audio}  {data['duration']:.1f} s  {audio.stat().st_size / 1e6:.2f} MB  "
              f"{script.language}  {script.split}  {data['made']['voices']}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
