"""The Sentiment product's settings (README's configuration table lists them)."""
from __future__ import annotations

from shared.config import as_float, as_int, as_lower, as_text, product_settings, setting

ENCODER_CHOICES = ("auto", "minilm", "gemma")
GEMMA_RUNTIMES = ("auto", "onnx", "torch")


def as_encoder(value: str) -> str:
    value = as_lower(value)
    if value not in ENCODER_CHOICES:
        raise ValueError(f"AIPM_SENTIMENT_ENCODER must be one of {', '.join(ENCODER_CHOICES)}, not {value!r}")
    return value


def as_gemma_runtime(value: str) -> str:
    value = as_lower(value)
    if value not in GEMMA_RUNTIMES:
        raise ValueError(f"AIPM_SENTIMENT_GEMMA_RUNTIME must be one of {', '.join(GEMMA_RUNTIMES)}, not {value!r}")
    return value


@product_settings
class SentimentSettings:
    # read by the LocalPath / HubModel sources of products/sentiment/models.py
    path: str = setting(
        "AIPM_SENTIMENT_PATH", "",
        "Local folder of a transformers sequence-classification sentiment model.",
        as_text)
    hub: str = setting(
        "AIPM_SENTIMENT_HUB", "",
        "Hub id of a sentiment model (for example `cardiffnlp/twitter-xlm-roberta-base-sentiment`); falls back to the embedded model when unreachable.",
        as_text)
    batch: int = setting(
        "AIPM_SENTIMENT_BATCH", "32",
        "Texts per forward pass when scoring files.",
        as_int(minimum=1))
    max_rows: int = setting(
        "AIPM_SENTIMENT_MAX_ROWS", "100000",
        "Most rows scored from one uploaded file.",
        as_int(minimum=1))
    encoder: str = setting(
        "AIPM_SENTIMENT_ENCODER", "auto",
        "Encoder of the embedded sentiment model: `auto` (EmbeddingGemma-300M, the more accurate out of domain in "
        "both languages, when it is assembled; else MiniLM), `gemma`, or `minilm` (all-MiniLM-L6-v2 fine-tuned here: "
        "about 10x faster, for very large files).",
        as_encoder)
    gemma_runtime: str = setting(
        "AIPM_SENTIMENT_GEMMA_RUNTIME", "auto",
        "How EmbeddingGemma runs: `auto` (int8 in ONNX Runtime on the CPU when the exported file is there and matches its sha256, `python -m products.sentiment.onnx_gemma export`, which set-up runs; else torch, and always torch on a GPU), `onnx` (the int8 file wherever it is there and verified, on the CPU even beside a GPU; else torch), or `torch` (float, as before).",
        as_gemma_runtime)
    # read by the Server source of products/sentiment/remote.py
    embeddings_url: str = setting(
        "AIPM_SENTIMENT_EMBEDDINGS_URL", "",
        "Base URL (ending in `/v1`) of a server with `/v1/embeddings` that runs the sentiment encoders: another instance of this app (it serves `sentiment-minilm` and `sentiment-gemma`), or vLLM, infinity, text-embeddings-inference serving the same encoder, e.g. `http://encoders:7860/v1`. When set, the encoders the heads score run there (batches of AIPM_SENTIMENT_EMBEDDINGS_BATCH texts); the heads, and the tokenizer that cuts long texts into windows, stay here.",
        as_text)
    embeddings_key: str = setting(
        "AIPM_SENTIMENT_EMBEDDINGS_KEY", "",
        "API key for that server (sent as a Bearer token; empty = none).",
        as_text)
    embeddings_model: str = setting(
        "AIPM_SENTIMENT_EMBEDDINGS_MODEL", "",
        "Model id on that server: empty = the id this app serves each encoder under (`sentiment-minilm`, `sentiment-gemma`); one id for every encoder; or one per encoder, `minilm=ID,gemma=ID`. It must be the encoder the heads were trained on (its vector size is checked when it connects).",
        as_text)
    embeddings_prompt: str = setting(
        "AIPM_SENTIMENT_EMBEDDINGS_PROMPT", "",
        "Text put before every text sent to that server: empty (none) for this app, whose `sentiment-gemma` adds its prompt itself, and for MiniLM; `gemma` puts EmbeddingGemma's classification prompt (what this app's encoder adds), for EmbeddingGemma served by vLLM, infinity or text-embeddings-inference; any other value is put as it is.",
        as_text)
    embeddings_batch: int = setting(
        "AIPM_SENTIMENT_EMBEDDINGS_BATCH", "64",
        "Texts per /v1/embeddings request to that server (up to 4 requests at once).",
        as_int(minimum=1))
    embeddings_timeout: float = setting(
        "AIPM_SENTIMENT_EMBEDDINGS_TIMEOUT", "120",
        "Seconds to wait for that server to answer one request.",
        as_float(minimum=1))
