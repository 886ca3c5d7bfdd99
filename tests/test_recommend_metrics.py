"""products/recommend/metrics.py and data.py: metrics against hand-computed values, the time split, and
clear messages for bad catalog files."""
from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from shared.ui import UserError

from products.recommend import data as rdata, metrics
from tests.recommend_support import GENRES, GenreEncoder, dataset, fitted, private, synthetic_tables, write_folder  # noqa: F401


def test_metrics_match_hand_computed_values():
    ranked, relevant = [1, 2, 3, 4], {2, 4, 9}
    assert metrics.precision_at_k(ranked, relevant, 4) == 0.5
    assert metrics.recall_at_k(ranked, relevant, 4) == pytest.approx(2 / 3)
    dcg = 1 / math.log2(3) + 1 / math.log2(5)
    idcg = 1 + 1 / math.log2(3) + 1 / math.log2(4)
    assert metrics.ndcg_at_k(ranked, relevant, 4) == pytest.approx(dcg / idcg)
    assert metrics.ap_at_k(ranked, relevant, 4) == pytest.approx((1 / 2 + 2 / 4) / 3)
    assert metrics.hit_at_k(ranked, relevant, 4) == 1.0
    assert metrics.hit_at_k([5, 6], relevant, 2) == 0.0
    assert metrics.ndcg_at_k([2, 4, 9], relevant, 3) == pytest.approx(1.0)
    assert metrics.coverage([[0, 1], [1, 2]], 10) == 0.3
    assert metrics.novelty([[0], [1]], np.array([0.5, 0.25])) == pytest.approx((1 + 2) / 2)


def test_split_holds_out_each_users_latest_ratings(dataset):
    split = metrics.split_by_time(dataset.ratings, fraction=0.2)
    for u, group in dataset.ratings.groupby("u"):
        test = split.test[split.test["u"] == u]
        assert len(test) == 1  # round(5 * 0.2)
        assert test["timestamp"].iloc[0] == group["timestamp"].max()
    assert len(split.train) + len(split.test) == len(dataset.ratings)


def test_evaluate_lists_only_counts_users_with_relevant_items(dataset):
    split = metrics.split_by_time(dataset.ratings, fraction=0.2)
    perfect = {u: np.array(sorted(split.test.loc[split.test["u"] == u, "i"])) for u in range(dataset.n_users)}
    result = metrics.evaluate_lists(perfect, split.test, split.train, dataset.n_users, dataset.n_items, k=10)
    assert result["users"] == dataset.n_users
    assert result["ndcg"] == pytest.approx(1.0) and result["hit_rate"] == 1.0 and result["recall"] == 1.0


def test_missing_columns_get_a_clear_message():
    ratings, items = synthetic_tables()
    with pytest.raises(UserError, match="ratings table is missing the column.*rating"):
        rdata.prepare(ratings.drop(columns="rating"), items)
    with pytest.raises(UserError, match="items table is missing the column.*title"):
        rdata.prepare(ratings, items.drop(columns="title"))


def test_wrong_types_and_unknown_items_get_a_clear_message(tmp_path):
    ratings, items = synthetic_tables()
    bad = ratings.astype({"rating": object})
    bad.loc[3, "rating"] = "five"
    with pytest.raises(UserError, match=r"'rating' .* must hold numbers; rows 5 .*'five'"):
        rdata.load_folder(write_folder(tmp_path / "a", bad, items))
    orphan = pd.concat([ratings, pd.DataFrame([{"user_id": "1", "item_id": "99", "rating": 4, "timestamp": 0}])])
    with pytest.raises(UserError, match="1 rating.*missing from the items table.*99"):
        rdata.prepare(orphan, items)
    with pytest.raises(UserError, match="could not be read|file not found"):
        rdata.load_folder(tmp_path / "nowhere")


def test_checksum_changes_with_any_rating(dataset):
    ratings, items = synthetic_tables()
    ratings.loc[0, "rating"] = 1
    assert rdata.prepare(ratings, items).checksum != dataset.checksum
