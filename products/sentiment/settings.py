"""The Sentiment product's settings (README's configuration table lists them)."""
from __future__ import annotations

from shared.config import as_int, as_lower, as_text, product_settings, setting

ENCODER_CHOICES = ("auto", "minilm", "gemma")


def as_encoder(value: str) -> str:
    value = as_lower(value)
    if value not in ENCODER_CHOICES:
        raise ValueError(f"AIPM_SENTIMENT_ENCODER must be one of {', '.join(ENCODER_CHOICES)}, not {value!r}")
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
