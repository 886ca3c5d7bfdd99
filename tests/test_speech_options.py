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
    assert Options().word_timestamps and core.default_options().word_timestamps
    # a segment spans its words (openai-whisper keeps its timestamp token's start otherwise)
    seg = Segment(21.48, 23.52, " I am sorry.", (Word(21.26, 21.5, " I", 0.9), Word(21.5, 22.8, " sorry.", 0.9)))
    assert (with_word_times(seg).start, with_word_times(seg).end) == (21.26, 22.8)
    assert with_word_times(Segment(1.0, 2.0, "x", ())) == Segment(1.0, 2.0, "x", ())


def test_table_shows_two_decimals():
    from products.speech.tab import _table

    assert _table([Segment(12.0, 13.456, " Hi.", ())]) == [["12.00", "13.46", "Hi."]]
    assert subtitles.timestamp(6.36) == "00:00:06,360"
