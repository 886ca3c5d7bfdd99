"""The sentiment model spec: a configured classifier (local or hub), else the embedded heads.

Both kinds answer the same two questions: which labels for a language, and the probabilities for
a batch of texts. The embedded heads need the shared sentence encoder, which the caller leases
(`needs_encoder`), so the encoder stays one shared model rather than a private copy.
"""
from __future__ import annotations

import numpy as np

from shared.models import registry
from shared.registry import LoadContext, ModelSpec
from shared.sources import Bundled, HubModel, LocalPath

SENTIMENT = "sentiment"
HEADS_FILE = "assets/sentiment/heads.safetensors"
HEADS_SIZE = 2498276
HEADS_SHA256 = "9490655f57a71a1e575e52d7ff78b1d029749e0c62c59a870de800372db34045"


class EmbeddedSentiment:
    """Heads trained here (products/sentiment/train.py) over the shared encoder."""

    needs_encoder = True
    languages = ("en", "zh")

    def __init__(self, heads: dict, name: str = "heads v0"):
        self.heads = heads
        self.name = name  # the head version (products/sentiment/versions.py), recorded with each request

    def labels(self, lang: str) -> tuple[str, ...]:
        from products.sentiment.heads import LABELS

        return LABELS[lang]

    def limits(self, encoder):
        return encoder.tokenizer, encoder.max_tokens

    def predict(self, texts: list[str], lang: str, encoder, batch_size: int = 32) -> np.ndarray:
        import torch

        vectors = torch.from_numpy(encoder.encode(texts, batch_size=batch_size))
        with torch.inference_mode():
            logits = self.heads[lang](vectors, texts)
        return torch.softmax(logits.float(), -1).numpy()


class TransformersSentiment:
    """Any transformers sequence-classification model (e.g. a multilingual hub model)."""

    needs_encoder = False

    def __init__(self, model, tokenizer):
        self.model = model
        self.tokenizer = tokenizer
        self.name = str(getattr(model.config, "_name_or_path", "") or "transformers")[-128:]
        id2label = model.config.id2label
        self._labels = tuple(str(id2label[i]).lower() for i in range(len(id2label)))
        self.max_tokens = min(int(getattr(tokenizer, "model_max_length", 512) or 512),
                              int(getattr(model.config, "max_position_embeddings", 514)) - 2, 512)

    def labels(self, lang: str) -> tuple[str, ...]:
        return self._labels

    def limits(self, encoder=None):
        return self.tokenizer, self.max_tokens

    def predict(self, texts: list[str], lang: str, encoder=None, batch_size: int = 32) -> np.ndarray:
        import torch

        out = []
        with torch.inference_mode():
            for i in range(0, len(texts), batch_size):
                batch = self.tokenizer(texts[i:i + batch_size], padding=True, truncation=True,
                                       max_length=self.max_tokens, return_tensors="pt").to(self.model.device)
                out.append(torch.softmax(self.model(**batch).logits.float(), -1).cpu().numpy())
        return np.concatenate(out)


def load_sentiment(ctx: LoadContext):
    if ctx.source.kind == "embedded":
        from products.sentiment import versions
        from products.sentiment.heads import load_heads

        path, version = versions.current(ctx.path)  # a promoted retrain, else the bundled heads
        return EmbeddedSentiment(load_heads(path), f"heads {version}")
    from transformers import AutoModelForSequenceClassification, AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(ctx.source.location)
    model = AutoModelForSequenceClassification.from_pretrained(ctx.source.location, dtype=ctx.dtype)
    return TransformersSentiment(model.to(ctx.device).eval(), tokenizer)


SENTIMENT_SPEC = ModelSpec(
    name=SENTIMENT,
    loader=load_sentiment,
    sources=(LocalPath("AIPM_SENTIMENT_PATH"), HubModel("AIPM_SENTIMENT_HUB"),
             Bundled(HEADS_FILE, HEADS_SIZE, HEADS_SHA256)),
    description="Sentiment classifier: heads over the sentence encoder (English 3 classes, Chinese 2), or a configured model",
    size_estimate=3_000_000,
    fix_hint="restore assets/sentiment/heads.safetensors (git checkout, or python -m products.sentiment.train), "
             "or set AIPM_SENTIMENT_PATH / AIPM_SENTIMENT_HUB",
)

registry.register(SENTIMENT_SPEC)
