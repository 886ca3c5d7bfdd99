"""Speech on a remote engine: any OpenAI-compatible server with /v1/audio/transcriptions (vLLM,
faster-whisper-server / speaches, OpenAI, or another instance of this app), offered as the model
`remote` while AIPM_SPEECH_OPENAI_URL is set.

The engine has the local engines' interface (`run(audio, options, stop)` -> (Info, iterator of lists of
Segment)), so core.transcribe, the tab, the subtitles and the files work unchanged: core still cuts long
audio into pieces (5 minutes here) and each goes to the server as a 16 kHz mono WAV of 32-bit floats:
the very samples a local engine reads (16-bit PCM changes Whisper base's greedy transcript of synthetic
speech), about 19 MB, under the 25 MB that vLLM and OpenAI take (AIPM_SPEECH_OPENAI_AUDIO=pcm16 halves
it), with `response_format=verbose_json`. Translation goes to /v1/audio/translations. Word timestamps ask for
`timestamp_granularities[]=word`; speaker labels send `speakers=true` (this app labels the segments,
other servers ignore it and core labels them here when the diarizer is installed). Plain HTTP with httpx.
"""
from __future__ import annotations

import io
import struct
import threading
import wave

import numpy as np

from products.speech.engines import SAMPLE_RATE, Info, Options, Segment, Word
from products.speech.settings import SpeechSettings
from shared.specs import ModelLoadError
from shared.ui import UserError

# Whisper's language codes, in its order: what core accepts when no local engine is installed.
WHISPER_LANGUAGES = tuple((
    "en zh de es ru ko fr ja pt tr pl ca nl ar sv it id hi fi vi he uk el ms cs ro da hu ta no th ur hr bg lt la "
    "mi ml cy sk te fa lv bn sr az sl kn et mk br eu is hy ne mn bs kk sq sw gl mr pa si km sn yo so af oc ka be "
    "tg sd gu am yi lo uz fo ht ps tk nn mt sa lb my bo tl mg as tt haw ln ha ba jw su yue").split())
NO_SPACE = {"zh", "ja", "th", "lo", "my", "yue", "bo", "km"}  # languages written without spaces between words



class RemoteWhisperEngine:
    engine = "remote"
    device = "remote"
    dtype = ""
    multilingual = True  # the server's model decides; a wrong language is its error to report

    chunk_seconds = 300  # core sends 5-minute pieces: 19 MB as float WAV, under the usual 25 MB upload limits

    def __init__(self, url: str, model: str, name: str, key: str = "", timeout: float = 600.0,
                 audio: str = "float32"):
        self.url = url.rstrip("/")
        self.model_name = model
        self.name = name
        self.key = key
        self.timeout = timeout
        self.audio = audio  # "float32" (lossless) or "pcm16" (half the size)

    @classmethod
    def connect(cls, url: str, name: str, config: SpeechSettings | None = None) -> "RemoteWhisperEngine":
        """Check that the server answers and pick its model: AIPM_SPEECH_OPENAI_MODEL, else the first
        transcription model /models lists (this app marks each model's capability), else the first
        listed model whose id names Whisper, else "default"."""
        import httpx

        config = config or SpeechSettings.current()
        url = url.rstrip("/")
        headers = {"Authorization": f"Bearer {config.openai_key}"} if config.openai_key else {}
        try:
            response = httpx.get(f"{url}/models", headers=headers, timeout=10)
        except httpx.HTTPError as err:
            raise ValueError(f"the speech server at {url} did not answer: {err}") from err
        if response.status_code in (401, 403):
            raise ValueError(f"the speech server at {url} refused the key ({response.status_code}); "
                             "check AIPM_SPEECH_OPENAI_KEY")
        model = config.openai_model
        if not model:
            try:
                listed = response.json().get("data", []) if response.status_code == 200 else []
            except ValueError:
                listed = []
            model = pick_model(listed)
        if config.openai_audio not in ("float32", "pcm16"):
            raise ValueError(f"AIPM_SPEECH_OPENAI_AUDIO={config.openai_audio!r}; use float32 or pcm16")
        return cls(url, model, name, config.openai_key, config.openai_timeout, config.openai_audio)

    def memory_bytes(self) -> int:
        return 0  # the weights live on the server

    def run(self, audio: np.ndarray, options: Options, stop: threading.Event):
        body = self.request(audio, options)
        duration = float(body.get("duration") or len(audio) / SAMPLE_RATE)
        language = language_code(body.get("language") or options.language or "")
        info = Info(language, 1.0 if options.language else float(body.get("language_probability", 1.0)), duration,
                    self.multilingual, extra={"server": self.url, "server_model": self.model_name})
        segments = parse_segments(body, duration, language)

        def stream():
            for segment in segments:
                if stop.is_set():
                    break
                yield [segment]
        return info, stream()

    def request(self, audio: np.ndarray, options: Options) -> dict:
        """POST the audio (a WAV file) and the options; the server's verbose JSON, or a clear error."""
        import httpx

        translate = options.task == "translate"
        data: dict = {"model": self.model_name, "response_format": "verbose_json", "temperature": "0"}
        if options.language and not translate:
            data["language"] = options.language
        if options.initial_prompt:
            data["prompt"] = options.initial_prompt
        if options.word_timestamps:
            data["timestamp_granularities[]"] = ["segment", "word"]
        if options.speakers:
            data["speakers"] = "true"
            if options.num_speakers:
                data["num_speakers"] = str(int(options.num_speakers))
        endpoint = f"{self.url}/audio/{'translations' if translate else 'transcriptions'}"
        headers = {"Authorization": f"Bearer {self.key}"} if self.key else {}
        files = {"file": ("audio.wav", to_wav(audio, self.audio), "audio/wav")}
        try:
            response = httpx.post(endpoint, data=data, files=files, headers=headers, timeout=self.timeout)
        except httpx.HTTPError as err:
            raise self._unavailable(f"did not answer: {err}") from err
        if response.status_code == 400 or response.status_code == 413:  # the request's own fault (a language...)
            raise UserError(f"The speech server at {self.url} refused the audio: {_error_text(response)}")
        if response.status_code >= 400:
            raise self._unavailable(f"answered {response.status_code} for the model '{self.model_name}': "
                                    f"{_error_text(response)}")
        try:
            return response.json()
        except ValueError as err:
            raise self._unavailable(f"did not answer in JSON: {response.text[:200]!r}") from err

    def _unavailable(self, why: str) -> ModelLoadError:
        """A server that went away or refuses this model is a model that cannot be used: the tab and the
        API say so (503 model_unavailable), naming the server, as for a failed load."""
        from products.speech.models import REMOTE_SPEC

        return ModelLoadError(self.name, [(f"server {self.url}", why)], REMOTE_SPEC.fix_hint)


def pick_model(listed: list[dict]) -> str:
    ids = [m.get("id", "") for m in listed if m.get("id")]
    marked = [m["id"] for m in listed if m.get("id") and m.get("capability") == "transcription"]
    if marked:
        return marked[0]
    if any("capability" in m for m in listed):  # this app, with no transcription model: let it say so
        return "default"
    named = [i for i in ids if "whisper" in i.lower()]
    return (named or ids or ["default"])[0]


def to_wav(audio: np.ndarray, encoding: str = "float32") -> bytes:
    """16 kHz mono WAV bytes of float32 samples: 32-bit float (the samples exactly) or 16-bit PCM."""
    samples = np.asarray(audio, dtype=np.float32)
    if encoding == "pcm16":
        pcm = np.clip(np.round(samples * 32767.0), -32768, 32767).astype("<i2")
        out = io.BytesIO()
        with wave.open(out, "wb") as w:
            w.setnchannels(1)
            w.setsampwidth(2)
            w.setframerate(SAMPLE_RATE)
            w.writeframes(pcm.tobytes())
        return out.getvalue()
    data = samples.astype("<f4").tobytes()
    # RIFF, a format chunk for IEEE float (tag 3, cbSize 0), the fact chunk non-PCM formats carry, the data
    fmt = struct.pack("<HHIIHHH", 3, 1, SAMPLE_RATE, SAMPLE_RATE * 4, 4, 32, 0)
    chunks = (b"fmt " + struct.pack("<I", len(fmt)) + fmt + b"fact" + struct.pack("<II", 4, samples.size)
              + b"data" + struct.pack("<I", len(data)) + data)
    return b"RIFF" + struct.pack("<I", 4 + len(chunks)) + b"WAVE" + chunks


def language_code(language: str) -> str:
    """A Whisper language code from a code or a name ("english" from OpenAI's verbose JSON -> "en")."""
    language = (language or "").strip().lower()
    if not language or language in WHISPER_LANGUAGES:
        return language
    try:
        from whisper.tokenizer import TO_LANGUAGE_CODE
    except ImportError:
        TO_LANGUAGE_CODE = {"english": "en", "chinese": "zh", "spanish": "es", "german": "de", "french": "fr",
                            "japanese": "ja", "korean": "ko", "russian": "ru", "portuguese": "pt", "italian": "it"}
    return TO_LANGUAGE_CODE.get(language, language)


def parse_segments(body: dict, duration: float, language: str = "") -> list[Segment]:
    """The server's verbose JSON as Segments: words from each segment's own `words` or from the top-level
    `words` list (OpenAI's shape), each given to the segment its middle falls in; a text without segments
    becomes one segment over the whole audio."""
    spaced = language not in NO_SPACE
    raw_segments = [s for s in body.get("segments") or [] if isinstance(s, dict)]
    if not raw_segments:
        text = (body.get("text") or "").strip()
        raw_segments = [{"start": 0.0, "end": duration, "text": text}] if text else []
    flat = [_word(w, spaced) for w in body.get("words") or [] if isinstance(w, dict)]
    owned: list[list[Word]] = [[_word(w, spaced) for w in s.get("words") or [] if isinstance(w, dict)]
                               for s in raw_segments]
    if flat and not any(owned):
        k = 0
        for word in flat:
            middle = (word.start + word.end) / 2
            while k + 1 < len(raw_segments) and middle >= float(raw_segments[k + 1].get("start", 0.0)):
                k += 1
            owned[k].append(word)
    out = []
    for s, words in zip(raw_segments, owned):
        text = str(s.get("text") or "")
        if spaced and text and not text.startswith(" "):
            text = " " + text  # Whisper's own segments start with a space; the transcript joins stripped texts
        out.append(Segment(float(s.get("start", 0.0)), float(s.get("end", s.get("start", 0.0))), text,
                           tuple(words), str(s.get("speaker") or "")))  # the server's times, as it gives them
    return out


def _word(w: dict, spaced: bool) -> Word:
    text = str(w.get("word") or w.get("text") or "")
    if spaced and text and not text.startswith(" "):
        text = " " + text
    return Word(float(w.get("start", 0.0)), float(w.get("end", w.get("start", 0.0))), text,
                float(w.get("probability", 0.0) or 0.0))


def _error_text(response) -> str:
    try:
        error = response.json().get("error")
        if isinstance(error, dict):
            return str(error.get("message", error))[:300]
        if error:
            return str(error)[:300]
        detail = response.json().get("detail")
        if detail:
            return str(detail)[:300]
    except (ValueError, AttributeError):
        pass
    return response.text[:300]
