"""Recommendations: a hybrid (collaborative + content) recommender on MovieLens 100k or your own catalog,
with explanations, cold start from a few picks, similar items and an honest offline evaluation."""
TAB_TITLE = "recommend.tab"


def build_tab() -> None:
    from products.recommend.tab import build_tab as build

    build()
