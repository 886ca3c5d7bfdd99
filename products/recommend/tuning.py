"""Choosing the blend on validation: the grid, the validation groups it is scored on, per-user NDCG@10
for hundreds of grid points at once, and the per-bucket choice with its cross-validated estimate.

Nothing here reads a test split: the validation split is cut from the model's own training ratings
(each user's latest `val_fraction`).
"""
from __future__ import annotations

import logging
import os
import threading
from concurrent.futures import ThreadPoolExecutor
from typing import NamedTuple

import numpy as np
import scipy.sparse as sp

from products.recommend import content as contents, sequence
from products.recommend.metrics import RELEVANT, split_by_time
from products.recommend.params import BUCKETS, Params
from products.recommend.signals import (ease_from_gram, gram_matrix, interactions, item_knn, liked_lists,
                                        one_thread, z_scores)
from shared.progress import Progress, no_progress

log = logging.getLogger(__name__)


class ValidationGroup(NamedTuple):
    """The validation users one group of grid scores is computed on (rows align across fields)."""

    users: np.ndarray  # user indices (for simulated visitors: 0..n-1)
    rows: sp.csr_matrix  # their input ratings, users x items
    factors: np.ndarray  # their ALS vectors (folded in for visitors)
    seen: np.ndarray  # users x items, True for items excluded from the ranking
    relevant: list  # per user, the set of relevant validation items
    liked: list  # the liked lists for the content profile (indexed by user for "known", by row for visitors)
    counts: np.ndarray  # input-rating counts (the history bucket)
    recent: list  # per user, latest items for the sequence signal, oldest first


def blend_sums(z: dict, blends: list):
    """(index, sum(w * z[k] for k, w in blend.items() if w)) for every blend, computed in an order where
    consecutive blends share their leading terms, so each partial sum is made once: the same float
    operations as the plain sum, so the same numbers, with only the current blend's partial sums kept."""
    path: dict = {}
    for index in sorted(range(len(blends)), key=lambda b: list(blends[b].values())):
        total, key, kept = 0, (), {}
        for name, weight in blends[index].items():
            if not weight:
                continue
            key += ((name, weight),)
            total = path[key] if key in path else total + weight * z[name]
            kept[key] = total
        path = kept
        yield index, total


_grid_pool: list = []
_grid_pool_lock = threading.Lock()


def ranked(scores: np.ndarray, seen: np.ndarray, k: int) -> np.ndarray:
    """Each row's k best items, best first (seen excluded). Within the k best, ties go to the lower index
    as in top_n; which of several items tied at the k-th score gets in is left to argpartition (with
    real-valued blended scores such ties are rare)."""
    s = np.where(seen, np.float32(-np.inf), scores)  # stays float32 when the scores are
    top = np.argpartition(-s, k - 1, axis=1)[:, :k] if s.shape[1] > k else np.tile(np.arange(s.shape[1]), (len(s), 1))
    order = np.lexsort((top, -s[np.arange(len(s))[:, None], top]), axis=1)
    return np.take_along_axis(top, order, axis=1)


def ranked_in_halves(scores: np.ndarray, seen: np.ndarray, k: int) -> np.ndarray:
    """ranked with the rows split over two threads when there are two cores: numpy releases the GIL while
    it partitions, and the grid search ranks every user for hundreds of points (half its time on one core)."""
    if len(scores) < 256 or (os.cpu_count() or 1) < 2:
        return ranked(scores, seen, k)
    with _grid_pool_lock:
        if not _grid_pool:
            _grid_pool.append(ThreadPoolExecutor(max_workers=2, thread_name_prefix="recommend-grid"))
    half = len(scores) // 2
    parts = _grid_pool[0].map(lambda rows: ranked(scores[rows], seen[rows], k), (slice(0, half), slice(half, None)))
    return np.concatenate(list(parts))


def per_user_ndcg(scores: np.ndarray, seen: np.ndarray, relevant: list, k: int = 10) -> np.ndarray:
    """NDCG@k of each row of scores (seen items excluded; the ranking as in ranked), equal to
    metrics.ndcg_at_k row by row."""
    ranked = ranked_in_halves(scores, seen, k)
    rows = np.arange(len(ranked))[:, None]
    # ndcg_at_k for every row at once (the grid scores hundreds of points): hits x discounts / ideal
    sizes = np.array([len(r) for r in relevant], np.int64)
    n_items = scores.shape[1]
    wanted = (np.repeat(np.arange(len(relevant)), sizes) * n_items
              + np.concatenate([np.fromiter(r, np.int64, len(r)) for r in relevant] or [np.zeros(0, np.int64)]))
    hits = np.isin(rows * n_items + ranked, wanted)  # (user, item) pairs of the ranking that are relevant
    discount = 1.0 / np.log2(np.arange(2, ranked.shape[1] + 2))
    dcg = hits @ discount
    ideal = np.concatenate([[0.0], np.cumsum(1.0 / np.log2(np.arange(2, k + 2)))])[np.minimum(sizes, k)]
    return np.where(ideal > 0, dcg / np.where(ideal > 0, ideal, 1.0), 0.0)


def cross_validated(scores: np.ndarray, folds: int, seed: int, repeats: int = 10) -> float:
    """An honest estimate of choosing the best grid point: users split into folds; on each fold, the
    point best on the other folds is scored; averaged over `repeats` seeded splits (one split of 140
    users moves the estimate by about 0.01). scores: grid points x users (per-user NDCG@10)."""
    n = scores.shape[1]
    folds = int(min(max(folds, 2), n))
    if n < 2:
        return float(scores[:, 0].max()) if n else 0.0
    rng = np.random.default_rng(seed)
    means = []
    for _ in range(repeats):
        out = np.zeros(n)
        for part in np.array_split(rng.permutation(n), folds):
            others = np.setdiff1d(np.arange(n), part)
            out[part] = scores[int(np.argmax(scores[:, others].mean(axis=1))), part]
        means.append(out.mean())
    return float(np.mean(means))


def grid(params: Params, n_items: int, has_ease: bool, content_in_blend: bool = True) -> tuple[list, list]:
    """The search space: EASE fits (lambda, alpha) and blends (weights of the z-scored signals), both
    simplest first. A catalog over ease_grid_max_items keeps one EASE fit (plain, lambda = ease_lambda),
    so only the blend weights are searched. Without EASE (switched off, or a catalog too big to invert):
    ALS with the kNN and, if allowed, content."""
    p = params
    if not has_ease:
        weights = (0.0, 0.1, 0.3) if content_in_blend else (0.0,)
        return [None], [{"als": 1.0, "knn": k, "seq": float(q), "content": c}
                        for q in p.seq_weights for k in (0.0, 0.3, 1.0) for c in weights]
    alphas = p.content_alphas if content_in_blend else (0.0,)
    fits = [(float(lam), float(a)) for lam in p.ease_lambdas for a in alphas]
    if n_items > p.ease_grid_max_items:
        fits = [(float(p.ease_lambda), 0.0)]
    blends = [{"ease": 1.0, "als": float(a), "knn": float(k), "seq": float(q)}
              for q in p.seq_weights for a in p.side_weights for k in p.side_weights]
    return fits, blends


def validation_groups(model, inner) -> dict[str, ValidationGroup]:
    """The validation users the grid is scored on:
    - "known": users with a relevant validation item, from all their training ratings;
    - "visitor": the same users as new visitors, whose picks are their k earliest training ratings of 4
      or more (k uniform in [visitor_min, visitor_max], seeded), each counting as a 5 and folded into ALS
      as the New visitor tab does; their other training items stay excluded from the ranking, and their
      picks, in the order picked, are their latest items."""
    params = model.params
    relevant = inner.test[inner.test["rating"] >= RELEVANT].groupby("u")["i"].agg(lambda s: set(s.tolist()))
    if relevant.empty:
        return {}
    n_users, n_items = model.data.n_users, model.data.n_items
    matrix = interactions(inner.train, n_users, n_items)
    users = relevant.index.to_numpy()
    counts = np.bincount(inner.train["u"].to_numpy(), minlength=n_users)[users]
    seen = matrix[users].toarray() > 0
    recent = sequence.recent_lists(inner.train, n_users, params.seq_recent)
    groups = {"known": ValidationGroup(users, matrix[users], model.tune_als.user_factors[users], seen,
                                       [relevant[u] for u in users], liked_lists(inner.train, n_users), counts,
                                       [recent[u] for u in users])}
    liked = inner.train[inner.train["rating"] >= RELEVANT].sort_values(["u", "timestamp"], kind="stable")
    liked = liked.groupby("u")["i"].agg(list)
    keep = np.array([len(liked.get(u, [])) >= params.visitor_min for u in users], bool)
    if keep.any():
        ks = np.random.default_rng(params.seed).integers(params.visitor_min, params.visitor_max + 1,
                                                         size=int(keep.sum()))
        picks = [liked[u][:k] for u, k in zip(users[keep], ks)]
        r = np.repeat(np.arange(len(picks)), [len(p) for p in picks])
        rows = sp.csr_matrix((np.full(len(r), 5.0, np.float32), (r, np.concatenate(picks))),
                             shape=(len(picks), n_items))
        with one_thread():
            factors = np.asarray(model.tune_als.recalculate_user(np.arange(len(picks)), rows))
        profiles = [(np.asarray(p, np.int64), np.full(len(p), 5.0, np.float32)) for p in picks]
        groups["visitor"] = ValidationGroup(np.arange(len(picks)), rows, factors, seen[keep],
                                            [relevant[u] for u in users[keep]], profiles,
                                            np.array([len(p) for p in picks]),
                                            [np.asarray(p[-params.seq_recent:], np.int64) for p in picks])
    return groups


def grid_scores(model, content_in_blend: bool, progress: Progress = no_progress):
    """Per-user NDCG@10 of every grid point on each validation group (see validation_groups):
    (points as descriptions, {group: (scores as points x users, each user's input-rating count)})."""
    params, n_items = model.params, model.data.n_items
    inner = split_by_time(model.train, params.val_fraction, min_holdout=1, min_train=1)
    fits, blends = model.grid(content_in_blend)
    points = [{"lambda": fit[0] if fit else None, "alpha": fit[1] if fit else None, "weights": dict(blend)}
              for fit in fits for blend in blends]
    groups = validation_groups(model, inner)
    if not groups:
        return points, {}
    matrix = interactions(inner.train, model.data.n_users, n_items)
    boost = params.knn_content if content_in_blend else 0.0
    knn = item_knn(matrix, model.content if boost else None, params.knn_k, boost)
    uses_content = any(blend.get("content") for blend in blends)
    z = {}
    transitions = sequence.transitions(inner.train, n_items, params.seq_window)
    for name, g in groups.items():
        z[name] = {"als": z_scores(g.factors @ model.tune_als.item_factors.T), "knn": z_scores((g.rows @ knn).toarray()),
                   "seq": z_scores(sequence.scores(transitions, g.recent, params.seq_recency))}
        if uses_content and model.content is not None:
            z[name]["content"] = z_scores(np.stack([contents.profile(model.content, model.genre_vectors, *g.liked[u])
                                                    for u in g.users]) @ model.content.T)
    if fits[0] is not None:
        gram = gram_matrix(matrix)
        content = model.content.astype(np.float64)
        side = content @ content.T if any(fit[1] for fit in fits) else None
    scores = {name: [] for name in groups}
    for f, fit in enumerate(fits):  # one EASE solve per fit, then every blend on it (the order of `points`)
        progress(0.05 + 0.85 * f / len(fits), f"choosing the blend on validation: {f + 1}/{len(fits)}...")
        b = ease_from_gram(gram + fit[1] * side if fit[1] else gram, fit[0]) if fit is not None else None
        for name, g in groups.items():
            if b is not None:
                z[name]["ease"] = z_scores(np.asarray(g.rows @ b))
            ndcg = [None] * len(blends)
            for index, blended in blend_sums(z[name], blends):
                ndcg[index] = per_user_ndcg(blended, g.seen, g.relevant)
            scores[name] += ndcg
    return points, {name: (np.stack(scores[name]), groups[name].counts) for name in groups}


def tune(model, content_in_blend: bool = True, progress: Progress = no_progress) -> tuple[dict, dict]:
    """Per bucket, the grid point with the best mean NDCG@10 over its validation users (the first best
    wins, so ties keep the simpler choice): known users with short and with long histories, and
    simulated new visitors. Each row also reports a cross-validated estimate of that choice (choose on
    the other users, score on a fold), the best plain EASE, and the best choice without content in
    EASE, on the same users. Returns (weights per bucket, tuning rows per bucket)."""
    params = model.params
    points, groups = grid_scores(model, content_in_blend, progress)
    plain = [k for k, p in enumerate(points) if p["alpha"] == 0.0 and p["weights"] == points[0]["weights"]]
    no_content = [k for k, p in enumerate(points) if not p["alpha"]]

    def choose(scores: np.ndarray, mine: np.ndarray) -> tuple[int, dict]:
        best = int(np.argmax(scores[:, mine].mean(axis=1)))
        row = {"users": int(len(mine)), **points[best], "tuned": round(float(scores[best, mine].mean()), 5),
               "cross_validated": round(cross_validated(scores[:, mine], params.cv_folds, params.seed), 5)}
        if plain:
            row["plain_ease"] = round(float(scores[plain][:, mine].mean(axis=1).max()), 5)
        row["no_content_in_ease"] = round(float(scores[no_content][:, mine].mean(axis=1).max()), 5)
        return best, row

    members, choice, tuning = {}, {}, {}
    if "known" in groups:
        scores, counts = groups["known"]
        for bucket in ("short", "long"):
            mine = np.flatnonzero((counts <= params.short_history) == (bucket == "short"))
            if len(mine):
                members[bucket] = mine
                choice[bucket], tuning[bucket] = choose(scores, mine)
        # The short bucket is the small one (few users have few ratings), so its search can overfit. It
        # takes the long bucket's choice instead when that choice, made without the short users, scores
        # them better than the cross-validated estimate of their own search. (The app's model, fitted on
        # all ratings, has only 54 short validation users: there its own search cross-validates at 0.121
        # against 0.135 for plain EASE.)
        if "short" in choice and "long" in choice:
            borrowed = float(scores[choice["long"], members["short"]].mean())
            tuning["short"]["long_choice"] = round(borrowed, 5)
            if borrowed > tuning["short"]["cross_validated"]:
                tuning["short"].update(points[choice["long"]], tuned=round(borrowed, 5), borrowed_from="long")
    if "visitor" in groups:
        scores, _ = groups["visitor"]
        _, tuning["visitor"] = choose(scores, np.arange(scores.shape[1]))
    if not tuning:  # no validation user has a relevant item: the simplest point
        tuning = {bucket: {"users": 0, **points[0]} for bucket in BUCKETS}
    for bucket in BUCKETS:  # a bucket without users takes another's choice
        if bucket not in tuning:
            other = next(b for b in ("short", "long", "visitor") if b in tuning)
            tuning[bucket] = dict(tuning[other], users=0, borrowed_from=other)
    for bucket, row in tuning.items():
        log.info("recommender blend (%s, %d validation users): lambda %s, alpha %s, %s, NDCG@10 %s",
                 bucket, row["users"], row["lambda"], row["alpha"], row["weights"], row.get("tuned"))
    return {bucket: dict(tuning[bucket]["weights"]) for bucket in BUCKETS}, tuning
