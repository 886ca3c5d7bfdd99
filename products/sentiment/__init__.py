"""Sentiment analysis: one text or a whole file, English and Chinese, with per-class probabilities."""
from shared import feedback
from shared.artifacts import declared_in
from shared.descriptor import FeedbackKind, Measure, Product, Service

from products.sentiment import artifacts, service, strings  # noqa: F401  (strings: the tab title and messages)
from products.sentiment.settings import SentimentSettings


def build_tab() -> None:
    from products.sentiment.tab import build_tab as build

    build()


PRODUCT = Product(
    name="sentiment",
    title="sentiment.tab",
    build_tab=build_tab,
    actions=("sentiment", "sentiment_file", "sentiment_columns", "sentiment_restore", "sentiment_retrain"),
    rated=("sentiment",),
    # A correction names the right label; a confirmation agrees with the model's (scored 1 or 0 either way).
    feedback=(FeedbackKind("correction", None, feedback.check_label),
              FeedbackKind("confirm", 1.0, feedback.check_label)),
    measures=(Measure("rows", "texts scored"),),
    settings=(SentimentSettings,),
    artifacts=declared_in(artifacts),
    services=(Service("embeddings", "sentiment-minilm", service.embed_minilm,
                      "all-MiniLM-L6-v2 fine-tuned on sentiment here (384 dimensions)"),
              Service("embeddings", "sentiment-gemma", service.embed_gemma,
                      "EmbeddingGemma-300M with its classification prompt (768 dimensions)")),
    routes=service.routes,
)
