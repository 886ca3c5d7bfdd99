"""The Speech-to-text product's settings (README's configuration table lists them)."""
from __future__ import annotations

from shared.config import as_auto_int, as_flag, as_float, as_int, as_list, as_lower, as_text, product_settings, setting


@product_settings
class SpeechSettings:
    engine: str = setting(
        "AIPM_SPEECH_ENGINE", "auto",
        "Default speech engine: `auto` (faster-whisper when installed, else openai-whisper), `faster-whisper` or `openai-whisper`.",
        as_lower)
    models: tuple = setting(
        "AIPM_SPEECH_MODELS", "base,tiny.en",
        "Speech models offered, the first is the default: `base` (embedded, multilingual), `tiny.en` (embedded, English, fastest), `custom` (the model named by AIPM_SPEECH_CUSTOM_PATH/_HUB); `remote` comes first by itself while AIPM_SPEECH_OPENAI_URL is set.",
        as_list)
    # read by its LocalPath source
    base_path: str = setting(
        "AIPM_SPEECH_BASE_PATH", "",
        "Local CTranslate2 Whisper folder (or openai-whisper .pt for that engine) used instead of the embedded Whisper base.",
        as_text)
    custom_path: str = setting(
        "AIPM_SPEECH_CUSTOM_PATH", "",
        "Local CTranslate2 Whisper folder or openai-whisper .pt checkpoint for the `custom` speech model.",
        as_text)
    custom_hub: str = setting(
        "AIPM_SPEECH_CUSTOM_HUB", "",
        "Whisper size name for the `custom` speech model where the network allows (for example `large-v3` or `turbo` on a GPU Space).",
        as_text)
    compute_type: str = setting(
        "AIPM_SPEECH_COMPUTE_TYPE", "auto",
        "CTranslate2 compute type for faster-whisper: `auto` (int8 on CPU, float16 on CUDA), `int8`, `float32`, `float16`, `int8_float16`.",
        as_lower)
    beam_size: int = setting(
        "AIPM_SPEECH_BEAM_SIZE", "1",
        "Beam size for both engines; 1 = greedy (openai-whisper's default, several times faster than beam search on CPU).",
        as_int(minimum=1))
    # None = AIPM_TORCH_THREADS
    threads: int | None = setting(
        "AIPM_SPEECH_THREADS", "auto",
        "CPU threads for faster-whisper; `auto` = AIPM_TORCH_THREADS (measured once per machine when `auto`).",
        as_auto_int)
    max_seconds: float = setting(
        "AIPM_SPEECH_MAX_SECONDS", "7200",
        "Longest audio accepted, in seconds.",
        as_float())
    vad: bool = setting(
        "AIPM_SPEECH_VAD", "1",
        "`1` skips silence and noise with faster-whisper's Silero VAD filter (the tab's default; measured more accurate segment times and about twice as fast on audio with pauses, bench/bench_speech_timing.py); `0` off.",
        as_flag)
    chinese: str = setting(
        "AIPM_SPEECH_CHINESE", "simplified",
        "Script of Chinese transcripts (table, SRT, VTT, TXT, JSON): `simplified` (OpenCC t2s) or `traditional` (s2t); the tab's choice overrides it.",
        as_lower)
    # read by its Server source (products/speech/remote.py)
    openai_url: str = setting(
        "AIPM_SPEECH_OPENAI_URL", "",
        "Base URL (ending in `/v1`) of a server with `/v1/audio/transcriptions`: vLLM, faster-whisper-server (speaches), OpenAI, or another instance of this app, e.g. `http://speech:7860/v1`; offered as the speech model `remote`, first. The audio goes there (5-minute pieces, WAV) and comes back as the same segments, words and subtitles.",
        as_text)
    openai_key: str = setting(
        "AIPM_SPEECH_OPENAI_KEY", "",
        "API key for that server (sent as a Bearer token; empty = none). For another instance of this app, a key made there (`python -m shared.keys create --name NAME --plan PLAN`).",
        as_text)
    openai_model: str = setting(
        "AIPM_SPEECH_OPENAI_MODEL", "",
        "Model sent to that server (for this app: `whisper-base` or `whisper-tiny.en`; empty = the first transcription model its `/models` lists, else the first listed Whisper, else `default`).",
        as_text)
    openai_timeout: float = setting(
        "AIPM_SPEECH_OPENAI_TIMEOUT", "600",
        "Seconds to wait for that server to transcribe one piece (at most about 5 minutes of audio).",
        as_float(minimum=1))
    openai_audio: str = setting(
        "AIPM_SPEECH_OPENAI_AUDIO", "float32",
        "How the audio is sent to that server: `float32` (WAV of the decoded samples, exact: the same transcript as a local engine; about 19 MB per 5-minute piece) or `pcm16` (16-bit WAV, half the size, for servers with small upload limits).",
        as_lower)
