"""The products' services on the real server (the API with the UI mounted, uvicorn on a free port)
called with real clients: the official `openai` SDK (transcriptions in every format, translations,
images), httpx and curl (the native routes of speech, image and recommend), and the errors a caller
gets for bad input. Keys and metering live in a temporary SQLite database."""
from __future__ import annotations

import base64
import io
import json
import subprocess
import time
from types import SimpleNamespace

import httpx
import openai
import pytest

from tests.api_support import api_database, serving
from tests.speech_support import SPANISH, speak, wer

SENTENCE = "Please send the quarterly report to the finance team before Friday."


@pytest.fixture(scope="module")
def api(tmp_path_factory):
    import app
    from shared import keys

    folder = tmp_path_factory.mktemp("api-products")
    with api_database(folder), serving(app) as url:
        secret, record = keys.create_key("test", "payg")
        yield SimpleNamespace(url=url, secret=secret, key=record, folder=folder,
                              headers={"Authorization": f"Bearer {secret}"})


@pytest.fixture(scope="module")
def client(api):
    return openai.OpenAI(base_url=api.url + "/v1", api_key=api.secret, max_retries=0, timeout=600)


@pytest.fixture(scope="module")
def http(api):
    with httpx.Client(base_url=api.url, headers=api.headers, timeout=600) as session:
        yield session


@pytest.fixture(scope="module")
def audio(tmp_path_factory):
    folder = tmp_path_factory.mktemp("api-audio")
    return {"en": speak(SENTENCE, folder / "report.wav"),
            "es": speak(SPANISH, folder / "spanish.wav", voice="es", speed=140)}


def used(api, unit: str, expected: float | None = None) -> float:
    """What the test key has used of `unit` this month (the counters the bill is made from); with
    `expected`, waited for up to 10 s (a native route is metered as its dependency ends, which may be
    after the client has the response)."""
    from shared import limits, store

    store.writer().flush(10)  # charges go through the store's writer (limits.charge_later)
    deadline = time.monotonic() + 10
    while True:
        value = limits.monthly(limits.month_of(time.time())).get(api.key.id, {}).get(unit, 0.0)
        if expected is None or abs(value - expected) < 0.02 or time.monotonic() > deadline:
            return value
        time.sleep(0.1)


# ---- without a model: the server, the models list and the errors a caller gets ------------------
def test_models_lists_the_products_services(client):
    found = {m.id: m for m in client.models.list().data}
    assert {"whisper-base", "whisper-tiny.en", "emoji-diffusion"} <= set(found)
    assert found["whisper-base"].owned_by == "speech" and found["emoji-diffusion"].owned_by == "image"


def test_an_empty_file_is_a_400(client):
    with pytest.raises(openai.BadRequestError, match="empty"):
        client.audio.transcriptions.create(model="whisper-base", file=("empty.wav", b"", "audio/wav"))


def test_a_file_that_is_not_audio_gets_the_products_message(client, http):
    note = ("notes.wav", b"these are meeting notes, not audio\n" * 20, "audio/wav")
    with pytest.raises(openai.BadRequestError) as caught:
        client.audio.transcriptions.create(model="whisper-base", file=note)
    assert "The file 'notes.wav' is not an audio or video file" in caught.value.message
    answer = http.post("/api/v1/speech/transcribe", files={"file": note})
    assert answer.status_code == 400
    assert answer.json()["error"]["message"] == "The file 'notes.wav' is not an audio or video file (or it is damaged)."


def test_bad_speech_options_get_the_tabs_messages(http, audio):
    wav = audio["en"].read_bytes()
    answer = http.post("/api/v1/speech/transcribe", files={"file": ("a.wav", wav)},
                       data={"model": "tiny.en", "language": "de"})
    assert answer.status_code == 400 and "understands English only" in answer.json()["error"]["message"]
    answer = http.post("/api/v1/speech/transcribe", files={"file": ("a.wav", wav)}, data={"task": "summarise"})
    assert answer.status_code == 400 and "Unknown task 'summarise'" in answer.json()["error"]["message"]
    answer = http.post("/api/v1/speech/transcribe", files={"file": ("a.wav", wav)}, data={"response_format": "xml"})
    assert answer.status_code == 400 and answer.json()["error"]["param"] == "response_format"


def test_an_unknown_model_is_a_404(client, audio):
    with pytest.raises(openai.NotFoundError, match="whisper-large"):
        client.audio.transcriptions.create(model="whisper-large", file=audio["en"].open("rb"))
    with pytest.raises(openai.NotFoundError):
        client.images.generate(model="dall-e-3", prompt="a red heart")


def test_too_many_images_is_a_400(client, http):
    with pytest.raises(openai.BadRequestError, match="n"):
        client.images.generate(model="emoji-diffusion", prompt="a red heart", n=9, size="256x256")
    answer = http.post("/api/v1/image/generate", json={"prompt": "a red heart", "num_images": 9})
    assert answer.status_code == 400
    assert answer.json()["error"]["message"] == "Number of images must be between 1 and 4; got 9."
    answer = http.post("/api/v1/image/generate", json={"prompt": "   "})
    assert answer.status_code == 400 and "describe the image" in answer.json()["error"]["message"]


def test_a_missing_key_is_a_401(api, audio):
    for path, kwargs in (("/api/v1/recommend/user", {"json": {"user_id": "1"}}),
                         ("/api/v1/image/generate", {"json": {"prompt": "a red heart"}}),
                         ("/api/v1/speech/transcribe", {"files": {"file": ("a.wav", audio["en"].read_bytes())}}),
                         ("/v1/audio/transcriptions", {"files": {"file": ("a.wav", audio["en"].read_bytes())}})):
        answer = httpx.post(api.url + path, timeout=60, **kwargs)
        assert answer.status_code == 401, path
        assert answer.json()["error"]["code"] == "missing_api_key"
    with pytest.raises(openai.AuthenticationError):
        openai.OpenAI(base_url=api.url + "/v1", api_key="aipm_abcd1234_" + "x" * 40,
                      max_retries=0).images.generate(prompt="a red heart")


# ---- speech on the real Whisper base --------------------------------------------------------------
@pytest.mark.integration
def test_openai_transcriptions_in_every_format(client, audio):
    from products.speech import subtitles

    with audio["en"].open("rb") as f:
        plain = client.audio.transcriptions.create(model="whisper-base", file=f)
    assert wer(SENTENCE, plain.text) <= 0.2, plain.text
    with audio["en"].open("rb") as f:
        text = client.audio.transcriptions.create(model="whisper-base", file=f, response_format="text")
    assert isinstance(text, str) and wer(SENTENCE, text) <= 0.2, text
    with audio["en"].open("rb") as f:
        srt = client.audio.transcriptions.create(model="whisper-base", file=f, response_format="srt")
    cues = subtitles.parse_cues(srt)
    assert cues and srt.startswith("1\n") and wer(SENTENCE, " ".join(c[2] for c in cues)) <= 0.2, srt
    with audio["en"].open("rb") as f:
        vtt = client.audio.transcriptions.create(model="whisper-base", file=f, response_format="vtt")
    assert vtt.startswith("WEBVTT") and subtitles.parse_cues(vtt)
    with audio["en"].open("rb") as f:
        verbose = client.audio.transcriptions.create(model="whisper-base", file=f, response_format="verbose_json",
                                                     timestamp_granularities=["word", "segment"])
    assert verbose.language == "en" and 2 < verbose.duration < 10
    assert verbose.segments and all(0 <= s.start <= s.end <= verbose.duration + 0.5 for s in verbose.segments)
    assert len(verbose.words) >= 8 and all(w.start <= w.end for w in verbose.words)


@pytest.mark.integration
def test_openai_translation_to_english(client, audio):
    with audio["es"].open("rb") as f:
        english = client.audio.translations.create(model="whisper-base", file=f)
    assert english.text.isascii() and "artificial intelligence" in english.text.lower(), english.text


@pytest.mark.integration
def test_native_transcription_json_and_subtitles(api, http, audio):
    from products.speech import speakers, subtitles

    before = used(api, "audio_s")
    wav = audio["en"].read_bytes()
    answer = http.post("/api/v1/speech/transcribe", files={"file": ("report.wav", wav, "audio/wav")},
                       data={"language": "en", "model": "whisper-base"})
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["language"] == "en" and body["model"] == "base" and 2 < body["duration"] < 10
    assert wer(SENTENCE, body["text"]) <= 0.2, body["text"]
    assert all({"start", "end", "text", "speaker", "words"} <= set(s) for s in body["segments"])
    assert answer.headers["x-request-id"] and used(api, "audio_s", before + body["duration"]) == pytest.approx(
        before + body["duration"], abs=0.02)
    labelled = speakers.installed()
    answer = http.post("/api/v1/speech/transcribe", files={"file": ("report.wav", wav, "audio/wav")},
                       data={"response_format": "srt", "speakers": str(labelled).lower(), "num_speakers": "1",
                             "word_timestamps": "false"})
    assert answer.status_code == 200, answer.text
    cues = subtitles.parse_cues(answer.text)
    assert cues and wer(SENTENCE, " ".join(c[2] for c in cues)) <= 0.3, answer.text
    if labelled:  # the product's own SRT: each cue starts with its speaker
        assert all(text.startswith("[SPEAKER_") for _, _, text in cues), answer.text


# ---- images on the emoji model ---------------------------------------------------------------------
@pytest.mark.integration
def test_openai_images_are_pngs_with_their_seeds(api, client):
    from PIL import Image

    before = used(api, "images")
    result = client.images.generate(model="emoji-diffusion", prompt="a red heart", n=2, size="256x256",
                                    response_format="b64_json")
    assert len(result.data) == 2
    seeds = []
    for item in result.data:
        png = Image.open(io.BytesIO(base64.b64decode(item.b64_json)))
        assert png.format == "PNG" and png.size == (256, 256)
        seed = item.model_extra["seed"]
        assert f"Seed: {seed}" in png.text["parameters"] and png.text["parameters"] == item.model_extra["parameters"]
        seeds.append(seed)
    assert seeds[1] == (seeds[0] + 1) % 2**32
    assert used(api, "images", before + 2) == before + 2


@pytest.mark.integration
def test_native_image_png_and_base64(api, http):
    from PIL import Image

    answer = http.post("/api/v1/image/generate", json={"prompt": "a red heart", "seed": 42, "steps": 10})
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"] == "image/png" and answer.headers["x-seed"] == "42"
    png = Image.open(io.BytesIO(answer.content))
    assert png.size == (256, 256) and "Seed: 42" in png.text["parameters"] and "Steps: 10" in answer.headers["x-parameters"]
    again = http.post("/api/v1/image/generate",
                      json={"prompt": "a red heart", "seed": 42, "steps": 10, "format": "base64"}).json()
    [image] = again["images"]
    assert image["seed"] == 42 and base64.b64decode(image["b64_png"]) == answer.content  # the same seed, the same PNG


# ---- recommendations on MovieLens --------------------------------------------------------------------
@pytest.mark.integration
def test_native_recommendations(api, http):
    before = used(api, "rows")
    answer = http.post("/api/v1/recommend/user", json={"user_id": 1, "n": 5})
    assert answer.status_code == 200, answer.text
    items = answer.json()["items"]
    assert len(items) == 5 and all({"item_id", "title", "genres", "score", "explanation"} <= set(i) for i in items)
    assert items[0]["score"] >= items[-1]["score"] and any(i["explanation"] for i in items)
    cold = http.post("/api/v1/recommend/cold_start", json={"items": ["50", "181"], "genres": ["Sci-Fi"], "n": 10})
    assert cold.status_code == 200, cold.text
    titles = [i["title"] for i in cold.json()["items"]]
    assert len(titles) == 10 and "Star Wars (1977)" not in titles
    assert "Empire Strikes Back, The (1980)" in titles, titles
    # curl, as a shell user would call it
    out = subprocess.run(["curl", "-s", "-H", f"Authorization: Bearer {api.secret}", "-H",
                          "Content-Type: application/json", "-d", json.dumps({"item_id": "50", "n": 3}),
                          f"{api.url}/api/v1/recommend/similar"], capture_output=True, text=True, timeout=120, check=True)
    similar = json.loads(out.stdout)
    assert similar["title"] == "Star Wars (1977)" and len(similar["items"]) == 3, similar
    assert all(i["item_id"] != "50" and i["explanation"] for i in similar["items"])
    assert used(api, "rows", before + 5 + 10 + 3) == before + 5 + 10 + 3
    wrong = http.post("/api/v1/recommend/user", json={"user_id": "nobody"})
    assert wrong.status_code == 400 and wrong.json()["error"]["message"].startswith("Unknown user id 'nobody'.")
    wrong = http.post("/api/v1/recommend/cold_start", json={"items": []})
    assert wrong.status_code == 400 and wrong.json()["error"]["message"] == "Pick at least one item you like."
    wrong = http.post("/api/v1/recommend/similar", json={"item_id": "50", "n": 99})
    assert wrong.status_code == 400 and "between 1 and 50" in wrong.json()["error"]["message"]
