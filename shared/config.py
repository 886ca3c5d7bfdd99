"""All configuration in one place: environment variables with defaults.

Every setting is declared once in SETTINGS (name, default, meaning); `settings()` reads them
from the environment. README's configuration table is generated from this list
(`python -m shared.config`), and a test checks that README lists every variable.
"""
from __future__ import annotations

import os
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path


@dataclass(frozen=True)
class Setting:
    env: str
    default: str
    help: str


SETTINGS: tuple[Setting, ...] = (
    # Server
    Setting("AIPM_HOST", "127.0.0.1", "Interface to serve on (`0.0.0.0` on a server or Space; `GRADIO_SERVER_NAME` also works)."),
    Setting("AIPM_PORT", "7860", "Port to serve on (`GRADIO_SERVER_PORT` also works)."),
    Setting("AIPM_MAX_UPLOAD_MB", "50", "Largest upload accepted, in MB."),
    Setting("AIPM_QUEUE_SIZE", "64", "Most requests waiting in the queue; more get a 'busy' answer."),
    Setting("AIPM_LOG_LEVEL", "INFO", "Python log level."),
    Setting("AIPM_ADMIN_PASSWORD", "", "Secret that unlocks the System tab's admin actions (load, unload, load all, verify); empty = those actions are refused for everyone. Set it as a Space secret."),
    Setting("AIPM_OUTPUT_TTL", "3600", "Seconds a request's result files (CSV, PNG, subtitles) are kept before they are removed."),
    # Measurements and feedback (shared/store, shared/capture.py)
    Setting("AIPM_DATABASE_URL", "", "Where requests and feedback are recorded (SQLAlchemy URL); empty = `sqlite:///<AIPM_CACHE_DIR>/matrix.db` (WAL mode). For several replicas: `postgresql+psycopg://user:password@host/db`."),
    Setting("AIPM_CAPTURE", "1", "`1` records every request (time, product, action, model, latency, sizes, outcome; no user content) and accepts feedback; `0` records nothing."),
    Setting("AIPM_STORE_CONTENT", "0", "`1` also stores inputs and outputs (texts, transcripts; never audio or images) and the texts of feedback, for building training sets; removed after AIPM_RETENTION_DAYS."),
    Setting("AIPM_RETENTION_DAYS", "30", "Days stored content (inputs, outputs, feedback texts) is kept; a cleanup job removes older content hourly. Measurements without content are kept."),
    Setting("AIPM_STORE_QUEUE", "10000", "Most events waiting for the database writer; beyond it events are dropped (counted and shown), never blocking a request."),
    # Registry
    Setting("AIPM_CACHE_DIR", "~/.cache/ai-product-matrix", "Writable folder for assembled and converted model files."),
    Setting("AIPM_MEMORY_BUDGET", "auto", "Bytes the loaded models may use (`6GB`, `512MB`, or a number); `auto` = half the RAM on CPU, 85% of the GPU memory on CUDA."),
    Setting("AIPM_KEEP_ALIVE", "900", "Seconds an unused model stays loaded; `0` = forever."),
    Setting("AIPM_DEVICE", "auto", "`auto` (CUDA, else Apple MPS, else CPU), `cpu`, `cuda` or `mps`."),
    Setting("AIPM_DTYPE", "auto", "`auto` (fp16 on GPU, bf16 on CPUs that are fast at it, else fp32), `float32`, `bfloat16` or `float16`."),
    Setting("AIPM_TORCH_THREADS", "auto", "Torch CPU threads; `auto` = cores - 1 (at least 1, at most 8)."),
    Setting("AIPM_OFFLINE", "0", "`1` never tries the Hugging Face hub, even for configured hub models (`HF_HUB_OFFLINE=1` does the same)."),
    Setting("AIPM_PRELOAD", "", "Comma-separated model names to load at start-up (`all` for every model); under ZeroGPU the default is `all`."),
    # Models shared by several products
    Setting("AIPM_ENCODER_PATH", "", "Local sentence-transformers folder used instead of the embedded all-MiniLM-L6-v2."),
    Setting("AIPM_ENCODER_HUB", "", "Hub id of a sentence encoder used instead of the embedded one (for example `sentence-transformers/all-MiniLM-L6-v2`)."),
    # Sentiment
    Setting("AIPM_SENTIMENT_PATH", "", "Local folder of a transformers sequence-classification sentiment model."),
    Setting("AIPM_SENTIMENT_HUB", "", "Hub id of a sentiment model (for example `cardiffnlp/twitter-xlm-roberta-base-sentiment`); falls back to the embedded model when unreachable."),
    Setting("AIPM_SENTIMENT_BATCH", "32", "Texts per forward pass when scoring files."),
    Setting("AIPM_SENTIMENT_MAX_ROWS", "100000", "Most rows scored from one uploaded file."),
    # Speech-to-text
    Setting("AIPM_SPEECH_ENGINE", "auto", "Default speech engine: `auto` (faster-whisper when installed, else openai-whisper), `faster-whisper` or `openai-whisper`."),
    Setting("AIPM_SPEECH_MODELS", "base,tiny.en", "Speech models offered, the first is the default: `base` (embedded, multilingual), `tiny.en` (embedded, English, fastest), `custom` (the model named by AIPM_SPEECH_CUSTOM_PATH/_HUB)."),
    Setting("AIPM_SPEECH_BASE_PATH", "", "Local CTranslate2 Whisper folder (or openai-whisper .pt for that engine) used instead of the embedded Whisper base."),
    Setting("AIPM_SPEECH_CUSTOM_PATH", "", "Local CTranslate2 Whisper folder or openai-whisper .pt checkpoint for the `custom` speech model."),
    Setting("AIPM_SPEECH_CUSTOM_HUB", "", "Whisper size name for the `custom` speech model where the network allows (for example `large-v3` or `turbo` on a GPU Space)."),
    Setting("AIPM_SPEECH_COMPUTE_TYPE", "auto", "CTranslate2 compute type for faster-whisper: `auto` (int8 on CPU, float16 on CUDA), `int8`, `float32`, `float16`, `int8_float16`."),
    Setting("AIPM_SPEECH_BEAM_SIZE", "1", "Beam size for both engines; 1 = greedy (openai-whisper's default, several times faster than beam search on CPU)."),
    Setting("AIPM_SPEECH_THREADS", "auto", "CPU threads for faster-whisper; `auto` = AIPM_TORCH_THREADS."),
    Setting("AIPM_SPEECH_MAX_SECONDS", "7200", "Longest audio accepted, in seconds."),
    Setting("AIPM_SPEECH_VAD", "1", "`1` skips silence and noise with faster-whisper's Silero VAD filter (the tab's default; measured more accurate segment times and about twice as fast on audio with pauses, bench/bench_speech_timing.py); `0` off."),
    Setting("AIPM_SPEECH_CHINESE", "simplified", "Script of Chinese transcripts (table, SRT, VTT, TXT, JSON): `simplified` (OpenCC t2s) or `traditional` (s2t); the tab's choice overrides it."),

    # Image generation
    Setting("AIPM_IMAGE_PATH", "", "Local diffusers text-to-image folder (with `model_index.json`), used before the hub model."),
    Setting("AIPM_IMAGE_HUB", "stabilityai/sd-turbo", "Hub id of a diffusers text-to-image model, used when the hub is allowed and reachable; empty = none."),
    Setting("AIPM_IMAGE_OFFLINE_MODEL", "emoji", "Image model used when neither of the above is set or reachable: `emoji` (the small 32x32 emoji model trained in this repo, `assets/emoji-diffusion`) or `none`."),
    Setting("AIPM_IMAGE_VARIANT", "", "Weight variant to load (for example `fp16` for hub models that publish one); empty = the default weights."),
    Setting("AIPM_IMAGE_SAFETY", "1", "`1` runs the model's safety checker when it has one (flagged images are withheld with a note); `0` skips it."),
    Setting("AIPM_IMAGE_MAX_PIXELS", "1048576", "Pixel budget per image (width x height); larger requests are scaled down keeping the aspect ratio."),
    Setting("AIPM_IMAGE_MAX_IMAGES", "4", "Most images per request."),
    Setting("AIPM_IMAGE_MAX_STEPS", "100", "Most denoising steps per image."),
    Setting("AIPM_IMAGE_COMPILE", "0", "`1` wraps the denoiser in `torch.compile` on CUDA (never under ZeroGPU); the first generation then compiles."),
    Setting("AIPM_IMAGE_CPU_OFFLOAD", "0", "`1` keeps only the running sub-model on the GPU (for small GPUs; needs `accelerate`)."),
    Setting("AIPM_IMAGE_VAE_TILING", "auto", "`auto` decodes images above 1 megapixel in tiles on CUDA, `1` always, `0` never."),

    # Recommendations
    Setting("AIPM_RECOMMEND_DATA", "", "Folder with your own `ratings.csv` (user_id, item_id, rating[, timestamp]) and `items.csv` (item_id, title[, year][, genres as `A|B`]) used instead of the embedded MovieLens 100k."),
    Setting("AIPM_RECOMMEND_FACTORS", "32", "Latent factors of the ALS collaborative model."),
    Setting("AIPM_RECOMMEND_REGULARIZATION", "20", "L2 regularization of the ALS collaborative model."),
    Setting("AIPM_RECOMMEND_ITERATIONS", "15", "ALS iterations when fitting."),

    # Marketing copy
    Setting("AIPM_COPY_MODELS", "qwen-1.5b,qwen-0.5b", "Copy models offered, the first is the default: `qwen-1.5b` (embedded Qwen2.5-Coder-1.5B-Instruct, better copy), `qwen-0.5b` (embedded 0.5B, about 3x faster); a configured `custom` model comes first."),
    Setting("AIPM_COPY_PATH", "", "Local chat model for marketing copy: a transformers folder or a `.gguf` file (converted once into the cache); offered as `custom`."),
    Setting("AIPM_COPY_HUB", "", "Hub id of a chat model for marketing copy (for example `Qwen/Qwen2.5-7B-Instruct` on a GPU Space), offered as `custom`; falls back to the embedded 1.5B when unreachable."),
    Setting("AIPM_COPY_MAX_BRIEF_TOKENS", "1024", "Most prompt tokens a brief may take; longer briefs are trimmed with a note."),
    Setting("AIPM_COPY_MAX_NEW_TOKENS", "512", "Most tokens one variant may generate (the max-length slider's upper bound)."),
    Setting("AIPM_COPY_REPETITION_PENALTY", "1.1", "Repetition penalty for the copy models (1 = off)."),
    Setting("AIPM_COPY_ENGINE", "auto", "Engine for the copy models: `auto` (llama.cpp for GGUF files on CPU when llama-cpp-python is installed, else transformers), `llama.cpp` or `transformers`."),
    Setting("AIPM_COPY_THREADS", "auto", "CPU threads of the llama.cpp engine; `auto` = all cores (at most 8)."),
    Setting("AIPM_COPY_CONTEXT", "4096", "Context of the llama.cpp engine in tokens, shared by the variants of one request (the prompt once, plus each variant's new tokens)."),
    Setting("AIPM_COPY_REPAIR", "1", "`1` has the model rewrite what a variant still lacks after decoding (missing field, over-long line, product name, words to avoid); `0` only cuts at sentence or phrase boundaries."),
    Setting("AIPM_COPY_OPENAI_URL", "", "Base URL of an OpenAI-compatible server (vLLM, TGI, llama.cpp server, Ollama), e.g. `http://vllm:8000/v1`; offered as the copy model `openai`, first."),
    Setting("AIPM_COPY_OPENAI_MODEL", "", "Model name sent to that server (empty = the first one its `/models` lists)."),
    Setting("AIPM_COPY_OPENAI_KEY", "", "API key for that server (sent as a Bearer token; empty = none)."),
    Setting("AIPM_COPY_OPENAI_STRUCTURE", "grammar", "How the structure is enforced on that server: `grammar` (GBNF in the `grammar` field: llama.cpp server, llama-cpp-python; vLLM takes it too), `json_schema` (`response_format`: vLLM, TGI, Ollama, OpenAI) or `none` (parse and repair only)."),
    Setting("AIPM_COPY_OPENAI_TIMEOUT", "120", "Seconds to wait for that server to answer a request."),
    Setting("AIPM_COPY_NO_REPEAT_NGRAM", "6", "Token n-grams of this size are never repeated within a variant (0 = off); small enough to stop phrase loops, large enough to let a product name recur."),
)

_BY_NAME = {s.env: s for s in SETTINGS}


def raw(env: str) -> str:
    """The value of a declared setting: the environment's, else its default."""
    return os.environ.get(env, _BY_NAME[env].default).strip()


_UNITS = {"": 1, "B": 1, "KB": 10**3, "MB": 10**6, "GB": 10**9, "KIB": 2**10, "MIB": 2**20, "GIB": 2**30}


def parse_bytes(text: str) -> int:
    """'6GB' -> 6_000_000_000; '512MiB' -> 536870912; '1000' -> 1000."""
    m = re.fullmatch(r"\s*([0-9]*\.?[0-9]+)\s*([A-Za-z]*)\s*", text)
    if not m or m.group(2).upper() not in _UNITS:
        raise ValueError(f"not a size: {text!r} (use e.g. 6GB, 512MB or a number of bytes)")
    return int(float(m.group(1)) * _UNITS[m.group(2).upper()])


@dataclass(frozen=True)
class Settings:
    host: str
    port: int
    max_upload_mb: int
    queue_size: int
    log_level: str
    admin_password: str
    output_ttl_s: float
    cache_dir: Path
    memory_budget: str  # "auto" or a size; resolved by the registry, which knows the device
    keep_alive_s: float
    device: str
    dtype: str
    torch_threads: int
    offline: bool
    preload: tuple[str, ...]
    encoder_path: str
    encoder_hub: str
    sentiment_path: str
    sentiment_hub: str
    sentiment_batch: int
    sentiment_max_rows: int
    database_url: str
    capture: bool
    store_content: bool
    retention_days: float
    store_queue: int


def _threads(value: str) -> int:
    if value == "auto":
        return max(1, min(8, (os.cpu_count() or 2) - 1))
    return max(1, int(value))


def _flag(value: str) -> bool:
    return value.lower() in {"1", "true", "yes", "on"}


@lru_cache(maxsize=1)
def settings() -> Settings:
    """Read once; tests call `settings.cache_clear()` after changing the environment."""
    return Settings(
        host=os.environ.get("GRADIO_SERVER_NAME") or raw("AIPM_HOST"),
        port=int(os.environ.get("GRADIO_SERVER_PORT") or raw("AIPM_PORT")),
        max_upload_mb=int(raw("AIPM_MAX_UPLOAD_MB")),
        queue_size=int(raw("AIPM_QUEUE_SIZE")),
        log_level=raw("AIPM_LOG_LEVEL").upper(),
        admin_password=os.environ.get("AIPM_ADMIN_PASSWORD", ""),  # not stripped: a secret is taken as given
        output_ttl_s=max(60.0, float(raw("AIPM_OUTPUT_TTL"))),
        cache_dir=Path(raw("AIPM_CACHE_DIR")).expanduser(),
        memory_budget=raw("AIPM_MEMORY_BUDGET"),
        keep_alive_s=float(raw("AIPM_KEEP_ALIVE")),
        device=raw("AIPM_DEVICE").lower(),
        dtype=raw("AIPM_DTYPE").lower(),
        torch_threads=_threads(raw("AIPM_TORCH_THREADS")),
        offline=_flag(raw("AIPM_OFFLINE")) or _flag(os.environ.get("HF_HUB_OFFLINE", "0")),
        preload=tuple(p.strip() for p in raw("AIPM_PRELOAD").split(",") if p.strip()),
        encoder_path=raw("AIPM_ENCODER_PATH"),
        encoder_hub=raw("AIPM_ENCODER_HUB"),
        sentiment_path=raw("AIPM_SENTIMENT_PATH"),
        sentiment_hub=raw("AIPM_SENTIMENT_HUB"),
        sentiment_batch=max(1, int(raw("AIPM_SENTIMENT_BATCH"))),
        sentiment_max_rows=max(1, int(raw("AIPM_SENTIMENT_MAX_ROWS"))),
        database_url=raw("AIPM_DATABASE_URL") or f"sqlite:///{Path(raw('AIPM_CACHE_DIR')).expanduser() / 'matrix.db'}",
        capture=_flag(raw("AIPM_CAPTURE")),
        store_content=_flag(raw("AIPM_STORE_CONTENT")),
        retention_days=max(0.0, float(raw("AIPM_RETENTION_DAYS"))),
        store_queue=max(1, int(raw("AIPM_STORE_QUEUE"))),
    )


def markdown_table() -> str:
    rows = ["| Variable | Default | Meaning |", "|---|---|---|"]
    rows += [f"| `{s.env}` | `{s.default}` | {s.help} |" if s.default else f"| `{s.env}` | (empty) | {s.help} |" for s in SETTINGS]
    return "\n".join(rows)


def update_readme(path: Path) -> None:
    """Replace the table between README's config markers with the current one."""
    start, end = "<!-- config:start -->", "<!-- config:end -->"
    text = path.read_text(encoding="utf-8")
    head, rest = text.split(start, 1)
    tail = rest.split(end, 1)[1]
    path.write_text(f"{head}{start}\n{markdown_table()}\n{end}{tail}", encoding="utf-8")


if __name__ == "__main__":
    import sys

    if sys.argv[1:] == ["--readme"]:
        update_readme(Path(__file__).resolve().parent.parent / "README.md")
    else:
        print(markdown_table())
