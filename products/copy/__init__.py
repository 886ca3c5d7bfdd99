"""Marketing copy: on-brief copy per channel (ads, meta tags, email subjects, posts...), streamed, in
English and Chinese, from a small instruction-tuned LLM (Qwen2.5-Coder-Instruct 1.5B / 0.5B, embedded)."""
from shared import feedback
from shared.artifacts import declared_in
from shared.descriptor import FeedbackKind, Measure, Product, Rating

from products.copy import artifacts, service, strings  # noqa: F401  (strings: the tab title and messages)
from products.copy.settings import CopySettings


def build_tab() -> None:
    from products.copy.tab import build_tab as build

    build()


def score_edit(rating: Rating) -> None:
    """An edited variant: word error rate of the model's variant against the user's edit."""
    variants = rating.memo.get("variants") or []
    try:
        original = variants[int(rating.item) - 1]
    except (ValueError, IndexError):
        original = None
    feedback.score_correction(rating, original)


PRODUCT = Product(
    name="copy",
    title="copy.tab",
    build_tab=build_tab,
    actions=("copy_generate", "copy_regenerate", "copy_stop"),
    rated=("copy_generate", "copy_regenerate"),
    feedback=(FeedbackKind("up", 1.0, feedback.check_item), FeedbackKind("down", 0.0, feedback.check_item),
              FeedbackKind("pick", 1.0, feedback.check_item), FeedbackKind("edit", None, score_edit)),
    measures=(Measure("tokens_in", "prompt tokens"), Measure("tokens_out", "tokens decoded, all variants")),
    settings=(CopySettings,),
    artifacts=declared_in(artifacts),
    services=service.services,
    routes=service.routes,
)
