"""Customer call: a recording in; speakers, sentiment per turn, likes and complaints, a follow-up email and
its header image out. Speech, sentiment, copy and image working together (pipeline.py), declared like a
product so the shared layer serves it the same way."""
from shared import feedback
from shared.descriptor import FeedbackKind, Measure, Product, Rating

from workflows.customer_call import service, strings  # noqa: F401  (strings: the tab title and messages)


def build_tab() -> None:
    from workflows.customer_call.tab import build_tab as build

    build()


def score_transcript(rating: Rating) -> None:
    """A corrected transcript: the word error rate of the call's transcript against it."""
    feedback.score_correction(rating, rating.memo.get("transcript"))


def score_email(rating: Rating) -> None:
    """An edited email: how much of the model's email the user rewrote."""
    feedback.score_correction(rating, rating.memo.get("email"))


PRODUCT = Product(
    name="customer_call",
    title="call.tab",
    build_tab=build_tab,
    actions=("call_analyse", "call_rerun", "call_stop", "call_example"),
    rated=("call_analyse", "call_rerun", "call_example"),
    feedback=(FeedbackKind("transcript_fix", None, score_transcript),
              FeedbackKind("wrong_sentiment", 0.0, feedback.require_item),
              FeedbackKind("missed_complaint", 0.0, feedback.require_text),
              FeedbackKind("email_up", 1.0), FeedbackKind("email_down", 0.0),
              FeedbackKind("email_edit", None, score_email)),
    uses=("speech", "sentiment", "copy", "image"),
    routes=service.routes,
    measures=(Measure("audio_s", "seconds of call audio"), Measure("turns", "turns transcribed"),
              Measure("items", "likes and complaints found"), Measure("steps", "steps run")),
)
