"""Speech-to-text unit tests: decoding and its errors, subtitle files, the converter, and the
openai-whisper plumbing on a tiny random-weight Whisper. Real models: test_speech_integration.py."""
from __future__ import annotations

import importlib.util
import struct
import subprocess
import threading
from pathlib import Path

import numpy as np
import pytest

from products.speech import audio as audio_io
from products.speech import core, subtitles
from products.speech.engines import Options, Segment, Word
from products.speech.settings import SpeechSettings
from shared.ui import UserError
from tests.speech_support import convert, speak, to_video

HAS_OPENAI = importlib.util.find_spec("whisper") is not None


@pytest.fixture(scope="session")
def clips(tmp_path_factory):
    folder = tmp_path_factory.mktemp("speech-unit")
    wav = speak("Hello world. This is a short test.", folder / "hello.wav")
    out = {"wav": wav}
    for suffix in ("mp3", "ogg", "flac", "webm", "m4a"):
        out[suffix] = convert(wav, folder / f"hello.{suffix}")
    out["mp4"] = to_video(wav, folder / "hello.mp4")
    subprocess.run(["sox", "-n", "-r", "16000", "-c", "1", str(folder / "silence.wav"), "trim", "0", "2"], check=True)
    out["silence"] = folder / "silence.wav"
    subprocess.run(["ffmpeg", "-nostdin", "-v", "error", "-f", "lavfi", "-i", "color=c=red:s=32x32", "-frames:v", "1",
                    str(folder / "image.png")], check=True)
    out["image"] = folder / "image.png"
    (folder / "empty.wav").write_bytes(b"")
    out["empty"] = folder / "empty.wav"
    (folder / "notes.mp3").write_text("this is not audio at all\n" * 20)
    out["text"] = folder / "notes.mp3"
    corrupt = folder / "corrupt.wav"
    corrupt.write_bytes(wav.read_bytes()[:44] + bytes(np.random.default_rng(0).integers(0, 256, 4000, dtype=np.uint8)))
    out["corrupt_header"] = corrupt
    garbage = folder / "garbage.ogg"
    garbage.write_bytes(b"OggS" + bytes(np.random.default_rng(1).integers(0, 256, 5000, dtype=np.uint8)))
    out["garbage"] = garbage
    return out


# ---- decoding ----------------------------------------------------------------------------------
@pytest.mark.parametrize("kind", ["wav", "mp3", "ogg", "flac", "webm", "m4a", "mp4"])
def test_decodes_every_format_to_16k_mono(clips, kind):
    samples = audio_io.load_audio(str(clips[kind]), max_seconds=60)
    reference = audio_io.load_audio(str(clips["wav"]), max_seconds=60)
    assert samples.dtype == np.float32 and samples.ndim == 1
    assert abs(samples.size - reference.size) < 0.2 * 16000  # codecs pad a little
    assert float(np.abs(samples).max()) > 0.05


@pytest.mark.parametrize("kind, key", [("empty", "empty"), ("text", "not an audio"), ("image", "no audio track"),
                                       ("garbage", "not an audio")])
def test_bad_files_get_clear_messages(clips, kind, key):
    with pytest.raises(UserError, match=key):
        audio_io.load_audio(str(clips[kind]), max_seconds=60)


def test_corrupt_payload_decodes_or_fails_clearly(clips, tmp_path):
    # A valid PCM header with noise after it is still audio to ffmpeg: it decodes, every noise sample kept.
    header = clips["corrupt_header"].read_bytes()[:44]
    rate, bits = struct.unpack("<I", header[24:28])[0], struct.unpack("<H", header[34:36])[0]
    payload = clips["corrupt_header"].stat().st_size - 44
    samples = audio_io.load_audio(str(clips["corrupt_header"]), max_seconds=60)
    assert samples.dtype == np.float32 and samples.ndim == 1
    assert abs(samples.size - payload / (bits // 8) * 16000 / rate) <= 16  # resampled to 16 kHz
    audio_io.check_not_silent(samples)  # noise, not silence
    # The same payload under a header naming a codec it cannot be (MS ADPCM with PCM's block size):
    # ffprobe still sees an audio track, the decoder gets no sample out, and the message says so.
    adpcm = tmp_path / "adpcm.wav"
    adpcm.write_bytes(header[:20] + struct.pack("<H", 2) + clips["corrupt_header"].read_bytes()[22:])
    with pytest.raises(UserError, match="could not be decoded"):
        audio_io.load_audio(str(adpcm), max_seconds=60)


def test_too_long_too_big_missing_and_silent(clips):
    with pytest.raises(UserError, match="limit is 1s"):
        audio_io.load_audio(str(clips["wav"]), max_seconds=1)
    with pytest.raises(UserError, match="limit is 0 MB"):
        audio_io.load_audio(str(clips["wav"]), max_seconds=60, max_bytes=1000)
    with pytest.raises(UserError, match="upload an audio"):
        audio_io.load_audio(None, max_seconds=60)
    silence = audio_io.load_audio(str(clips["silence"]), max_seconds=60)
    with pytest.raises(UserError, match="silent"):
        audio_io.check_not_silent(silence)


def test_max_seconds_setting_and_chinese_messages(clips, fresh_settings):
    short = SpeechSettings(max_seconds=1)
    with pytest.raises(UserError, match="AIPM_SPEECH_MAX_SECONDS"):
        core.load_audio(str(clips["wav"]), config=short)
    with pytest.raises(UserError, match="音频长"):
        core.load_audio(str(clips["wav"]), lang="zh", config=short)
    fresh_settings.setenv("AIPM_SPEECH_MAX_SECONDS", "1")  # the environment reaches the same limit
    with pytest.raises(UserError, match="AIPM_SPEECH_MAX_SECONDS"):
        core.load_audio(str(clips["wav"]))


def test_option_errors():
    with pytest.raises(UserError, match="Unknown model"):
        core.resolve("huge", None)
    with pytest.raises(UserError, match="not installed|choose one"):
        core.resolve("base", "whisper.cpp")
    with pytest.raises(UserError, match="English only"):
        core.check_options(Options(language="de"), "tiny.en")
    with pytest.raises(UserError, match="Unknown language"):
        core.check_options(Options(language="xx"), "base")
    with pytest.raises(UserError, match="Unknown task"):
        core.check_options(Options(task="summarise"), "base")
    asked = Options(language="Auto")
    assert core.check_options(asked, "base").language is None
    assert asked.language == "Auto", "the caller's options are not changed"


# ---- subtitle files ---------------------------------------------------------------------------
SEGMENTS = [
    Segment(0.0, 2.5, " Hello there, general Kenobi.", (
        Word(0.0, 0.4, " Hello", 0.9), Word(0.4, 0.9, " there,", 0.9), Word(0.9, 1.6, " general", 0.9),
        Word(1.6, 2.5, " Kenobi.", 0.9))),
    Segment(3723.456, 3725.0, " A second segment.", ()),
]


def test_srt_exact():
    assert subtitles.to_srt(SEGMENTS) == (
        "1\n00:00:00,000 --> 00:00:02,500\nHello there, general Kenobi.\n\n"
        "2\n01:02:03,456 --> 01:02:05,000\nA second segment.\n")


def test_vtt_exact():
    assert subtitles.to_vtt(SEGMENTS) == (
        "WEBVTT\n\n00:00:00.000 --> 00:00:02.500\nHello there, general Kenobi.\n\n"
        "01:02:03.456 --> 01:02:05.000\nA second segment.\n")


def test_wrapping_with_words_cuts_cues_at_word_times():
    srt = subtitles.to_srt(SEGMENTS[:1], max_line_width=13, max_line_count=1)
    assert srt == ("1\n00:00:00,000 --> 00:00:00,900\nHello there,\n\n"
                   "2\n00:00:00,900 --> 00:00:01,600\ngeneral\n\n"  # "general Kenobi." is 15 > 13
                   "3\n00:00:01,600 --> 00:00:02,500\nKenobi.\n")
    two_lines = subtitles.cues(SEGMENTS[:1], max_line_width=13, max_line_count=2)
    assert two_lines == [(0.0, 1.6, "Hello there,\ngeneral"), (1.6, 2.5, "Kenobi.")]


def test_wrapping_without_words_splits_time_by_characters():
    seg = Segment(10.0, 14.0, " aaaa bbbb cccc dddd", ())
    assert subtitles.cues([seg], max_line_width=9, max_line_count=1) == [
        (10.0, 12.0, "aaaa bbbb"), (12.0, 14.0, "cccc dddd")]
    assert subtitles.cues([seg], max_line_width=4, max_line_count=2) == [
        (10.0, 12.0, "aaaa\nbbbb"), (12.0, 14.0, "cccc\ndddd")]
    chinese = Segment(0.0, 3.0, "今天天气很好我们去公园", ())
    lines = subtitles.cues([chinese], max_line_width=4)[0][2].split("\n")
    assert lines == ["今天天气", "很好我们", "去公园"]


def test_parse_back_and_text_json(tmp_path):
    for text in (subtitles.to_srt(SEGMENTS), subtitles.to_vtt(SEGMENTS)):
        assert subtitles.parse_cues(text) == [(s.start, s.end, s.text.strip()) for s in SEGMENTS]
    assert subtitles.to_txt(SEGMENTS) == "Hello there, general Kenobi.\nA second segment.\n"
    import json

    data = json.loads(subtitles.to_json(SEGMENTS, {"language": "en"}))
    assert data["language"] == "en" and data["segments"][0]["words"][1]["word"] == " there,"
    assert data["text"] == "Hello there, general Kenobi. A second segment."


def test_write_files(tmp_path):
    from products.speech.engines import Info

    update = core.Update(Info("en", 0.99, 3725.0, True), SEGMENTS, [], 1.0, 10.0, done=True, model="base",
                         engine="faster-whisper")
    paths = core.write_files(update, "talk", tmp_path, max_line_width=20, max_line_count=2)
    assert [Path(p).name for p in paths] == ["talk.srt", "talk.vtt", "talk.txt", "talk.json"]
    assert Path(paths[0]).read_text().startswith("1\n00:00:00,000 --> ")
    assert '"real_time_factor": 0.0027' in Path(paths[3]).read_text()


# ---- the CTranslate2 -> openai-whisper converter, on a tiny random Whisper ----------------------
def _tiny_dims():
    from whisper.model import ModelDimensions

    return ModelDimensions(n_mels=80, n_audio_ctx=1500, n_audio_state=64, n_audio_head=2, n_audio_layer=2,
                           n_vocab=51864, n_text_ctx=64, n_text_state=64, n_text_head=2, n_text_layer=2)


def _write_ct2(model, path: Path, dims) -> None:
    """Write a Whisper in CTranslate2's model.bin layout (the inverse of the documented mapping)."""
    sd = {k: v.detach().numpy().astype(np.float16) for k, v in model.state_dict().items()}
    out: dict[str, np.ndarray] = {}

    def lin(dst, src, bias=True):
        out[f"{dst}/weight"] = sd[f"{src}.weight"]
        if bias:
            out[f"{dst}/bias"] = sd[f"{src}.bias"]

    def ln(dst, src):
        out[f"{dst}/gamma"], out[f"{dst}/beta"] = sd[f"{src}.weight"], sd[f"{src}.bias"]

    def fused(dst, srcs):
        out[f"{dst}/weight"] = np.concatenate([sd[f"{s}.weight"] for s in srcs])
        out[f"{dst}/bias"] = np.concatenate([sd.get(f"{s}.bias", np.zeros(dims.n_text_state, np.float16))
                                             for s in srcs])

    for i in (1, 2):
        lin(f"encoder/conv{i}", f"encoder.conv{i}")
    out["encoder/position_encodings/encodings"] = sd["encoder.positional_embedding"]
    out["encoder/num_heads"] = np.array(dims.n_audio_head, np.int16)
    out["decoder/num_heads"] = np.array(dims.n_text_head, np.int16)
    for side, n in (("encoder", dims.n_audio_layer), ("decoder", dims.n_text_layer)):
        for i in range(n):
            b = f"{side}.blocks.{i}"
            d = f"{side}/layer_{i}"
            fused(f"{d}/self_attention/linear_0", [f"{b}.attn.query", f"{b}.attn.key", f"{b}.attn.value"])
            lin(f"{d}/self_attention/linear_1", f"{b}.attn.out")
            ln(f"{d}/self_attention/layer_norm", f"{b}.attn_ln")
            lin(f"{d}/ffn/linear_0", f"{b}.mlp.0")
            lin(f"{d}/ffn/linear_1", f"{b}.mlp.2")
            ln(f"{d}/ffn/layer_norm", f"{b}.mlp_ln")
            if side == "decoder":
                lin(f"{d}/attention/linear_0", f"{b}.cross_attn.query")
                fused(f"{d}/attention/linear_1", [f"{b}.cross_attn.key", f"{b}.cross_attn.value"])
                lin(f"{d}/attention/linear_2", f"{b}.cross_attn.out")
                ln(f"{d}/attention/layer_norm", f"{b}.cross_attn_ln")
    ln("encoder/layer_norm", "encoder.ln_post")
    ln("decoder/layer_norm", "decoder.ln")
    out["decoder/embeddings/weight"] = sd["decoder.token_embedding.weight"]
    out["decoder/position_encodings/encodings"] = sd["decoder.positional_embedding"]

    def string(text):
        raw = text.encode() + b"\0"
        return struct.pack("<H", len(raw)) + raw

    codes = {np.dtype(np.float16): 4, np.dtype(np.int16): 2}
    blob = struct.pack("<I", 6) + string("WhisperSpec") + struct.pack("<II", 3, len(out))
    for name, array in out.items():
        blob += string(name) + struct.pack("<B", array.ndim) + struct.pack(f"<{array.ndim}I", *array.shape)
        blob += struct.pack("<BI", codes[array.dtype], array.nbytes) + array.tobytes()
    blob += struct.pack("<I", 1) + string("decoder/projection/weight") + string("decoder/embeddings/weight")
    path.mkdir(parents=True, exist_ok=True)
    (path / "model.bin").write_bytes(blob)
    (path / "config.json").write_text('{"alignment_heads": [[1, 0], [1, 1]]}')


@pytest.fixture(scope="module")
def random_whisper():
    if not HAS_OPENAI:
        pytest.skip("openai-whisper is not installed")
    import torch
    from whisper.model import Whisper

    torch.manual_seed(0)
    model = Whisper(_tiny_dims())
    with torch.no_grad():  # the key projections have no bias; give everything else non-trivial values
        for name, param in model.named_parameters():
            param.copy_(torch.randn_like(param) * 0.05)
    return model.half().float().eval()  # fp16-representable, as a CTranslate2 fp16 file stores it


@pytest.mark.skipif(not HAS_OPENAI, reason="openai-whisper is not installed")
def test_converter_roundtrip_strict_and_cached(random_whisper, tmp_path, fresh_settings):
    import torch

    from products.speech import convert

    fresh_settings.setenv("AIPM_CACHE_DIR", str(tmp_path / "cache"))
    _write_ct2(random_whisper, tmp_path / "ct2", _tiny_dims())
    checkpoint = convert.cached_checkpoint(tmp_path / "ct2", "ab" * 32)
    loaded = convert.load_checkpoint(checkpoint)
    expected = random_whisper.state_dict()
    got = loaded.state_dict()
    assert set(got) == set(expected)
    for name, tensor in expected.items():
        assert torch.equal(got[name].float(), tensor.float()), name
    assert loaded.alignment_heads.to_dense()[1].tolist() == [True, True]
    mtime = checkpoint.stat().st_mtime_ns
    assert convert.cached_checkpoint(tmp_path / "ct2", "ab" * 32) == checkpoint
    assert checkpoint.stat().st_mtime_ns == mtime  # reused, not converted again
    checkpoint.write_bytes(checkpoint.read_bytes()[:-10] + b"0123456789")  # tampered: re-converted
    again = convert.cached_checkpoint(tmp_path / "ct2", "ab" * 32)
    assert convert.load_checkpoint(again).state_dict().keys() == expected.keys()


@pytest.mark.skipif(not HAS_OPENAI, reason="openai-whisper is not installed")
def test_converter_rejects_other_models(tmp_path):
    from products.speech import convert

    blob = struct.pack("<I", 6) + struct.pack("<H", 12) + b"MarianSpec\0\0" + struct.pack("<II", 1, 0) + struct.pack("<I", 0)
    (tmp_path / "model.bin").write_bytes(blob)
    with pytest.raises(convert.ConversionError, match="not a Whisper"):
        convert.convert(tmp_path, tmp_path / "out.pt")


@pytest.mark.skipif(not HAS_OPENAI, reason="openai-whisper is not installed")
def test_openai_pipeline_plumbing_on_random_whisper(random_whisper, clips, monkeypatch):
    """The streaming pipeline end to end through a private registry, with a random model."""
    from products.speech import models
    from products.speech.engines import OpenAIWhisperEngine
    from shared.registry import ModelRegistry, ModelSpec
    from shared.sources import LocalPath

    monkeypatch.setenv("AIPM_SPEECH_RANDOM", str(clips["wav"]))  # any existing path: the source resolves
    monkeypatch.setitem(__import__("shared.config", fromlist=["_BY_NAME"])._BY_NAME, "AIPM_SPEECH_RANDOM",
                        __import__("shared.config", fromlist=["Setting"]).Setting("AIPM_SPEECH_RANDOM", "", "test"))
    loads = []

    def loader(ctx):
        loads.append(ctx.source.kind)
        return OpenAIWhisperEngine(random_whisper, "random")

    reg = ModelRegistry(budget_bytes=10**9, keep_alive_s=0)
    reg.register(ModelSpec(models.spec_name("base", "openai-whisper"), loader, (LocalPath("AIPM_SPEECH_RANDOM"),),
                           dtype_policy="none"))
    samples = core.load_audio(str(clips["wav"]))
    updates = []
    try:
        for update in core.transcribe(samples, model="base", engine="openai-whisper",
                                      options=Options(language="en", word_timestamps=True), registry=reg):
            updates.append(update)
    except UserError as err:  # a random model may well recognise nothing
        assert "No speech" in str(err)
    assert loads == ["local"]
    assert updates and updates[0].fraction == 0.0 and updates[0].info.language == "en"
    fractions = [u.fraction for u in updates]
    assert fractions == sorted(fractions)
    if updates[-1].done:
        assert updates[-1].fraction == 1.0 and updates[-1].rtf > 0
    # detection path (language=None) gives a language code with a probability
    engine = OpenAIWhisperEngine(random_whisper, "random")
    code, probability = engine.detect_language(samples)
    assert isinstance(code, str) and 0.0 < probability <= 1.0
    assert reg.status_of(models.spec_name("base", "openai-whisper"))["leases"] == 0


def whisper_both_ways(model, audio, **options):
    """(whisper.transcribe's segments, whisper_loop.windows' segments) from the same torch seed."""
    import torch
    import whisper

    from products.speech.whisper_loop import windows

    torch.manual_seed(0)
    expected = whisper.transcribe(model, audio, verbose=None, **options)["segments"]
    torch.manual_seed(0)
    got = [segment for window in windows(model, audio, **options) for segment in window]
    return expected, got


@pytest.mark.skipif(not HAS_OPENAI, reason="openai-whisper is not installed")
@pytest.mark.parametrize("words", [False, True])
def test_the_window_loop_gives_whisper_transcribes_segments(random_whisper, clips, words):
    """A random model falls back through every temperature: the loop must take the same paths."""
    samples = np.tile(core.load_audio(str(clips["wav"])), 3)
    expected, got = whisper_both_ways(random_whisper, samples, language="en", word_timestamps=words,
                                      initial_prompt="Hello.", fp16=False)
    assert got == expected


@pytest.mark.skipif(not HAS_OPENAI, reason="openai-whisper is not installed")
def test_stopping_ends_the_openai_worker(random_whisper, clips):
    from products.speech.engines import OpenAIWhisperEngine

    samples = np.tile(core.load_audio(str(clips["wav"])), 12)  # about a minute: several windows
    engine = OpenAIWhisperEngine(random_whisper, "random")
    stop = threading.Event()
    stop.set()  # already stopped: the worker gives up after its first window
    _, stream = engine.run(samples, Options(language="en"), stop)
    list(stream)
    assert not any(t.name == "openai-whisper" and t.is_alive() for t in threading.enumerate())


def test_long_audio_is_cut_into_chunks_with_shifted_times():
    import numpy as np

    from products.speech import core
    from products.speech.engines import SAMPLE_RATE, Segment, Word

    samples = np.zeros(int(1220.5 * SAMPLE_RATE), dtype=np.float32)
    pieces = list(core.chunks(samples, seconds=600))
    assert [offset for offset, _ in pieces] == [0.0, 600.0]  # the 20.5 s tail joins the second piece
    assert [p.size for _, p in pieces] == [600 * SAMPLE_RATE, samples.size - 600 * SAMPLE_RATE]
    assert sum(p.size for _, p in pieces) == samples.size
    short = np.zeros(10 * SAMPLE_RATE, dtype=np.float32)
    assert [(o, p.size) for o, p in core.chunks(short, seconds=600)] == [(0.0, short.size)]
    seg = Segment(1.0, 2.5, "hello", (Word(1.0, 1.4, " hello", 0.9),))
    moved = core.shift(seg, 600.0)
    assert (moved.start, moved.end, moved.words[0].start, moved.words[0].end) == (601.0, 602.5, 601.0, 601.4)
    assert core.shift(seg, 0.0) is seg
    assert [o for o, _ in core.chunks(np.zeros(int(1250.5 * SAMPLE_RATE), dtype=np.float32), seconds=600)] == \
        [0.0, 600.0, 1200.0]  # a 50.5 s tail is a piece of its own
