"""The sequence signal (products/recommend/sequence.py): transition counts and scores against values
worked out by hand, and its place in the recommender (known users, new visitors, explanations)."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from products.recommend import data as rdata, sequence
from products.recommend.params import Params
from products.recommend.recommender import HybridRecommender


def frame(rows):
    """(u, i, timestamp) rows as the ratings frame the engine uses (rating 5 throughout)."""
    out = pd.DataFrame(rows, columns=["u", "i", "timestamp"])
    return out.assign(rating=5.0)


def test_transitions_are_the_share_of_what_followed_each_item_within_the_window():
    # user 0 rates 0, 1, 2 in time; user 1 rates 0 then 2 (listed out of time order on purpose)
    train = frame([(0, 0, 1), (0, 1, 2), (0, 2, 3), (1, 2, 20), (1, 0, 10)])
    one = sequence.transitions(train, 4, window=1).toarray()
    assert one[0].tolist() == [0.0, 0.5, 0.5, 0.0]  # after 0: once 1 (user 0), once 2 (user 1)
    assert one[1].tolist() == [0.0, 0.0, 1.0, 0.0]
    assert not one[2].any() and not one[3].any()  # nothing came after 2; nobody rated 3
    two = sequence.transitions(train, 4, window=2).toarray()
    # within two ratings after 0: 1 and 2 for user 0, 2 for user 1
    assert two[0] == pytest.approx([0.0, 1 / 3, 2 / 3, 0.0])
    assert not sequence.transitions(train, 4, window=0).toarray().any()


def test_ties_in_time_keep_the_tables_order():
    train = frame([(0, 2, 5), (0, 0, 5), (0, 1, 5)])
    table = sequence.transitions(train, 3, window=1).toarray()
    assert table[2, 0] == 1.0 and table[0, 1] == 1.0 and table[1].sum() == 0.0
    assert sequence.recent_lists(train, 2, recent=2)[0].tolist() == [0, 1]
    assert not sequence.transitions(train, 3, window=2, later_only=True).toarray().any()  # all in one second


def test_recent_lists_keep_each_users_latest_items_oldest_first():
    train = frame([(0, 3, 4), (0, 1, 1), (0, 2, 3), (0, 0, 2), (2, 4, 7)])
    recent = sequence.recent_lists(train, 3, recent=3)
    assert recent[0].tolist() == [0, 2, 3]  # times 2, 3, 4; item 1 (time 1) is too old
    assert recent[1].tolist() == [] and recent[2].tolist() == [4]
    assert sequence.recency_weights(3, 0.5).tolist() == [0.25, 0.5, 1.0]


def test_scores_weight_the_latest_item_most():
    train = frame([(0, 0, 1), (0, 2, 2), (1, 1, 1), (1, 3, 2)])  # 0 is followed by 2, and 1 by 3
    table = sequence.transitions(train, 4, window=1)
    rows = sequence.scores(table, [np.array([0, 1]), np.array([1, 0]), np.array([], np.int64)], recency=0.5)
    assert rows[0].tolist() == [0.0, 0.0, 0.5, 1.0]  # 1 is the latest: what follows it (3) scores 1
    assert rows[1].tolist() == [0.0, 0.0, 1.0, 0.5]
    assert not rows[2].any()
    follow = sequence.recent_rows(table, np.array([0, 1]), 0.5)
    assert follow.sum(axis=0).tolist() == rows[0].tolist()  # one user's rows add up to their scores
    shares = sequence.contributions(follow, np.array([0, 1]), np.array([0, 1, 2]), target=3)
    assert shares.tolist() == [0.0, 1.0, 0.0]


def chain_dataset():
    """Six users watch films 1 -> 2 -> 3 in that order, and six others 4 -> 5 -> 6; user 13 has rated 1 and
    2 and user 14 has rated 4 and 5, each with their own films 7 and 8 rated earlier, so what comes next
    follows from the order alone."""
    rows, ts = [], 0
    for user in range(1, 13):
        chain = (1, 2, 3) if user <= 6 else (4, 5, 6)
        for item in chain:
            ts += 1
            rows.append({"user_id": str(user), "item_id": str(item), "rating": 5, "timestamp": ts})
    for user, history in ((13, (7, 8, 1, 2)), (14, (7, 8, 4, 5))):
        for item in history:
            ts += 1
            rows.append({"user_id": str(user), "item_id": str(item), "rating": 5, "timestamp": ts})
    items = pd.DataFrame({"item_id": [str(i) for i in range(1, 9)], "title": [f"Film {i}" for i in range(1, 9)],
                          "genres": ["Drama"] * 8})
    return rdata.prepare(pd.DataFrame(rows), items)


@pytest.fixture
def chain_model():
    model = HybridRecommender.fit(chain_dataset(), Params(factors=2, iterations=5, ease_lambda=0.0))
    for bucket in model.weights:  # the sequence signal alone, so the order is the only evidence
        model.weights[bucket] = {"als": 0.0, "knn": 0.0, "seq": 1.0}
    return model


def test_a_known_user_gets_what_others_rated_next(chain_model):
    data = chain_model.data
    for user, expected in (("13", "3"), ("14", "6")):
        top = chain_model.recommend(data.user_index[user], n=1)[0]
        assert data.items["item_id"].iat[top.index] == expected
        # the reason is the latest rated film that leads to it
        assert [data.items["item_id"].iat[i] for i in top.because][0] == str(int(expected) - 1)


def test_a_new_visitors_picks_are_read_in_the_order_picked(chain_model):
    index = chain_model.data.item_index
    films = chain_model.data.items["item_id"]
    # the same two picks in both orders: the latest pick decides which chain comes first
    first = chain_model.fold_in([index["1"], index["4"]], n=1)
    second = chain_model.fold_in([index["4"], index["1"]], n=1)
    assert films.iat[first[0].index] == "5" and films.iat[first[0].because[0]] == "4"
    assert films.iat[second[0].index] == "2" and films.iat[second[0].because[0]] == "1"


def test_the_summary_says_when_the_latest_ratings_or_the_order_of_picks_count(chain_model):
    from products.recommend import core

    scored = chain_model.recommend(chain_model.data.user_index["13"], n=2)
    assert "what people rated next after them (weight 1.0)" in core._summary(chain_model, scored, "long", None, 1, "en")
    assert "order of your picks counts" in core._summary(chain_model, scored, "visitor", None, 1, "en")
    chain_model.weights["long"]["seq"] = 0.0
    assert "rated next" not in core._summary(chain_model, scored, "long", None, 1, "en")
