"""Sentiment analysis: one text or a whole file, English and Chinese, with per-class probabilities."""
TAB_TITLE = "sentiment.tab"


def build_tab() -> None:
    from products.sentiment.tab import build_tab as build

    build()
