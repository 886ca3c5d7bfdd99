"""products/recommend/tuning.py: the grid, the validation groups, per-user NDCG, the per-bucket choice
and its cross-validated estimate."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from products.recommend import data as rdata, metrics, tuning
from products.recommend.blend import collaborative_share
from products.recommend.params import Params
from products.recommend.recommender import HybridRecommender
from products.recommend.signals import top_n
from tests.recommend_support import GENRES, GenreEncoder, dataset, fitted, private, synthetic_tables, write_folder  # noqa: F401


def test_blend_is_chosen_from_the_grid_on_validation(fitted):
    # every synthetic user has 4 validation-training ratings: all are in the short-history bucket
    row = fitted.tuning["short"]
    assert row["users"] == 12 and fitted.tuning["long"]["users"] == 0
    fits, blends = fitted.grid()
    assert (row["lambda"], row["alpha"]) in fits and row["weights"] in blends
    assert row["weights"] == fitted.weights["short"] == fitted.weights["long"]
    # the choice is the best grid point, so at least as good as plain EASE and as the best without content
    assert row["tuned"] >= row["plain_ease"] and row["tuned"] >= row["no_content_in_ease"]
    assert 0.0 <= row["cross_validated"] <= row["tuned"] + 1e-9
    assert fitted.ease_fit["short"] == (row["lambda"], row["alpha"])
    assert fitted.weight == pytest.approx(collaborative_share(fitted.weights["long"]))


def test_the_grid_search_picks_the_best_point_first_on_ties(dataset, monkeypatch):
    model = HybridRecommender.fit(dataset, Params(factors=4, regularization=0.01, iterations=20, val_fraction=0.2,
                                                  ease_lambdas=(1.0, 50.0), content_alphas=(0.0, 5.0),
                                                  side_weights=(0.0, 0.5), seq_weights=(0.0, 0.5)))
    calls = []

    def scored(scores, seen, relevant, k=10):  # every grid point scores the same: the first must win
        calls.append(1)
        return np.full(len(relevant), 0.5)

    monkeypatch.setattr(tuning, "per_user_ndcg", scored)
    model.attach_content(GenreEncoder().encode(list(dataset.items["text"])),
                         dict(zip(GENRES, GenreEncoder().encode(GENRES))))
    # (known users, new visitors) x lambdas x alphas x sequence x ALS x kNN weights
    assert len(calls) == 2 * (2 * 2 * 2 * 2 * 2)
    row = model.tuning["short"]
    assert (row["lambda"], row["alpha"], row["weights"]) == (1.0, 0.0, {"ease": 1.0, "als": 0.0, "knn": 0.0,
                                                                        "seq": 0.0})
    assert row["tuned"] == row["cross_validated"] == row["plain_ease"] == 0.5


def test_cross_validated_estimate_scores_each_fold_with_the_others_choice():
    # point 0 wins on users 0-1, point 1 on users 2-3; with 2 folds of 2 users the choice made on one
    # fold is scored on the other, so the estimate is below the in-sample best of either point
    scores = np.array([[1.0, 1.0, 0.0, 0.0], [0.0, 0.0, 0.9, 0.9]])
    estimate = tuning.cross_validated(scores, folds=2, seed=0, repeats=1)
    assert estimate <= 0.5 + 1e-12
    # one point better for everyone: the estimate is its mean
    assert tuning.cross_validated(np.array([[0.2, 0.4, 0.6], [0.1, 0.3, 0.5]]), 3, 0) == pytest.approx(0.4)


def test_the_short_bucket_borrows_the_long_choice_when_its_own_search_overfits(monkeypatch):
    # users 1-6 keep 5 ratings (4 after the validation cut: short with short_history = 4); users 7-12 get
    # their skipped item back (6 ratings, 5 after the cut: long)
    ratings, items = synthetic_tables()
    back = [{"user_id": str(u), "item_id": str(range(7, 13)[(u - 1) % 6]), "rating": 4, "timestamp": 1000 + u}
            for u in range(7, 13)]
    dataset = rdata.prepare(pd.concat([ratings, pd.DataFrame(back)], ignore_index=True), items)
    params = Params(factors=4, regularization=0.01, iterations=20, val_fraction=0.2, short_history=4,
                    ease_lambdas=(1.0,), content_alphas=(0.0,), side_weights=(0.0, 0.5), seq_weights=(0.0,))
    model = HybridRecommender.fit(dataset, params)
    inner = metrics.split_by_time(model.train, params.val_fraction, min_holdout=1, min_train=1)
    short = np.flatnonzero(inner.train.groupby("u").size().sort_index().to_numpy() <= 4)
    assert len(short) == 6
    calls = []

    def scored(scores, seen, relevant, k=10):
        # every grid point scores 0.5 for everyone, except the second (kNN 0.5), which is perfect for
        # one short user and 0.45 for the other five: it wins the short bucket in-sample (0.54), but
        # chosen without that one user it is not chosen, and chosen with them it fails the others, so its
        # cross-validated estimate (about 0.46) is below the long bucket's choice (0.5 for all)
        calls.append(1)
        out = np.full(len(relevant), 0.5)
        if len(calls) == 2:
            out[short] = 0.45
            out[short[0]] = 1.0
        return out

    monkeypatch.setattr(tuning, "per_user_ndcg", scored)
    model.attach_content(GenreEncoder().encode(list(dataset.items["text"])),
                         dict(zip(GENRES, GenreEncoder().encode(GENRES))))
    first, long = model.tuning["short"], model.tuning["long"]
    assert (first["users"], long["users"]) == (6, 6)
    assert long["weights"] == {"ease": 1.0, "als": 0.0, "knn": 0.0, "seq": 0.0}
    assert first["cross_validated"] < first["long_choice"] == 0.5
    assert first["borrowed_from"] == "long" and first["weights"] == long["weights"] == model.weights["short"]
    assert model.ease["short"] is model.ease["long"]  # one matrix for the shared choice


def test_new_visitors_are_simulated_from_each_users_earliest_liked_ratings(fitted, dataset):
    from products.recommend.metrics import split_by_time

    inner = split_by_time(fitted.train, fitted.params.val_fraction, min_holdout=1, min_train=1)
    cohorts = tuning.validation_groups(fitted, inner)
    known_users, *_ = cohorts["known"]
    users, rows, factors, seen, relevant, profiles, counts, recent = cohorts["visitor"]
    assert len(users) == len(known_users) == 12  # every synthetic user liked 4 items before validation
    ordered = inner.train.sort_values(["u", "timestamp"], kind="stable")
    for r, u in enumerate(known_users):
        earliest = ordered[(ordered["u"] == u) & (ordered["rating"] >= 4)]["i"].tolist()
        picks = profiles[r][0].tolist()
        assert picks == earliest[:len(picks)] and 3 <= len(picks) == counts[r] <= 10
        assert sorted(rows[r].indices.tolist()) == sorted(picks) and set(rows[r].data) == {5.0}
        # the picks, in the order picked, are the visitor's latest items for the sequence signal
        assert recent[r].tolist() == picks[-fitted.params.seq_recent:]
        # the user's other training items stay excluded, as for a known user
        assert set(np.flatnonzero(seen[r])) == set(ordered[ordered["u"] == u]["i"])
    assert factors.shape == (12, fitted.params.factors)
    row = fitted.tuning["visitor"]
    assert row["users"] == 12 and row["weights"] == fitted.weights["visitor"]
    assert fitted.ease_fit["visitor"] == (row["lambda"], row["alpha"])


def test_a_large_catalog_keeps_one_plain_ease_fit_and_reuses_it(dataset):
    # 12 items stand in for a catalog over the limit: no grid of EASE solves, only the blend weights
    params = Params(factors=4, regularization=0.01, iterations=20, val_fraction=0.2, ease_grid_max_items=11)
    model = HybridRecommender.fit(dataset, params)
    model.attach_content(GenreEncoder().encode(list(dataset.items["text"])),
                         dict(zip(GENRES, GenreEncoder().encode(GENRES))))
    fits, blends = model.grid()
    assert fits == [(params.ease_lambda, 0.0)]
    assert len(blends) == len(params.side_weights) ** 2 * len(params.seq_weights)
    assert all(model.ease[b] is model.plain_ease for b in ("short", "long", "visitor"))  # nothing solved again
    assert all(model.tuning[b]["alpha"] == 0.0 for b in ("short", "long", "visitor"))


def test_the_grids_per_user_ndcg_equals_the_metric_row_by_row_on_both_halves():
    # 300 rows, so the rows are ranked in two halves on two threads where there are two cores
    rng = np.random.default_rng(0)
    scores = rng.random((300, 40)).astype(np.float32)
    seen = rng.random((300, 40)) < 0.2
    relevant = [set(rng.choice(40, size=int(rng.integers(0, 6)), replace=False).tolist()) for _ in range(300)]
    expected = []
    for row, rel in enumerate(relevant):
        ranked = top_n(scores[row], 10, seen[row])
        expected.append(metrics.ndcg_at_k(list(ranked), rel, 10))
    assert tuning.per_user_ndcg(scores, seen, relevant).tolist() == pytest.approx(expected, abs=1e-12)


def test_the_grids_shared_partial_sums_are_the_plain_sums():
    rng = np.random.default_rng(1)
    z = {k: rng.standard_normal((4, 6)).astype(np.float32) for k in ("ease", "als", "knn", "seq")}
    blends = [{"ease": 1.0, "als": a, "knn": k, "seq": q} for q in (0.0, 0.5) for a in (0.0, 0.3) for k in (0.0, 0.1)]
    sums = dict(tuning.blend_sums(z, blends))
    assert sorted(sums) == list(range(len(blends)))
    for index, blend in enumerate(blends):  # bit for bit: the same float operations in the same order
        assert np.array_equal(sums[index], sum(w * z[k] for k, w in blend.items() if w))
