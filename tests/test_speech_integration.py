"""Speech-to-text on the real embedded Whisper models (base, tiny.en), both engines, and the tab
through gradio_client. Audio is spoken by espeak-ng here; nothing is downloaded."""
from __future__ import annotations

import importlib.util

import numpy as np
import pytest

from products.speech import core, models, subtitles
from products.speech.engines import Options
from tests.speech_support import CHINESE_PINYIN, PASSAGE, SPANISH, convert, speak, wer
from tests.conftest import free_port

pytestmark = pytest.mark.integration
ENGINES = [e for e in models.ENGINES if importlib.util.find_spec(
    {"faster-whisper": "faster_whisper", "openai-whisper": "whisper"}[e])]


@pytest.fixture(scope="module")
def passage(tmp_path_factory):
    folder = tmp_path_factory.mktemp("speech-int")
    wav = speak(PASSAGE, folder / "passage.wav")
    return {"wav": wav, "mp3": convert(wav, folder / "passage.mp3"),
            "zh": speak(CHINESE_PINYIN, folder / "chinese.wav", voice="cmn-latn-pinyin+f2", speed=130),
            "es": speak(SPANISH, folder / "spanish.wav", voice="es", speed=140)}


@pytest.fixture(scope="module")
def results(passage):
    samples = core.load_audio(str(passage["mp3"]))
    out = {}
    for engine in ENGINES:
        updates = list(core.transcribe(samples, model="base", engine=engine, options=Options(word_timestamps=True)))
        out[engine] = updates
    return out


@pytest.mark.parametrize("engine", ENGINES)
def test_base_wer_language_and_streaming(results, engine):
    updates = results[engine]
    final = updates[-1]
    assert final.done and final.fraction == 1.0
    assert wer(PASSAGE, final.text) <= 0.10, final.text
    assert final.info.language == "en" and final.info.language_probability > 0.5
    assert [u.fraction for u in updates] == sorted(u.fraction for u in updates)
    assert len([u for u in updates if u.new]) >= 2 or engine == "openai-whisper"  # faster-whisper streams per segment
    assert 0 < final.rtf < 5


@pytest.mark.parametrize("engine", ENGINES)
def test_word_timestamps_monotonic_and_subtitles_parse_back(results, engine, tmp_path):
    final = results[engine][-1]
    words = [w for s in final.segments for w in s.words]
    assert len(words) >= 40
    assert all(w.start <= w.end for w in words)
    assert all(a.start <= b.start for a, b in zip(words, words[1:]))
    assert words[-1].end <= final.info.duration + 0.5
    paths = core.write_files(final, "passage", tmp_path)
    expected = [(round(s.start, 3), round(s.end, 3), s.text.strip()) for s in final.segments]
    for path in paths[:2]:
        parsed = subtitles.parse_cues(open(path, encoding="utf-8").read())
        assert [(round(a, 3), round(b, 3), c) for a, b, c in parsed] == expected
    wrapped = subtitles.parse_cues(subtitles.to_srt(final.segments, max_line_width=20, max_line_count=2))
    assert all(len(line) <= 20 or " " not in line for _, _, text in wrapped for line in text.split("\n"))
    assert all(len(text.split("\n")) <= 2 for _, _, text in wrapped)


def test_language_detection_and_chinese_script(passage):
    """espeak-ng Mandarin (its pinyin voice) comes out in Simplified characters unless Traditional is asked."""
    from products.speech.chinese import convert_text

    samples = core.load_audio(str(passage["zh"]))
    update = core.run_to_end(samples, model="base", engine=ENGINES[0])
    assert update.info.language == "zh", update.info
    text = update.text.replace(" ", "")
    assert sum("\u4e00" <= c <= "\u9fff" for c in text) >= 20, text
    assert convert_text(text, "simplified") == text  # nothing left to simplify
    traditional = core.run_to_end(samples, model="base", engine=ENGINES[0],
                                  options=core.default_options(chinese="traditional")).text.replace(" ", "")
    assert convert_text(traditional, "traditional") == traditional and traditional != text  # 们 -> 們, ...
    assert convert_text(traditional, "simplified") == text


def test_translate_to_english(passage):
    """task=translate turns Spanish speech into English text; the same audio transcribed stays Spanish."""
    samples = core.load_audio(str(passage["es"]))
    spoken = core.run_to_end(samples, model="base", engine=ENGINES[0])
    translated = core.run_to_end(samples, model="base", engine=ENGINES[0], options=Options(task="translate"))
    assert spoken.info.language == translated.info.language == "es"
    assert "inteligencia artificial" in spoken.text.lower(), spoken.text
    assert translated.text.isascii() and "artificial intelligence" in translated.text.lower(), translated.text


def test_tiny_en_and_initial_prompt(passage):
    update = core.run_to_end(str(passage["wav"]), model="tiny.en", engine="faster-whisper",
                             options=Options(initial_prompt="Quarterly finance report, conference room."))
    assert update.info.language == "en" and update.info.language_probability == 1.0
    assert wer(PASSAGE, update.text) <= 0.2, update.text


@pytest.mark.skipif(len(ENGINES) < 2, reason="needs both engines")
def test_converted_model_matches_faster_whisper_float32(passage, fresh_settings):
    """The converted openai-whisper model gives faster-whisper's greedy transcript at float32."""
    from shared.registry import ModelRegistry

    fresh_settings.setenv("AIPM_SPEECH_COMPUTE_TYPE", "float32")
    reg = ModelRegistry(budget_bytes=4 * 10**9, keep_alive_s=0)
    for engine in ENGINES:
        reg.register(models.SPECS[("tiny.en", engine)])
    samples = core.load_audio(str(passage["wav"]))
    texts = [core.run_to_end(samples, model="tiny.en", engine=e, options=Options(language="en"), registry=reg).text
             for e in ENGINES]
    assert texts[0] == texts[1]


@pytest.mark.skipif("openai-whisper" not in ENGINES, reason="openai-whisper is not installed")
def test_the_window_loop_matches_whisper_transcribe_on_real_speech(passage):
    """whisper_loop.windows (what the openai-whisper engine streams) gives whisper.transcribe's
    segments on real speech over several windows, with and without word timestamps."""
    from shared.models import registry
    from tests.test_speech import whisper_both_ways

    samples = np.tile(core.load_audio(str(passage["wav"])), 2)  # two passages: more than one window
    with registry.use(models.spec_name("tiny.en", "openai-whisper")) as engine:
        for words in (False, True):
            expected, got = whisper_both_ways(engine.model, samples, language="en", word_timestamps=words,
                                              fp16=False)
            assert len({s["seek"] for s in expected}) >= 2 and got == expected


def test_tab_through_gradio_client(passage):
    import gradio as gr
    from gradio_client import Client, handle_file

    from products.speech import build_tab

    with gr.Blocks() as demo:
        build_tab()
    port = free_port()
    demo.queue().launch(prevent_thread_lock=True, server_port=port, server_name="127.0.0.1")
    try:
        client = Client(f"http://127.0.0.1:{port}/", verbose=False)
        status, transcript, table, files = client.predict(
            handle_file(str(passage["wav"])), None, "auto", "transcribe", "tiny.en", "faster-whisper", False, 42, 2, "",
            "simplified", True, False, 0, api_name="/speech_transcribe")
        assert wer(PASSAGE, transcript) <= 0.2
        assert "real-time factor" in status
        srt = [f for f in files if str(f).endswith(".srt")][0]
        cues = subtitles.parse_cues(open(srt, encoding="utf-8").read())
        assert len(cues) >= 5 and all(len(c[2].split("\n")) <= 2 for c in cues)
        assert len(table["data"]) >= 3
        with pytest.raises(Exception, match="upload an audio"):
            client.predict(None, None, "auto", "transcribe", "tiny.en", "faster-whisper", False, 42, 2, "",
                           "simplified", True, False, 0, api_name="/speech_transcribe")
    finally:
        demo.close()
