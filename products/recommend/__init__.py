"""Recommendations: a hybrid (collaborative + content) recommender on MovieLens 100k or your own catalog,
with explanations, cold start from a few picks, similar items and an honest offline evaluation."""
from shared import feedback
from shared.artifacts import declared_in
from shared.descriptor import FeedbackKind, Measure, Product

from products.recommend import artifacts, service, strings  # noqa: F401  (strings: the tab title and messages)
from products.recommend.settings import RecommendSettings


def build_tab() -> None:
    from products.recommend.tab import build_tab as build

    build()


PRODUCT = Product(
    name="recommend",
    title="recommend.tab",
    build_tab=build_tab,
    actions=("recommend_user", "recommend_cold_start", "recommend_similar", "recommend_model_card"),
    rated=("recommend_user", "recommend_cold_start", "recommend_similar"),
    # Remembered per session: the next recommendations fold the liked items in and leave the others out.
    feedback=(FeedbackKind("not_interested", 0.0, feedback.require_item, remember_item=True),
              FeedbackKind("liked", 1.0, feedback.require_item, remember_item=True)),
    measures=(Measure("rows", "items recommended"),),
    settings=(RecommendSettings,),
    artifacts=declared_in(artifacts),
    routes=service.routes,  # native routes only: no OpenAI-compatible capability
)
