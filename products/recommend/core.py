"""Recommendation actions as plain functions (no Gradio): for a known user, for a new visitor from a
few picks (fold-in), similar items, and the model card. Tables come back as pandas DataFrames.
"""
from __future__ import annotations

import contextlib
import json
import threading
import time
from pathlib import Path

import numpy as np
import pandas as pd

from shared.encoder import ENCODER
from shared.i18n import add, t
from shared.models import registry as shared_registry
from shared.ui import UserError

from products.recommend import models
from products.recommend.engine import (HybridRecommender, Params, content_cache_path, encode_content,
                                       load_content, save_content)

add({
    "recommend.error.user": ("Unknown user id '{user}'. Known ids run from {first} to {last} ({count} users).",
                             "未知的用户 ID“{user}”。已知 ID 从 {first} 到 {last}（共 {count} 位用户）。"),
    "recommend.error.no_picks": ("Pick at least one item you like.", "请至少选择一个喜欢的条目。"),
    "recommend.error.item": ("Unknown item '{item}'. Pick it from the list.", "未知条目“{item}”。请从列表中选择。"),
    "recommend.error.no_item": ("Pick an item first.", "请先选择一个条目。"),
    "recommend.error.n": ("The number of recommendations must be between 1 and {limit}.", "推荐数量必须在 1 到 {limit} 之间。"),
    "recommend.error.weight": ("The blend must be between 0 (content only) and 1 (collaborative only).",
                               "混合权重必须在 0（仅内容）到 1（仅协同）之间。"),
    "recommend.error.years": ("The year range is empty: {lo} is after {hi}.", "年份范围为空：{lo} 晚于 {hi}。"),
    "recommend.error.genre": ("Unknown genre '{genre}'. Genres: {genres}.", "未知类型“{genre}”。可选：{genres}。"),
    "recommend.because.rated": ("because you rated {items} highly", "因为你给 {items} 打了高分"),
    "recommend.because.rated_any": ("because you rated {items}", "因为你评价过 {items}"),
    "recommend.because.picked": ("because you like {items}", "因为你喜欢 {items}"),
    "recommend.and": (" and ", " 和 "),
    "recommend.reason.audience": ("shared audience: {co} people rated both", "共同受众：{co} 人同时评价过两者"),
    "recommend.reason.content": ("similar content{genres}", "内容相似{genres}"),
    "recommend.reason.genres": (" (both {genres})", "（都属于 {genres}）"),
    "recommend.empty": ("No item passes the filters.", "没有条目符合筛选条件。"),
    "recommend.summary": ("{n} recommendations in {ms:.0f} ms (blend: {w:.0%} collaborative, {c:.0%} content profile).",
                          "{n} 条推荐，用时 {ms:.0f} 毫秒（混合：协同 {w:.0%}，内容画像 {c:.0%}）。"),
    "recommend.summary.seq": (" Your latest ratings count too: what people rated next after them (weight {w:.1f}).",
                              "你最近的评分也参与了推荐：其他人在看过这些电影之后接着评价的电影（权重 {w:.1f}）。"),
    "recommend.summary.seq_picks": (" The order of your picks counts too: what people rated next after your latest "
                                    "picks (weight {w:.1f}).",
                                    "选择的顺序也参与了推荐：其他人在看过你最后选择的电影之后接着评价的电影（权重 {w:.1f}）。"),
    "recommend.summary.alpha": (" Content also shapes the item-item weights (EASE with content, α {alpha:,.0f}).",
                                "内容也参与了物品间权重（带内容的 EASE，α {alpha:,.0f}）。"),
    "recommend.col.rank": ("#", "#"), "recommend.col.title": ("Title", "标题"),
    "recommend.col.genres": ("Genres", "类型"), "recommend.col.score": ("Score", "得分"),
    "recommend.col.why": ("Why", "原因"), "recommend.col.rating": ("Rating", "评分"),
    "recommend.col.date": ("Date", "日期"), "recommend.col.similarity": ("Similarity", "相似度"),
    "recommend.col.collaborative": ("Collaborative", "协同"), "recommend.col.content": ("Content", "内容"),
    "recommend.col.genre": ("Genre", "类型"), "recommend.col.share": ("Share", "占比"),
    "recommend.col.set": ("Set", "集合"),
    "recommend.set.history": ("history", "历史"), "recommend.set.recs": ("recommendations", "推荐"),
})

MAX_N = 50
EVALUATION_FILE = Path(__file__).resolve().parent / "evaluation.json"
_content_lock = threading.Lock()


def attach_content(model: HybridRecommender, progress=None, registry=None) -> None:
    """Give the fitted model its content vectors: from the disk cache, else through the shared encoder."""
    if model.content is not None:
        return
    registry = registry or shared_registry
    with _content_lock:
        if model.content is not None:
            return
        report = progress or (lambda f, s: None)
        key = models.encoder_key()
        path = content_cache_path(models.cache_root(), model.data, key)
        try:
            vectors, genres = load_content(path, model.data.n_items)
        except (OSError, ValueError):
            with registry.use(ENCODER, progress) as encoder:
                vectors, genres = encode_content(model.data, encoder, report)
            save_content(path, vectors, genres)
        model.attach_content(vectors, genres, key=key, cache_dir=models.cache_root(),
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


def evaluation() -> dict | None:
    try:
        return json.loads(EVALUATION_FILE.read_text())
    except (OSError, ValueError):
        return None


def evaluation_markdown(result: dict | None) -> str:
    if not result:
        return "(no evaluation yet: run `python -m products.recommend.evaluate`)"
    cols = ("precision", "recall", "ndcg", "map", "hit_rate", "coverage", "novelty")
    lines = []
    for title, key in (("All test users", "all"), ("Users with 20 or fewer training ratings", "sparse")):
        block = result[key]
        users = next(iter(block.values()))["users"]
        lines += [f"**{title}** ({users} users with a relevant held-out item)", "",
                  "| model | P@10 | R@10 | NDCG@10 | MAP@10 | HR@10 | coverage | novelty |",
                  "|---|---|---|---|---|---|---|---|"]
        for name, row in block.items():
            lines.append(f"| {name} | " + " | ".join(f"{row[c]:.4f}" if c != "novelty" else f"{row[c]:.2f}"
                                                      for c in cols) + " |")
        lines.append("")
        for row in result.get("comparisons", {}).get(key, []):
            lines.append(f"- NDCG@10 of the hybrid minus {row['against']}: {row['difference']:+.4f} "
                         f"(95% paired bootstrap interval {row['low']:+.4f} to {row['high']:+.4f}; better for "
                         f"{row['better']} users, worse for {row['worse']} of {row['users']})")
        if result.get("comparisons", {}).get(key):
            lines.append("")
    cold = result.get("cold_start")
    if cold:
        ks = list(cold)
        users = ", ".join(f"{next(iter(cold[k]['rows'].values()))['users']} for k = {k}" for k in ks)
        lines += ["**New visitors (cold start), simulated on the test users**: each user's k earliest training "
                  "ratings of 4 or more are the picks, scored by fold-in as the New visitor tab does (no refit); "
                  f"the targets are their test items ({users} users). NDCG@10, with HR@10 in brackets:", "",
                  "| model | " + " | ".join(f"k = {k}" for k in ks) + " |", "|---|" + "---|" * len(ks)]
        for name in cold[ks[0]]["rows"]:
            cells = [f"{cold[k]['rows'][name]['ndcg']:.4f} ({cold[k]['rows'][name]['hit_rate']:.2f})" for k in ks]
            lines.append(f"| {name} | " + " | ".join(cells) + " |")
        lines.append("")
        for k in ks:
            for row in cold[k]["comparisons"]:
                lines.append(f"- k = {k}: hybrid minus {row['against']}: {row['difference']:+.4f} (95% paired "
                             f"bootstrap interval {row['low']:+.4f} to {row['high']:+.4f})")
        lines.append("")
    return "\n".join(lines)


def model_card(model: HybridRecommender | None = None) -> str:
    """How it works, when it was fitted, and the evaluation table (from evaluation.json)."""
    params = model.params if model is not None else Params()
    parts = ["### How it works",
             "- **EASE with content** (the main signal): an item-item weight matrix in closed form (Steck 2019), "
             "B = I − P·diag(1/diag P), P = (XᵀX + α·CCᵀ + λI)⁻¹, where X is the users × items ratings and C the "
             "items' content vectors (Jeunen et al. 2020). The content term links items with similar titles, "
             "years and genres even where few users rated both. A user's scores are their ratings × B.",
             "- **Other collaborative signals**: implicit's ALS (alternating least squares) on the ratings as "
             "confidences (factors, regularization and iterations from AIPM_RECOMMEND_*), and an item-kNN (each "
             "item's nearest items by rating cosine, plus a little content cosine).",
             "- **Sequence**: people rate in sittings, so what other users rated next after an item says what "
             "comes next. T[i, j] is the share of the ratings within a user's next "
             f"{params.seq_window} ratings after i that were of j; a user's score is the sum of T's rows for "
             f"their {params.seq_recent} latest items, each older one weighted {params.seq_recency} times "
             "the next (a new visitor's picks count in the order picked).",
             "- **Content**: each item's *title (year) — genres* embedded with all-MiniLM-L6-v2, joined with a "
             "genre one-hot; a user's profile is the mean vector of the items they rated 4 or more.",
             "- **Hybrid**: per request the scores are standardised over the catalog and summed with weights. "
             "EASE's λ and α and the weights of ALS, the kNN and the sequence signal are chosen from a small "
             "grid on each user's latest training ratings (validation), never on the test split; users with "
             "20 or fewer ratings "
             "get their own choice, and so do new visitors (chosen on validation users replayed as visitors: "
             "their earliest liked movies as picks). The slider mixes in the content profile's score "
             "(0 = content only).",
             "- **New visitors**: their picks score EASE directly (picks × B, no user parameters), are folded "
             "into the fitted ALS model (a user vector solved against the fixed item factors) and the item-kNN, "
             "are read in the order picked as the latest items of the sequence signal, and give a content "
             "profile, with no refit.",
             "- **Explanations**: the rated items that contributed most to each recommendation under the same "
             "blend."]
    if model is not None:
        fitted = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime(model.fitted_at))
        tuned = []
        for bucket, label in (("short", "≤ 20 ratings"), ("long", "> 20 ratings"),
                              ("visitor", "new visitors (chosen on simulated visitors)")):
            row = model.tuning.get(bucket) if model.tuning else None
            weights = model.weights[bucket]
            fit = model.ease_fit.get(bucket)
            text = f"EASE λ {fit[0]:g}, content α {fit[1]:g}; " if fit else "EASE off; "
            text += ", ".join(f"{k} {weights.get(k, 0.0):.2f}" for k in ("ease", "als", "knn", "seq", "content"))
            if row and row.get("users"):
                text += f" ({row['users']} validation users; NDCG@10 {row['tuned']:.3f}"
                if "cross_validated" in (row or {}):
                    text += f", cross-validated {row['cross_validated']:.3f}"
                if "plain_ease" in (row or {}):
                    text += f", plain EASE {row['plain_ease']:.3f}"
                if row.get("borrowed_from"):
                    text += "; too few users to choose alone, so it takes the > 20 choice"
                text += ")"
            tuned.append(f"  - {label}: {text}")
        parts += ["", "### This model",
                  f"- Data: {model.data.name}: {len(model.train):,} ratings by {model.data.n_users:,} users of "
                  f"{model.data.n_items:,} items (checksum {model.data.checksum[:12]}).",
                  f"- Fitted {fitted} in {model.fit_seconds:.1f}s"
                  f"{' (loaded from the disk cache)' if getattr(model, 'from_cache', False) else ''}; ALS "
                  f"{model.params.factors} factors, regularization {model.params.regularization}, "
                  f"{model.params.iterations} iterations; item-kNN {model.params.knn_k} neighbours, content "
                  f"boost {model.params.knn_content}.",
                  "- Chosen on validation (weights of the z-scored signals):"] + tuned
    result = evaluation()
    parts += ["", "### Evaluation on MovieLens 100k (time split, relevance = rating ≥ 4)"]
    if result:
        parts.append(f"{result.get('protocol', '')}\n")
    parts.append(evaluation_markdown(result))
    return "\n".join(parts)


_catalog_cache: dict = {}


def _catalog_file(folder: Path) -> Path:
    import hashlib

    from shared import artifacts

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
    from shared.sources import SourceUnavailable
    from products.recommend.data import load_folder, load_movielens

    value = {"users": [], "items": [], "genres": [], "years": (1900, 2030)}
    for source in models.RECOMMENDER_SPEC.sources:
        try:
            resolved = source.resolve()
            cached = _catalog_file(resolved.path)
            if cached.is_file():
                value = json.loads(cached.read_text(encoding="utf-8"))
                value["items"] = [tuple(pair) for pair in value["items"]]
                value["years"] = tuple(value["years"])
                break
            data = load_movielens(resolved.path) if resolved.kind == "embedded" else load_folder(resolved.path)
        except (SourceUnavailable, UserError, OSError, ValueError):
            continue
        years = data.items["year"].dropna()
        value = {"users": [str(u) for u in data.user_ids],
                 "items": [(str(label), str(item)) for label, item in zip(data.items["label"], data.items["item_id"])],
                 "genres": list(data.genres()),
                 "years": (int(years.min()), int(years.max())) if len(years) else (1900, 2030)}
        cached.parent.mkdir(parents=True, exist_ok=True)
        tmp = cached.with_suffix(".tmp")
        tmp.write_text(json.dumps(value, ensure_ascii=False), encoding="utf-8")
        tmp.replace(cached)
        break
    _catalog_cache["value"] = value
    return value
