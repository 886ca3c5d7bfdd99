"""Recommendation product (recommender.py, core.py, tab.py): deterministic rankings on a small synthetic
catalog, explanations, filters, cold start, error paths, the tab through gradio_client, and (integration)
the real MovieLens 100k data with the real encoder. The modules it is built from have their own files:
test_recommend_signals, _tuning, _cache, _metrics, _sequence."""
from __future__ import annotations

import numpy as np
import pytest

from shared.ui import UserError

from products.recommend import core, data as rdata, metrics
from products.recommend.params import Params
from products.recommend.recommender import HybridRecommender
from products.recommend.signals import top_n
from tests.conftest import free_port
from tests.recommend_support import GENRES, GenreEncoder, dataset, fitted, private, synthetic_tables, write_folder  # noqa: F401


# ---- rankings, explanations, filters, cold start --------------------------------------------------------------------------------


def test_collaborative_recommends_the_skipped_item_of_the_users_audience(fitted, dataset):
    for user in range(1, 13):
        u = dataset.user_index[str(user)]
        block = range(1, 7) if user <= 6 else range(7, 13)
        skipped = str(block[(user - 1) % 6])
        top = fitted.recommend(u, 1, weight=1.0)
        assert dataset.items["item_id"].iat[top[0].index] == skipped


def test_content_only_ranks_same_genre_first_in_index_order(fitted, dataset):
    u = dataset.user_index["1"]  # rated items 2-6 (Horror 2, 3; Comedy 4, 5, 6), all 4 or 5
    got = [dataset.items["item_id"].iat[s.index] for s in fitted.recommend(u, 3, weight=0.0)]
    # item 1 (Horror) is the only unrated item sharing the profile's genres; the rest tie at 0, by index
    assert got == ["1", "7", "8"]


def test_no_recommended_item_was_already_rated(fitted, dataset):
    for u in range(dataset.n_users):
        rated = set(fitted.history(u)[0].tolist())
        for weight in (0.0, 0.5, 1.0, None):
            recs = fitted.recommend(u, 12, weight=weight)
            assert rated.isdisjoint(s.index for s in recs)
            assert len(recs) == dataset.n_items - len(rated)


def test_explanations_name_rated_items_of_the_same_audience(fitted, dataset):
    u = dataset.user_index["7"]
    rec = fitted.recommend(u, 1, weight=1.0)[0]
    assert len(rec.because) == 2
    assert set(rec.because) <= set(fitted.history(u)[0].tolist())


def test_filters_apply_before_ranking(fitted, dataset):
    u = dataset.user_index["1"]
    recs = fitted.recommend(u, 5, weight=1.0, genres=["Sci-Fi"])
    assert [dataset.items["item_id"].iat[s.index] for s in recs] and all(
        "Sci-Fi" in dataset.items["genres"].iat[s.index] for s in recs)
    recs = fitted.recommend(u, 5, years=(1997, 1999))
    assert sorted(int(dataset.items["year"].iat[s.index]) for s in recs) == [1997, 1998, 1999]


def test_cold_start_folds_in_picks_without_refitting(fitted, dataset):
    before = fitted.als.user_factors.copy()
    picks = [dataset.item_index[i] for i in ("7", "8", "9")]
    recs = fitted.fold_in(picks, n=3, weight=1.0)
    assert {dataset.items["item_id"].iat[s.index] for s in recs} == {"10", "11", "12"}
    assert np.array_equal(before, fitted.als.user_factors)
    # content only: the profile is half Horror (the pick), half Sci-Fi (the favourite genre); ties by index
    mixed = fitted.fold_in([dataset.item_index["1"]], genres=["Sci-Fi"], n=6, weight=0.0)
    assert [dataset.items["item_id"].iat[s.index] for s in mixed] == ["2", "3", "10", "11", "12", "4"]


def test_similar_items_share_audience(fitted, dataset):
    similar = fitted.similar_items(dataset.item_index["8"], 5, weight=1.0)
    assert {dataset.items["item_id"].iat[j] for j, *_ in similar} == {"7", "9", "10", "11", "12"}
    assert all(co > 0 for *_, co in similar)


def test_history_buckets_and_new_visitors_use_their_own_weights(fitted):
    fitted.weights = {"short": {"als": 0.0, "knn": 1.0, "ease": 0.0, "content": 1.0},
                      "long": {"als": 1.0, "knn": 0.0, "ease": 0.0, "content": 0.0},
                      "visitor": {"als": 0.0, "knn": 1.0, "ease": 0.0, "content": 3.0}}
    assert fitted.bucket(20) == "short" and fitted.bucket(21) == "long"
    assert fitted.share(3) == pytest.approx(0.5) and fitted.share(30) == 1.0 and fitted.share(3, 0.2) == 0.2
    recs = fitted.fold_in([0], n=3)  # a new visitor: the visitor weights, collaborative share 1 / 4
    assert recs[0].score == pytest.approx(0.25 * recs[0].collaborative + 0.75 * recs[0].content)


def _ease_only(model):
    only = {"als": 0.0, "knn": 0.0, "ease": 1.0, "content": 0.0}
    model.weights = {"short": dict(only), "long": dict(only), "visitor": dict(only)}
    return model


def test_ease_recommends_the_skipped_item_and_never_a_rated_one(fitted, dataset):
    _ease_only(fitted)
    b = fitted.ease["short"]  # every synthetic user is short
    assert b is not None and b.shape == (12, 12)
    # no user rates both audiences and no genre is shared across them, so X^T X + alpha C C^T is block
    # diagonal and so is B: no weight across blocks
    assert np.all(b[:6, 6:] == 0) and np.all(b[6:, :6] == 0)
    for user in range(1, 13):
        u = dataset.user_index[str(user)]
        block = range(1, 7) if user <= 6 else range(7, 13)
        recs = fitted.recommend(u, 12, weight=1.0)
        assert dataset.items["item_id"].iat[recs[0].index] == str(block[(user - 1) % 6])
        rated = set(fitted.history(u)[0].tolist())
        assert rated.isdisjoint(s.index for s in recs) and len(recs) == 12 - len(rated)
        # the explanation: the rated items with the largest rating x B[rated, item]
        items, ratings = fitted.history(u)
        contribution = ratings * b[items, recs[0].index]
        assert recs[0].because == [int(items[j]) for j in np.lexsort((np.arange(len(items)), -contribution))[:2]]


def test_ease_cold_start_is_picks_times_b(fitted, dataset):
    _ease_only(fitted)
    picks = [dataset.item_index[i] for i in ("7", "8", "9")]
    b = fitted.ease["visitor"]
    before = b.copy()
    recs = fitted.fold_in(picks, n=12, weight=1.0)
    assert {dataset.items["item_id"].iat[s.index] for s in recs[:3]} == {"10", "11", "12"}
    assert not {s.index for s in recs} & set(picks)
    scores = 5.0 * b[picks].sum(axis=0)  # each pick counts as a 5
    expected = (scores - scores.mean()) / scores.std()
    assert [s.score for s in recs] == pytest.approx([float(expected[s.index]) for s in recs], rel=1e-4)
    assert np.array_equal(before, fitted.ease["visitor"])


# ---- through the registry: errors, cache ------------------------------------------------------


def test_unknown_user_empty_picks_and_bad_arguments(private):
    registry, _ = private
    with pytest.raises(UserError, match="Unknown user id '999'.*1 to 12"):
        core.for_user("999", registry=registry)
    with pytest.raises(UserError, match="at least one"):
        core.cold_start([], registry=registry)
    with pytest.raises(UserError, match="Unknown item"):
        core.cold_start(["nope"], registry=registry)
    with pytest.raises(UserError, match="between 1 and"):
        core.for_user("1", n=0, registry=registry)
    with pytest.raises(UserError, match="year range is empty"):
        core.for_user("1", years=(2000, 1990), registry=registry)
    with pytest.raises(UserError, match="Unknown genre"):
        core.for_user("1", genres=["Western"], registry=registry)
    with pytest.raises(UserError, match="Pick an item"):
        core.similar("", registry=registry)


def test_core_tables(private):
    registry, _ = private
    table, history, mix, summary = core.for_user("7", n=3, registry=registry)
    assert len(table) == 3 and table["Why"].str.startswith("because you rated *Film").all()
    assert len(history) == 5 and set(mix["set"]) == {"history", "recommendations"}
    assert "recommendations in" in summary
    table, mix, _ = core.cold_start(["7", "8"], ["Drama"], n=2, weight=1.0, registry=registry)
    assert set(table["item_id"]) <= {"9", "10", "11", "12"} and "because you like" in table["Why"].iat[0]
    table, title = core.similar("1", n=2, weight=1.0, registry=registry)
    assert title == "Film 1 (1991)" and table["Why"].str.contains("shared audience").all()


# ---- the tab through gradio_client -----------------------------------------------------------


def test_tab_endpoints(private, monkeypatch):
    import gradio as gr
    from gradio_client import Client

    registry, _ = private
    monkeypatch.setattr(core, "shared_registry", registry)
    monkeypatch.setattr(core, "_catalog_cache", {})
    from products.recommend import build_tab

    with gr.Blocks() as demo:
        build_tab()
    demo.queue().launch(prevent_thread_lock=True, server_port=free_port(), quiet=True)
    try:
        client = Client(demo.local_url, verbose=False)
        recs, history, mix, bars, summary = client.predict("7", 3, True, 0.9, [], 1991, 2002,
                                                           api_name="/recommend_user")
        assert len(recs["data"]) == 3 and "recommendations in" in summary
        recs, mix, bars, summary = client.predict(["7", "8"], ["Drama"], 2, False, 1.0, [], 1991, 2002,
                                                  api_name="/recommend_cold_start")
        assert len(recs["data"]) == 2
        table, title = client.predict("1", 2, True, 0.9, [], 1991, 2002, api_name="/recommend_similar")
        assert title == "Film 1 (1991)"
        card = client.predict(api_name="/recommend_model_card")
        assert "Chosen on validation" in card and "≤ 20 ratings" in card and "content α" in card
        with pytest.raises(Exception, match="Unknown user id"):
            client.predict("999", 3, True, 0.9, [], 1991, 2002, api_name="/recommend_user")
    finally:
        demo.close()


# ---- integration: the real data and encoder -------------------------------------------------


@pytest.mark.integration
def test_hybrid_beats_popularity_on_movielens(fresh_settings, tmp_path):
    from shared import artifacts
    from shared.models import registry

    from products.recommend.artifacts import ML100K

    fresh_settings.setenv("AIPM_CACHE_DIR", str(tmp_path))
    data = rdata.load_movielens(artifacts.materialize(ML100K))
    assert (data.n_users, data.n_items, len(data.ratings)) == (943, 1682, 100_000)
    split = metrics.split_by_time(data.ratings, 0.2)
    model = HybridRecommender.fit(data, Params(), train=split.train)
    core.attach_content(model, registry=registry)
    hybrid = {u: np.array([s.index for s in model.recommend(u, 10, explain=False)]) for u in range(data.n_users)}
    pop = np.bincount(split.train["i"], minlength=data.n_items).astype(float)
    popular = {u: top_n(pop, 10, model.matrix[u].toarray().ravel() > 0) for u in range(data.n_users)}
    args = (split.test, split.train, data.n_users, data.n_items)
    h, p = metrics.evaluate_lists(hybrid, *args)["ndcg"], metrics.evaluate_lists(popular, *args)["ndcg"]
    assert h > p, (h, p)
    # cold start on real titles: Star Wars + Return of the Jedi bring The Empire Strikes Back
    recs = model.fold_in([data.item_index["50"], data.item_index["181"]], n=10)
    assert "Empire Strikes Back, The (1980)" in [data.items["label"].iat[s.index] for s in recs]
