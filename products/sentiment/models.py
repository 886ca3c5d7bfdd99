"""The sentiment model spec: a configured classifier (local or hub), else the embedded heads.

Both kinds answer the same two questions: which labels for a language, and the probabilities for
a batch of texts. The embedded heads score vectors of a sentiment encoder, a registry model of its
own (products/sentiment/encoders.py) that the caller leases per language (`encoder_for`), so the
encoders are loaded, shared and evicted like any model.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

from shared import artifacts
from shared.models import registry
from shared.registry import LoadContext, ModelSpec
from shared.sources import Bundled, HubModel, LocalPath

SENTIMENT = "sentiment"
# The heads of each encoder (products/sentiment/tools/finetune.py and train.py write them); the sizes and
# hashes are checked when loading.
HEADS = {
    "minilm": ("assets/sentiment/heads-minilm.safetensors", 2498212,
               "1733866c24e0c32c9923f6bb019cea27614be95dfbd2bc0b8c1968e34efdabec"),
    "gemma": ("assets/sentiment/heads-gemma.safetensors", 2894604,
              "f06d7448198a9337da9f10f0c53d9ec2faf8fbb94747c4f8af74ecd1d1321310"),
}
HEADS_FILE, HEADS_SIZE, HEADS_SHA256 = HEADS["minilm"]
# Chosen by the measured figures (README, Sentiment): the encoder each language gets with
# AIPM_SENTIMENT_ENCODER=auto.
AUTO_ENCODERS = {"en": "gemma", "zh": "gemma"}


def chosen_encoders() -> dict[str, str]:
    """{language: encoder} from AIPM_SENTIMENT_ENCODER; under "auto", a language whose chosen encoder
    is not on this machine (EmbeddingGemma not assembled) gets MiniLM, unless the encoders are remote
    (AIPM_SENTIMENT_EMBEDDINGS_URL)."""
    from products.sentiment import gemma

    from products.sentiment.settings import SentimentSettings

    from products.sentiment import remote

    setting = SentimentSettings.current().encoder
    if setting != "auto":
        return {lang: setting for lang in AUTO_ENCODERS}
    if remote.configured():  # the encoders run on the server (which must then have EmbeddingGemma)
        return dict(AUTO_ENCODERS)
    return {lang: enc if enc != "gemma" or gemma.is_ready() else "minilm" for lang, enc in AUTO_ENCODERS.items()}


class EmbeddedSentiment:
    """Heads trained here over a sentiment encoder (a registry model of its own, per language)."""

    needs_encoder = True
    languages = ("en", "zh")

    def __init__(self, heads: dict, name: str = "heads v0", encoders: dict | None = None,
                 temperatures: dict | None = None, fast: tuple[dict, dict] | None = None):
        self.heads = heads
        self.name = name  # the head version (products/sentiment/versions.py), recorded with each request
        self.encoders = encoders or {lang: "minilm" for lang in heads}
        self.temperatures = temperatures or {}
        self.fast = fast  # (heads, temperatures) over MiniLM: the fast option for very large files

    def _kind(self, fast: bool) -> tuple[dict, dict]:
        return self.fast if fast and self.fast else (self.heads, self.temperatures)

    def encoder_for(self, lang: str, fast: bool = False, reg=None) -> str:
        """The registry name of the language's encoder: the local spec, or its remote one while
        AIPM_SENTIMENT_EMBEDDINGS_URL is set (registered in `reg` if it is not yet)."""
        from products.sentiment.encoders import MINILM
        from products.sentiment.remote import spec_for

        return spec_for(MINILM if fast and self.fast else self.encoders[lang], reg)

    def labels(self, lang: str) -> tuple[str, ...]:
        from products.sentiment.heads import LABELS

        return LABELS[lang]

    def limits(self, encoder):
        return encoder.tokenizer, encoder.max_tokens - getattr(encoder, "prompt_tokens", 0)

    def predict(self, texts: list[str], lang: str, encoder, batch_size: int = 32, fast: bool = False) -> np.ndarray:
        """Calibrated probabilities: the logits divided by the language's temperature (fitted on validation)."""
        import torch

        heads, temperatures = self._kind(fast)
        vectors = torch.from_numpy(encoder.encode(texts, batch_size=batch_size))
        with torch.inference_mode():
            logits = heads[lang](vectors, texts)
        return torch.softmax(logits.float() / float(temperatures.get(lang, 1.0)), -1).numpy()


def bundled_heads(encoders: dict[str, str]) -> tuple[dict, dict]:
    """({lang: head}, {lang: temperature}) from the bundled file of each language's encoder."""
    import json

    from products.sentiment.heads import heads_metadata, load_heads

    heads, temperatures = {}, {}
    for lang, encoder in encoders.items():
        file, size, sha = HEADS[encoder]
        path = ROOT / file
        artifacts.verify(path, size, sha)
        heads[lang] = load_heads(path)[lang]
        temperatures[lang] = json.loads(heads_metadata(path).get("temperatures", "{}")).get(lang, 1.0)
    return heads, temperatures


def heads_from_file(path) -> EmbeddedSentiment:
    """Heads over the encoders their file's metadata names (MiniLM when it names none)."""
    import json

    from products.sentiment.heads import heads_metadata, load_heads

    heads, meta = load_heads(path), heads_metadata(path)
    encoders = json.loads(meta.get("encoders") or "{}") or {lang: "minilm" for lang in heads}
    return EmbeddedSentiment(heads, f"heads {Path(path).stem}", encoders, json.loads(meta.get("temperatures") or "{}"))


def current_heads() -> tuple[dict, str, dict, dict]:
    """(heads, version, encoders, temperatures): the promoted version when it was trained over the
    encoders chosen now, else the bundled heads."""
    import json

    from products.sentiment import versions
    from products.sentiment.heads import heads_metadata, load_heads

    encoders = chosen_encoders()
    heads, temperatures = bundled_heads(encoders)
    path, version = versions.current(ROOT / HEADS_FILE)
    if version != versions.BUNDLED:
        meta = heads_metadata(path)
        if json.loads(meta.get("encoders", "{}")) == encoders:
            heads = load_heads(path)
            temperatures = json.loads(meta.get("temperatures", "{}")) or temperatures
        else:
            version = versions.BUNDLED
    return heads, version, encoders, temperatures


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

    def predict(self, texts: list[str], lang: str, encoder=None, batch_size: int = 32, fast: bool = False) -> np.ndarray:
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
        if Path(ctx.path).resolve() == (ROOT / HEADS_FILE).resolve():
            heads, version, encoders, temperatures = current_heads()  # a promoted retrain, else the bundled heads
            fast = None if set(encoders.values()) == {"minilm"} else bundled_heads({lang: "minilm" for lang in encoders})
            return EmbeddedSentiment(heads, f"heads {version}", encoders, temperatures, fast)
        return heads_from_file(ctx.path)  # a heads file of its own (a test, another source)
    from transformers import AutoModelForSequenceClassification, AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(ctx.source.location)
    model = AutoModelForSequenceClassification.from_pretrained(ctx.source.location, dtype=ctx.dtype)
    return TransformersSentiment(model.to(ctx.device).eval(), tokenizer)


SENTIMENT_SPEC = ModelSpec(
    name=SENTIMENT,
    loader=load_sentiment,
    sources=(LocalPath("AIPM_SENTIMENT_PATH"), HubModel("AIPM_SENTIMENT_HUB"),
             Bundled(HEADS_FILE, HEADS_SIZE, HEADS_SHA256)),
    description="Sentiment classifier: heads over the sentiment encoders (English 3 classes, Chinese 2), or a configured model",
    size_estimate=6_000_000,
    fix_hint="restore assets/sentiment/heads-*.safetensors (git checkout, or products.sentiment.tools.finetune / .train), "
             "or set AIPM_SENTIMENT_PATH / AIPM_SENTIMENT_HUB",
)

ROOT = Path(__file__).resolve().parents[2]
registry.register(SENTIMENT_SPEC)
from products.sentiment import encoders as _encoders  # noqa: E402,F401  (registers the encoders the heads use)
