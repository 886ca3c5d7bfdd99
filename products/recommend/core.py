"""Recommendation actions as plain functions (no Gradio): for a known user, for a new visitor from a
few picks (fold-in), similar items, and the pickers' lists. Tables come back as pandas DataFrames;
the model card is card.py, the strings strings.py.
"""
from __future__ import annotations

import contextlib
import json
import time
from pathlib import Path

import numpy as np
import pandas as pd

from shared import artifacts
from shared.encoder import ENCODER
from shared.i18n import t
from shared.models import registry as shared_registry
from shared.ui import UserError

from products.recommend import content, models, strings  # noqa: F401  (strings: registers the texts)
from products.recommend.recommender import HybridRecommender


MAX_N = 50


def attach_content(model: HybridRecommender, progress=None, registry=None) -> None:
    """Give the fitted model its content vectors: from the disk cache, else through the shared encoder."""
    if model.content is not None:
        return
    registry = registry or shared_registry
    report = progress or (lambda f, s: None)

    def encode():
        with registry.use(ENCODER, progress) as encoder:
            return content.encode_content(model.data, encoder, report)

    content.attach(model, models.cache_root(), models.encoder_key(), encode,
                   progress=lambda f, text: report(0.9 + 0.09 * f, text))


@contextlib.contextmanager
def recommender(progress=None, registry=None):
    """Lease the fitted recommender (fitting or loading it on first use) with its content signal."""
    registry = registry or shared_registry
    with registry.use(models.RECOMMENDER, progress) as model:
        attach_content(model, progress, registry)
        yield model


# ---- validation ------------------------------------------------------------------------------
def check_n(n, lang="en") -> int:
    try:
        n = int(n)
    except (TypeError, ValueError):
        raise UserError(t("recommend.error.n", lang, limit=MAX_N)) from None
    if not 1 <= n <= MAX_N:
        raise UserError(t("recommend.error.n", lang, limit=MAX_N))
    return n


def check_weight(weight, lang="en") -> float | None:
    if weight is None:
        return None
    weight = float(weight)
    if not 0.0 <= weight <= 1.0:
        raise UserError(t("recommend.error.weight", lang))
    return weight


def check_filters(model: HybridRecommender, genres, years, lang="en"):
    known = model.data.genres()
    genres = [g for g in (genres or []) if g]
    for g in genres:
        if g not in known:
            raise UserError(t("recommend.error.genre", lang, genre=g, genres=", ".join(known)))
    if years is not None:
        lo, hi = (None if v is None or v == "" else int(float(v)) for v in years)
        if lo is None and hi is None:
            years = None
        else:
            lo = -10**9 if lo is None else lo
            hi = 10**9 if hi is None else hi
            if lo > hi:
                raise UserError(t("recommend.error.years", lang, lo=lo, hi=hi))
            years = (lo, hi)
    return genres or None, years


def user_index(model: HybridRecommender, user, lang="en") -> int:
    key = str(user).strip() if user is not None else ""
    if key.endswith(".0") and key[:-2].isdigit():  # a number field sends 5.0
        key = key[:-2]
    if key not in model.data.user_index:
        ids = model.data.user_ids
        raise UserError(t("recommend.error.user", lang, user=key, first=ids[0], last=ids[-1], count=len(ids)))
    return model.data.user_index[key]


def item_index(model: HybridRecommender, item, lang="en") -> int:
    key = str(item).strip()
    if key in model.data.item_index:
        return model.data.item_index[key]
    labels = model.data.items["label"]
    match = np.flatnonzero(labels.to_numpy() == key)  # a label typed or pasted instead of an id
    if len(match):
        return int(match[0])
    raise UserError(t("recommend.error.item", lang, item=key))


# ---- presentation ----------------------------------------------------------------------------
def _title(model, i: int) -> str:
    return str(model.data.items["label"].iat[i])


def _because(model, items, key: str, lang: str) -> str:
    if not items:
        return ""
    names = t("recommend.and", lang).join(f"*{_title(model, j)}*" for j in items)
    return t(key, lang, items=names)


def _table(model, scored, key: str, lang: str) -> pd.DataFrame:
    items = model.data.items
    rows = [{
        t("recommend.col.rank", lang): rank,
        t("recommend.col.title", lang): _title(model, s.index),
        t("recommend.col.genres", lang): ", ".join(items["genres"].iat[s.index]),
        t("recommend.col.score", lang): round(s.score, 3),
        t("recommend.col.collaborative", lang): round(s.collaborative, 3),
        t("recommend.col.content", lang): round(s.content, 3),
        t("recommend.col.why", lang): _because(model, s.because, key, lang),
        "item_id": str(items["item_id"].iat[s.index]),
    } for rank, s in enumerate(scored, 1)]
    return pd.DataFrame(rows, columns=[t(f"recommend.col.{c}", lang) for c in
                                       ("rank", "title", "genres", "score", "collaborative", "content", "why")]
                        + ["item_id"])


def genre_mix(model, history_items, recommended_items, lang="en") -> pd.DataFrame:
    """Share of each genre in the history and in the recommendations (for a grouped bar chart)."""
    rows = []
    for label, items in ((t("recommend.set.history", lang), history_items),
                         (t("recommend.set.recs", lang), recommended_items)):
        counts: dict[str, int] = {}
        for i in items:
            for g in model.data.items["genres"].iat[int(i)]:
                counts[g] = counts.get(g, 0) + 1
        total = sum(counts.values()) or 1
        rows += [{"genre": g, "share": round(c / total, 4), "set": label} for g, c in sorted(counts.items())]
    return pd.DataFrame(rows, columns=["genre", "share", "set"])


def score_bars(table: pd.DataFrame, lang="en") -> pd.DataFrame:
    return pd.DataFrame({"title": table[t("recommend.col.title", lang)], "score": table[t("recommend.col.score", lang)]})


def history_table(model, user: int, lang="en") -> pd.DataFrame:
    items, ratings = model.history(user)
    frame = model.train[model.train["u"] == user].set_index("i")
    dates = [time.strftime("%Y-%m-%d", time.gmtime(float(frame.at[i, "timestamp"]))) for i in items]
    return pd.DataFrame({t("recommend.col.title", lang): [_title(model, i) for i in items],
                         t("recommend.col.rating", lang): ratings.astype(float),
                         t("recommend.col.date", lang): dates})


# ---- actions ---------------------------------------------------------------------------------
def _known(model, items) -> list[int]:
    """Indices of the item ids that exist (feedback may name items of other data)."""
    ids = {str(v): i for i, v in enumerate(model.data.items["item_id"])}
    return [ids[str(item)] for item in items or () if str(item) in ids]


def _without(scored, hidden: list[int], n: int):
    hidden = set(hidden)
    return [s for s in scored if s.index not in hidden][:n]


def for_user(user, n=10, weight=None, genres=None, years=None, lang="en", progress=None, registry=None,
             hidden=()):
    """(recommendations, history, genre mix, summary) for a known user; `hidden` item ids (this
    visitor's "not interested" and "seen it") are left out at once, without refitting."""
    n, weight = check_n(n, lang), check_weight(weight, lang)
    with recommender(progress, registry) as model:
        u = user_index(model, user, lang)
        genres, years = check_filters(model, genres, years, lang)
        hide = _known(model, hidden)
        start = time.perf_counter()
        scored = _without(model.recommend(u, n + len(hide), weight, genres, years), hide, n)
        ms = (time.perf_counter() - start) * 1000
        key = "recommend.because.rated" if (model.history(u)[1] >= 4).any() else "recommend.because.rated_any"
        table = _table(model, scored, key, lang)
        history = history_table(model, u, lang)
        mix = genre_mix(model, model.history(u)[0], [s.index for s in scored], lang)
        return table, history, mix, _summary(model, scored, model.bucket(len(model.history(u)[0])), weight, ms, lang)


def cold_start(picks, favourite_genres=None, n=10, weight=None, genres=None, years=None, lang="en",
               progress=None, registry=None, liked=(), hidden=()):
    """(recommendations, genre mix, summary) for a new visitor from the items they like. Items they
    marked "seen it / liked it" count as picks (folded in like the others, no refit); `hidden` ones
    are left out."""
    n, weight = check_n(n, lang), check_weight(weight, lang)
    picks = [p for p in (picks or []) if str(p).strip()]
    if not picks and not liked:
        raise UserError(t("recommend.error.no_picks", lang))
    with recommender(progress, registry) as model:
        indices = [item_index(model, p, lang) for p in picks]
        indices += [i for i in _known(model, liked) if i not in indices]
        hide = _known(model, hidden)
        favourite, _ = check_filters(model, favourite_genres, None, lang)
        genres, years = check_filters(model, genres, years, lang)
        start = time.perf_counter()
        scored = _without(model.fold_in(indices, favourite or (), n + len(hide), weight, genres, years), hide, n)
        ms = (time.perf_counter() - start) * 1000
        table = _table(model, scored, "recommend.because.picked", lang)
        mix = genre_mix(model, indices, [s.index for s in scored], lang)
        return table, mix, _summary(model, scored, "visitor", weight, ms, lang)


def similar(item, n=10, weight=None, genres=None, years=None, lang="en", progress=None, registry=None):
    """(similar items with the reason, summary)."""
    n, weight = check_n(n, lang), check_weight(weight, lang)
    if item is None or not str(item).strip():
        raise UserError(t("recommend.error.no_item", lang))
    with recommender(progress, registry) as model:
        i = item_index(model, item, lang)
        genres, years = check_filters(model, genres, years, lang)
        w = model.weight if weight is None else weight
        mine = set(model.data.items["genres"].iat[i])
        rows = []
        for j, score, cf, content, co in model.similar_items(i, n, weight, genres, years):
            shared = [g for g in model.data.items["genres"].iat[j] if g in mine]
            if w * cf >= (1 - w) * content:
                reason = t("recommend.reason.audience", lang, co=co)
            else:
                reason = t("recommend.reason.content", lang, genres=t("recommend.reason.genres", lang,
                                                                      genres=", ".join(shared)) if shared else "")
            rows.append({t("recommend.col.title", lang): _title(model, j),
                         t("recommend.col.genres", lang): ", ".join(model.data.items["genres"].iat[j]),
                         t("recommend.col.similarity", lang): round(score, 3),
                         t("recommend.col.collaborative", lang): round(cf, 3),
                         t("recommend.col.content", lang): round(content, 3),
                         t("recommend.col.why", lang): reason, "item_id": str(model.data.items["item_id"].iat[j])})
        return pd.DataFrame(rows), (t("recommend.empty", lang) if not rows else _title(model, i))


def _summary(model, scored, bucket, weight, ms, lang) -> str:
    if not scored:
        return t("recommend.empty", lang)
    share = model.bucket_share(bucket, weight)
    text = t("recommend.summary", lang, n=len(scored), ms=ms, w=share, c=1 - share)
    fit = model.ease_fit.get(bucket)
    if fit and fit[1] and share > 0:
        text += t("recommend.summary.alpha", lang, alpha=fit[1])
    seq = model.weights.get(bucket, {}).get("seq", 0.0)
    if seq and share > 0:
        text += t("recommend.summary.seq_picks" if bucket == "visitor" else "recommend.summary.seq", lang, w=seq)
    return text


def item_id(item, lang="en", progress=None, registry=None) -> str:
    """The id of an item given by id or by its title (as the tables show it)."""
    with recommender(progress, registry) as model:
        return str(model.data.items["item_id"].iat[item_index(model, item, lang)])


def choices(progress=None, registry=None) -> dict:
    """Users, items (label, id) and genres of the loaded data, for the tab's pickers."""
    registry = registry or shared_registry
    with registry.use(models.RECOMMENDER, progress) as model:
        items = model.data.items
        years = model.years[np.isfinite(model.years)]
        return {"users": list(model.data.user_ids), "items": list(zip(items["label"], items["item_id"])),
                "genres": model.data.genres(), "weight": model.weight,
                "years": (int(years.min()), int(years.max())) if len(years) else (1900, 2030)}


_catalog_cache: dict = {}


def _catalog_file(folder: Path) -> Path:
    import hashlib

    stamp = "|".join(f"{f.name}:{f.stat().st_size}:{f.stat().st_mtime_ns}" for f in sorted(Path(folder).iterdir())
                     if f.is_file())
    key = hashlib.sha256(f"{Path(folder).resolve()}|{stamp}".encode()).hexdigest()[:16]
    return artifacts.cache_dir() / "recommend" / f"catalog-{key}.json"


def catalog_choices() -> dict:
    """Users, items and genres straight from the data files (no model fitted), for the tab's pickers.

    Uses the recommender spec's own source chain; empty lists when no source is available (the
    actions then report why). Parsing the ratings takes about half a second, so the lists are
    cached on disk, keyed by the data files' names, sizes and modification times: the app starts
    faster the second time."""
    if "value" in _catalog_cache:
        return _catalog_cache["value"]
    from products.recommend.data import load_folder, load_movielens

    value = {"users": [], "items": [], "genres": [], "years": (1900, 2030)}
    for resolved in shared_registry.available_sources(models.RECOMMENDER):
        try:
            cached = _catalog_file(resolved.path)
            if cached.is_file():
                value = json.loads(cached.read_text(encoding="utf-8"))
                value["items"] = [tuple(pair) for pair in value["items"]]
                value["years"] = tuple(value["years"])
                break
            data = load_movielens(resolved.path) if resolved.kind == "embedded" else load_folder(resolved.path)
        except (UserError, OSError, ValueError):
            continue
        years = data.items["year"].dropna()
        value = {"users": [str(u) for u in data.user_ids],
                 "items": [(str(label), str(item)) for label, item in zip(data.items["label"], data.items["item_id"])],
                 "genres": list(data.genres()),
                 "years": (int(years.min()), int(years.max())) if len(years) else (1900, 2030)}
        text = json.dumps(value, ensure_ascii=False).encode("utf-8")
        artifacts.write_atomically(cached, lambda handle: handle.write(text))
        break
    _catalog_cache["value"] = value
    return value
