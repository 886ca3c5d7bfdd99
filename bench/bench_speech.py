"""Speech-to-text benchmark: real-time factor and peak RSS per engine and model, the app's
pipeline (products.speech.core.transcribe) against the raw library call on the same loaded model,
in the same process, on a generated espeak-ng passage of at least 60 s.

    OMP_WAIT_POLICY=PASSIVE nice -n 10 python bench/bench_speech.py [--cases base/faster-whisper,...] [--repeat 2]

Each case runs in its own process so its peak RSS is its own. RTF = seconds / audio seconds
(lower is better); overhead = app / raw - 1 (best of --repeat runs each, alternating).
"""
from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
import shared  # noqa: E402,F401  (sets OMP_WAIT_POLICY before torch)

CASES = ["base/faster-whisper", "base/openai-whisper", "tiny.en/faster-whisper", "tiny.en/openai-whisper"]


def make_audio(folder: Path) -> Path:
    from tests.speech_support import PASSAGE, speak

    return speak(" ".join([PASSAGE] * 3), folder / "bench.wav")


def run_case(case: str, wav: str, repeat: int) -> dict:
    from products.speech import core
    from products.speech.engines import Options
    from shared.models import registry

    model, engine = case.split("/")
    samples = core.load_audio(wav)
    duration = samples.size / 16000
    options = dict(beam_size=core.beam_size(), word_timestamps=False)  # as the raw call
    start = time.perf_counter()
    with registry.use(f"speech-{model}/{engine}") as runner:
        load_s = time.perf_counter() - start

        def raw():
            if engine == "faster-whisper":
                segments, _ = runner.model.transcribe(samples, beam_size=options["beam_size"],
                                                      best_of=options["beam_size"])
                return " ".join(s.text.strip() for s in segments)
            import whisper

            return whisper.transcribe(runner.model, samples, verbose=None, fp16=False)["text"]

        def app():
            return core.run_to_end(samples, model=model, engine=engine, options=Options(**options)).text

        raw_times, app_times = [], []
        for _ in range(repeat):
            for fn, times in ((raw, raw_times), (app, app_times)):
                t0 = time.perf_counter()
                text = fn()
                times.append(time.perf_counter() - t0)
    from tests.speech_support import PASSAGE, wer

    raw_s, app_s = min(raw_times), min(app_times)
    return {"case": case, "audio_s": round(duration, 1), "load_s": round(load_s, 2),
            "raw_rtf": round(raw_s / duration, 4), "app_rtf": round(app_s / duration, 4),
            "overhead": round(app_s / raw_s - 1, 4),
            "peak_rss_MB": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
            "wer": round(wer(" ".join([PASSAGE] * 3), text), 4)}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--cases", default=",".join(CASES))
    parser.add_argument("--repeat", type=int, default=2)
    parser.add_argument("--one", help=argparse.SUPPRESS)
    parser.add_argument("--wav", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        print(json.dumps(run_case(args.one, args.wav, args.repeat)))
        return
    with tempfile.TemporaryDirectory() as tmp:
        wav = make_audio(Path(tmp))
        print(f"{'case':26} {'audio s':>7} {'load s':>7} {'raw RTF':>8} {'app RTF':>8} {'overhead':>9} {'peak RSS':>9} {'WER':>6}")
        for case in args.cases.split(","):
            proc = subprocess.run([sys.executable, __file__, "--one", case, "--wav", str(wav), "--repeat",
                                   str(args.repeat)], capture_output=True, text=True)
            if proc.returncode != 0:
                print(f"{case:26} failed: {proc.stderr.strip().splitlines()[-1:]}")
                continue
            r = json.loads(proc.stdout.strip().splitlines()[-1])
            print(f"{r['case']:26} {r['audio_s']:7.1f} {r['load_s']:7.2f} {r['raw_rtf']:8.4f} {r['app_rtf']:8.4f} "
                  f"{r['overhead']:+9.1%} {r['peak_rss_MB']:7d}MB {r['wer']:6.1%}")


if __name__ == "__main__":
    main()
