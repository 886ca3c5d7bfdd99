"""Segment timing accuracy, speed and WER of the speech pipeline on recordings with leading noise and
pauses, against reference times: espeak-ng utterances placed at known offsets in brown noise with sox
(tests/speech_support.scene), so each utterance's real start and end are known to the sample.

    OMP_WAIT_POLICY=PASSIVE nice -n 10 python bench/bench_speech_timing.py [--engines faster-whisper,openai-whisper]

For each reference utterance, the start error is the distance from its real start to the nearest
segment start, the end error from its real end to the nearest segment end (a subtitle cue that begins
6.7 s early counts 6.7 s). Every setting runs on the same loaded base model, in the same process.
"VAD" is faster-whisper's Silero filter (silence skipped) and, for both engines, the final segment
times trimmed to the speech Silero finds (products/speech/timing.py); openai-whisper has only the latter.
"""
from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
import shared  # noqa: E402,F401  (sets OMP_WAIT_POLICY before torch)
from tests.speech_support import CALL  # noqa: E402

A, B = "en-us", "en-gb+m3"
SCENES = {  # name: (duration, [(offset, text, voice)])
    "call, 6.7 s of line noise first": (32.0, [
        (6.7, "Hello, thanks for calling the support line. How can I help you today?", A),
        (13.0, "Hi. My internet has been down since this morning and I work from home.", B),
        (21.5, "I am sorry to hear that. Let me check your line right now.", A),
        (28.0, "Thank you, I will wait.", B)]),
    "booking call, two voices": CALL,
    "dictation with long pauses": (75.0, [
        (3.2, "Please send the quarterly report to the finance team before Friday.", A),
        (17.5, "The weather today is sunny with a light breeze from the west.", A),
        (34.0, "Our meeting starts in the main conference room after lunch.", A),
        (52.3, "Speech recognition turns spoken words into written text.", A),
        (66.0, "This product runs entirely on the server.", A)]),
}
SETTINGS = {  # label: (word timestamps, VAD)
    "segments only (old default)": (False, False),
    "word timestamps": (True, False),
    "VAD": (False, True),
    "word timestamps + VAD": (True, True),
}


def boundary_errors(segments, spans):
    starts = [s.start for s in segments] or [0.0]
    ends = [s.end for s in segments] or [0.0]
    return ([min(abs(x - a) for x in starts) for a, _, _ in spans],
            [min(abs(x - b) for x in ends) for _, b, _ in spans])


def run(engines: list[str], folder: Path) -> list[dict]:
    from products.speech import core
    from tests.speech_support import scene, wer

    scenes = {}
    for i, (name, (duration, parts)) in enumerate(SCENES.items()):
        path, spans = scene(parts, folder / f"scene{i}.wav", duration)
        scenes[name] = (core.load_audio(str(path)), spans, " ".join(text for _, text, _ in parts))
    rows = []
    for engine in engines:
        for label, (words, vad) in SETTINGS.items():
            errors_start, errors_end, wers, seconds, audio = [], [], [], 0.0, 0.0
            for name, (samples, spans, text) in scenes.items():
                options = core.default_options(word_timestamps=words, vad_filter=vad, language="en")
                core.run_to_end(samples[:int(spans[0][1] * 16000)], model="base", engine=engine,
                                options=options)  # the model loaded and warm before the clock starts
                t0 = time.perf_counter()
                update = core.run_to_end(samples, model="base", engine=engine, options=options)
                seconds += time.perf_counter() - t0
                audio += samples.size / 16000
                s, e = boundary_errors(update.segments, spans)
                errors_start += s
                errors_end += e
                wers.append(wer(text, update.text))
            both = errors_start + errors_end
            rows.append({"engine": engine, "setting": label, "utterances": len(errors_start),
                         "start_mean": round(statistics.mean(errors_start), 3),
                         "end_mean": round(statistics.mean(errors_end), 3),
                         "median": round(statistics.median(both), 3), "max": round(max(both), 3),
                         "within_0.3s": round(sum(x <= 0.3 for x in both) / len(both), 3),
                         "rtf": round(seconds / audio, 4), "wer": round(statistics.mean(wers), 4)})
            print(json.dumps(rows[-1]), flush=True)
    return rows


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--engines", default="faster-whisper,openai-whisper")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        rows = run(args.engines.split(","), Path(folder))
    print("\n| engine | setting | start error, mean | end error, mean | median | max | within 0.3 s | RTF | WER |")
    print("|---|---|---|---|---|---|---|---|---|")
    for r in rows:
        print(f"| {r['engine']} | {r['setting']} | {r['start_mean']:.2f} s | {r['end_mean']:.2f} s | {r['median']:.2f} s "
              f"| {r['max']:.2f} s | {r['within_0.3s']:.0%} | {r['rtf']:.3f} | {r['wer']:.1%} |")


if __name__ == "__main__":
    main()
