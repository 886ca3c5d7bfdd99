"""Recommendations as a service: the native routes (/api/v1/recommend/user, /cold_start, /similar). The
plain functions of core.py do the work, with the tab's checks and messages; each item comes back with
its id, title, genres, scores and the explanation the tab shows. shared/api does keys, limits,
metering and errors."""
from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

MODEL = "hybrid"  # what the tab notes as the model (EASE + content + ALS + kNN + transitions, blended)
# The tab's column (i18n key suffix) -> the key an item has here.
_KEYS = {"title": "title", "genres": "genres", "score": "score", "similarity": "score",
         "collaborative": "collaborative", "content": "content", "why": "explanation"}


class Filters(BaseModel):
    model_config = ConfigDict(extra="forbid")  # a misspelt field is a 400 naming it, not silently ignored

    n: int = Field(default=10, description="how many items (1 to 50)")
    weight: float | None = Field(default=None, description="the blend: 1 collaborative only, 0 content only; "
                                                           "null: the tuned blend")
    filter_genres: list[str] = Field(default_factory=list, description="only items of these genres")
    year_from: int | None = None
    year_to: int | None = None


class UserRequest(Filters):
    user_id: str | int
    exclude: list[str | int] = Field(default_factory=list, description="item ids to leave out (not interested, seen)")


class ColdStartRequest(Filters):
    items: list[str | int] = Field(default_factory=list, description="ids (or titles) of items the visitor likes")
    genres: list[str] = Field(default_factory=list, description="genres the visitor likes")
    liked: list[str | int] = Field(default_factory=list,
                                   description="more liked item ids (folded in; ids not in the catalog are skipped)")
    exclude: list[str | int] = Field(default_factory=list, description="item ids to leave out")


class SimilarRequest(Filters):
    item_id: str | int


def _rows(table) -> list[dict]:
    """The tab's table (English columns) as a list of items with stable keys."""
    from shared.i18n import t

    names = {t(f"recommend.col.{column}", "en"): key for column, key in _KEYS.items()}
    out = []
    for record in table.to_dict("records"):
        item = {"item_id": str(record["item_id"])}
        for column, value in record.items():
            key = names.get(column)
            if key == "genres":
                value = [g for g in str(value).split(", ") if g]
            if key:
                item[key] = value.item() if hasattr(value, "item") else value
        out.append(item)
    return out


def _years(body: Filters):
    return (body.year_from, body.year_to)


def for_user(body: UserRequest, lang: str = "en") -> dict:
    from products.recommend import core

    table, _, _, summary = core.for_user(body.user_id, body.n, body.weight, body.filter_genres, _years(body), lang,
                                         hidden=[str(i) for i in body.exclude])
    return {"user_id": str(body.user_id), "items": _rows(table), "summary": summary}


def cold_start(body: ColdStartRequest, lang: str = "en") -> dict:
    from products.recommend import core

    table, _, summary = core.cold_start([str(i) for i in body.items], body.genres, body.n, body.weight,
                                        body.filter_genres, _years(body), lang, liked=[str(i) for i in body.liked],
                                        hidden=[str(i) for i in body.exclude])
    return {"items": _rows(table), "summary": summary}


def similar(body: SimilarRequest, lang: str = "en") -> dict:
    from products.recommend import core

    table, title = core.similar(body.item_id, body.n, body.weight, body.filter_genres, _years(body), lang)
    items = _rows(table) if len(table) else []
    return {"item_id": str(body.item_id), "title": title if items else None, "items": items}


def routes():
    """The native routes (imported when the API server is built, not when the app is)."""
    from fastapi import APIRouter, Depends

    from shared.api.guard import Call, metered

    router = APIRouter()

    def answer(call: Call, result: dict):
        call.model = MODEL
        call.units(rows=len(result["items"]))
        return call.json(result)

    @router.post("/user", summary="Recommendations for a known user, with the reason for each")
    def user_route(body: UserRequest, call: Call = Depends(metered("recommend", "recommend_user_api"))):
        return answer(call, for_user(body))

    @router.post("/cold_start", summary="Recommendations for a new visitor from a few items (and genres) they like")
    def cold_start_route(body: ColdStartRequest,
                         call: Call = Depends(metered("recommend", "recommend_cold_start_api"))):
        return answer(call, cold_start(body))

    @router.post("/similar", summary="Items similar to one item, with the reason for each")
    def similar_route(body: SimilarRequest, call: Call = Depends(metered("recommend", "recommend_similar_api"))):
        return answer(call, similar(body))

    return router
