"""How the sequence signal's settings were chosen, on validation only:
`python -m products.recommend.tools.sequence_search` (about a minute).

The evaluation's split (each user's latest 20% held out as test) is cut again: each user's latest 10% of
training ratings are the validation targets, and nothing here reads the test ratings. For each setting
(window, recent, recency) it reports NDCG@10 of the sequence signal alone and of its best blend with
EASE with content (z(EASE) + w·z(sequence), w in {0.5, 1, 2}, two EASE fits), for all validation users
and for those with 20 or fewer ratings. The setting with the best blend over all users became
`Params.seq_*`; the weight itself is left to the recommender's per-bucket grid.
"""
from __future__ import annotations

import itertools

import numpy as np

WINDOWS = (5, 10, 20)
RECENT = (5, 10, 20)
RECENCY = (0.8, 0.9)
WEIGHTS = (0.5, 1.0, 2.0)
EASE_FITS = ((500.0, 4000.0), (2000.0, 4000.0))  # (lambda, alpha): the two fits the grid chose before


def run(log=print) -> list[dict]:
    from products.recommend import sequence
    from products.recommend.artifacts import ML100K
    from products.recommend.core import attach_content
    from products.recommend.data import load_movielens
    from products.recommend.metrics import RELEVANT, split_by_time
    from products.recommend.params import Params
    from products.recommend.recommender import HybridRecommender
    from products.recommend.signals import ease, interactions, z_scores
    from products.recommend.tools.evaluate import TEST_FRACTION
    from products.recommend.tuning import per_user_ndcg
    from shared import artifacts

    data = load_movielens(artifacts.materialize(ML100K))
    params = Params()
    outer = split_by_time(data.ratings, TEST_FRACTION)
    inner = split_by_time(outer.train, params.val_fraction)  # validation: the test ratings are not read
    matrix = interactions(inner.train, data.n_users, data.n_items)
    relevant = inner.test[inner.test["rating"] >= RELEVANT].groupby("u")["i"].agg(lambda s: set(s.tolist()))
    users = relevant.index.to_numpy()
    short = np.bincount(inner.train["u"].to_numpy(), minlength=data.n_users)[users] <= params.short_history
    seen, targets = matrix[users].toarray() > 0, [relevant[u] for u in users]
    model = HybridRecommender.fit(data, params, train=outer.train)
    attach_content(model)  # the content vectors, through the shared encoder (or its cache)
    ease_z = {fit: z_scores(np.asarray(matrix[users] @ ease(matrix, fit[0], model.content, fit[1]))) for fit in EASE_FITS}
    log(f"{len(users)} validation users, {int(short.sum())} with <= {params.short_history} ratings")
    rows = []
    for window, recent, recency in itertools.product(WINDOWS, RECENT, RECENCY):
        table = sequence.transitions(inner.train, data.n_items, window)
        lists = sequence.recent_lists(inner.train, data.n_users, recent)
        seq_z = z_scores(sequence.scores(table, [lists[u] for u in users], recency))
        alone = per_user_ndcg(seq_z, seen, targets)
        blends = {(fit, w): per_user_ndcg(ease_z[fit] + w * seq_z, seen, targets)
                  for fit in EASE_FITS for w in WEIGHTS}
        (fit, w), best = max(blends.items(), key=lambda kv: kv[1].mean())
        rows.append({"window": window, "recent": recent, "recency": recency,
                     "alone": round(float(alone.mean()), 4), "alone_short": round(float(alone[short].mean()), 4),
                     "blend": round(float(best.mean()), 4), "blend_short": round(float(best[short].mean()), 4),
                     "ease_fit": fit, "weight": w})
        log(rows[-1])
    plain = {fit: per_user_ndcg(z, seen, targets) for fit, z in ease_z.items()}
    for fit, scores in plain.items():
        log(f"EASE with content {fit} alone: {scores.mean():.4f} (<= {params.short_history}: "
            f"{scores[short].mean():.4f})")
    chosen = max(rows, key=lambda r: r["blend"])
    log(f"best blend over all validation users: window {chosen['window']}, recent {chosen['recent']}, "
        f"recency {chosen['recency']} ({chosen['blend']:.4f}); Params has window {params.seq_window}, "
        f"recent {params.seq_recent}, recency {params.seq_recency}")
    # The check on same-second ratings: the chosen setting, built only from pairs with a later timestamp.
    lists = sequence.recent_lists(inner.train, data.n_users, chosen["recent"])
    for later_only in (False, True):
        table = sequence.transitions(inner.train, data.n_items, chosen["window"], later_only=later_only)
        seq_z = z_scores(sequence.scores(table, [lists[u] for u in users], chosen["recency"]))
        for fit in EASE_FITS:
            scores = per_user_ndcg(ease_z[fit] + seq_z, seen, targets)
            log(f"{'later timestamps only' if later_only else 'all pairs'}: EASE with content {fit} + "
                f"sequence (weight 1): {scores.mean():.4f} (<= {params.short_history}: {scores[short].mean():.4f})")
    return rows


if __name__ == "__main__":
    run()
