"""Sentiment as a service: the native REST routes (/api/v1/sentiment/...) and the encoders as
/v1/embeddings models. Plain functions of core.py do the work; shared/api does keys, limits, metering
and errors."""

from pydantic import BaseModel, Field

from shared.encoder import embed_with
from shared.ui import UserError

MAX_TEXTS = 1000


def embed_minilm(texts: list[str]):
    from products.sentiment.encoders import MINILM, MODEL_NAMES

    return embed_with(MODEL_NAMES[MINILM], texts)


def embed_gemma(texts: list[str]):
    from products.sentiment.encoders import GEMMA, MODEL_NAMES

    return embed_with(MODEL_NAMES[GEMMA], texts)


class ScoreRequest(BaseModel):
    texts: list[str] = Field(min_length=1, max_length=MAX_TEXTS)
    language: str = "auto"
    fast: bool = False


def score(texts: list[str], language: str = "auto", fast: bool = False) -> list[dict]:
    """One result per text, in order: the label, calibrated probabilities, the overall label ("mixed" when
    clauses disagree) and the clauses; a text that cannot be scored gets its message instead, the others
    are still scored."""
    from products.sentiment import core

    results: list[dict] = [{} for _ in texts]
    good = []
    for i, text in enumerate(texts):
        try:
            good.append((i, core.check_text(text)))
        except UserError as err:
            results[i] = {"index": i, "error": str(err)}
    scored = core.score_with_clauses([text for _, text in good], language, fast=fast) if good else []
    for (i, _), r in zip(good, scored):
        results[i] = {"index": i, "label": r.label, "overall": r.overall, "language": r.language,
                      "probabilities": r.probabilities, "windows": r.windows, "notes": r.notes, "model": r.model,
                      "clauses": [{"text": c.text, "label": c.label, "confidence": c.confidence}
                                  for c in r.clauses]}
    return results


def routes():
    """The native routes (imported when the API server is built, not when the app is)."""
    from fastapi import APIRouter, Depends

    from shared.api.guard import Call, metered

    router = APIRouter()

    @router.post("/score", summary="Sentiment of a list of texts (every text comes back, in order)")
    def score_route(body: ScoreRequest, call: Call = Depends(metered("sentiment", "sentiment_api"))):
        results = score(body.texts, body.language, body.fast)
        call.model = next((r["model"] for r in results if "model" in r), None)
        call.units(rows=len(body.texts))
        return call.json({"results": results})

    return router
