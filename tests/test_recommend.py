"""Recommendation product: metrics against hand-computed values, deterministic rankings on a small
synthetic catalog, cold start, cache invalidation, error paths, the tab through gradio_client, and (integration)
the real MovieLens 100k data with the real encoder."""
from __future__ import annotations

import math
from dataclasses import replace

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp

from shared.registry import ModelRegistry, ModelSpec
from shared.ui import UserError

from products.recommend import core, data as rdata, metrics, models
from products.recommend.engine import (HybridRecommender, Params, collaborative_share,
                                       combine, content_space, item_knn, top_n)
from tests.conftest import free_port

GENRES = ["Horror", "Comedy", "Drama", "Sci-Fi"]


class GenreEncoder:
    """A deterministic stand-in for the sentence encoder: a one-hot of the genre words in a text."""

    def encode(self, texts, batch_size=32):
        out = np.zeros((len(texts), len(GENRES) + 1), dtype=np.float32)
        for row, text in enumerate(texts):
            for k, g in enumerate(GENRES):
                if g in text:
                    out[row, k] = 1.0
            if not out[row].any():
                out[row, -1] = 1.0
        return out / np.linalg.norm(out, axis=1, keepdims=True)


def synthetic_tables():
    """Two audiences: users 1-6 rate items 1-6 (Horror/Comedy), users 7-12 rate items 7-12 (Drama/Sci-Fi).
    Each user skips one item of their block, so that item is what CF must recommend."""
    items = pd.DataFrame({
        "item_id": [str(i) for i in range(1, 13)],
        "title": [f"Film {i}" for i in range(1, 13)],
        "year": [1990 + i for i in range(1, 13)],
        "genres": ["Horror"] * 3 + ["Comedy"] * 3 + ["Drama"] * 3 + ["Sci-Fi"] * 3,
    })
    rows, ts = [], 0
    for user in range(1, 13):
        block = range(1, 7) if user <= 6 else range(7, 13)
        skip = block[(user - 1) % 6]
        for item in block:
            if item == skip:
                continue
            ts += 1
            rows.append({"user_id": str(user), "item_id": str(item), "rating": 5 if item % 2 else 4, "timestamp": ts})
    return pd.DataFrame(rows), items


def write_folder(path, ratings, items):
    path.mkdir(parents=True, exist_ok=True)
    ratings.to_csv(path / "ratings.csv", index=False)
    items.to_csv(path / "items.csv", index=False)
    return path


@pytest.fixture
def dataset():
    return rdata.prepare(*synthetic_tables())


@pytest.fixture
def fitted(dataset):
    model = HybridRecommender.fit(dataset, Params(factors=4, regularization=0.01, iterations=20, val_fraction=0.2))
    model.attach_content(GenreEncoder().encode(list(dataset.items["text"])),
                         dict(zip(GENRES, GenreEncoder().encode(GENRES))))
    return model


@pytest.fixture
def private(fresh_settings, tmp_path):
    """A private registry with the recommender over the synthetic folder and the genre encoder."""
    folder = write_folder(tmp_path / "catalog", *synthetic_tables())
    fresh_settings.setenv("AIPM_CACHE_DIR", str(tmp_path / "cache"))
    fresh_settings.setenv("AIPM_RECOMMEND_DATA", str(folder))
    fresh_settings.setenv("AIPM_RECOMMEND_FACTORS", "4")
    fresh_settings.setenv("AIPM_RECOMMEND_REGULARIZATION", "0.01")
    fresh_settings.setenv("AIPM_RECOMMEND_ITERATIONS", "20")
    registry = ModelRegistry(budget_bytes=10**9, keep_alive_s=0)
    registry.register(models.RECOMMENDER_SPEC)
    registry.register(ModelSpec(name="text-encoder", loader=lambda ctx: GenreEncoder(),
                                sources=(models.RECOMMENDER_SPEC.sources[0],), dtype_policy="none"))
    return registry, folder


# ---- metrics ---------------------------------------------------------------------------------
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


# ---- rankings --------------------------------------------------------------------------------
def test_top_n_breaks_ties_by_index_and_skips_excluded():
    scores = np.array([1.0, 3.0, 3.0, 2.0, 3.0])
    assert top_n(scores, 3).tolist() == [1, 2, 4]
    assert top_n(scores, 3, np.array([False, True, False, False, False])).tolist() == [2, 4, 3]
    assert top_n(scores, 10, np.array([True] * 5)).tolist() == []


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
    from products.recommend import engine

    model = HybridRecommender.fit(dataset, Params(factors=4, regularization=0.01, iterations=20, val_fraction=0.2,
                                                  ease_lambdas=(1.0, 50.0), content_alphas=(0.0, 5.0),
                                                  side_weights=(0.0, 0.5), seq_weights=(0.0, 0.5)))
    calls = []

    def scored(scores, seen, relevant, k=10):  # every grid point scores the same: the first must win
        calls.append(1)
        return np.full(len(relevant), 0.5)

    monkeypatch.setattr(engine, "_per_user_ndcg", scored)
    model.attach_content(GenreEncoder().encode(list(dataset.items["text"])),
                         dict(zip(GENRES, GenreEncoder().encode(GENRES))))
    # (known users, new visitors) x lambdas x alphas x sequence x ALS x kNN weights
    assert len(calls) == 2 * (2 * 2 * 2 * 2 * 2)
    row = model.tuning["short"]
    assert (row["lambda"], row["alpha"], row["weights"]) == (1.0, 0.0, {"ease": 1.0, "als": 0.0, "knn": 0.0,
                                                                        "seq": 0.0})
    assert row["tuned"] == row["cross_validated"] == row["plain_ease"] == 0.5


def test_cross_validated_estimate_scores_each_fold_with_the_others_choice():
    from products.recommend.engine import _cross_validated

    # point 0 wins on users 0-1, point 1 on users 2-3; with 2 folds of 2 users the choice made on one
    # fold is scored on the other, so the estimate is below the in-sample best of either point
    scores = np.array([[1.0, 1.0, 0.0, 0.0], [0.0, 0.0, 0.9, 0.9]])
    estimate = _cross_validated(scores, folds=2, seed=0, repeats=1)
    assert estimate <= 0.5 + 1e-12
    # one point better for everyone: the estimate is its mean
    assert _cross_validated(np.array([[0.2, 0.4, 0.6], [0.1, 0.3, 0.5]]), 3, 0) == pytest.approx(0.4)


def test_item_knn_keeps_the_k_nearest_by_cosine_plus_content():
    # ratings columns: items 0 and 1 identical, item 2 shares one of their two raters, item 3 nobody's
    matrix = sp.csr_matrix(np.array([[1, 1, 1, 0], [1, 1, 0, 0], [0, 0, 0, 1]], dtype=np.float32))
    plain = item_knn(matrix, None, k=2).toarray()
    half = 1 / math.sqrt(2)
    assert plain == pytest.approx(np.array([[0, 1, half, 0], [1, 0, half, 0], [half, half, 0, 0],
                                            [0, 0, 0, 0]], dtype=np.float32))
    assert (item_knn(matrix, None, k=1).toarray() > 0).sum(axis=1).tolist() == [1, 1, 1, 0]
    # content cosine, weighted by beta, is added before the neighbours are kept: item 3 now has neighbours
    content = np.array([[1, 0], [1, 0], [0, 1], [0, 1]], dtype=np.float32)
    boosted = item_knn(matrix, content, k=2, beta=0.5).toarray()
    assert boosted[3].tolist() == pytest.approx([0, 0, 0.5, 0])
    assert boosted[0].tolist() == pytest.approx([0, 1.5, half, 0])
    assert np.all(np.diag(boosted) == 0)


def test_content_space_mixes_text_and_genre_cosines():
    text = np.array([[1, 0], [0.6, 0.8], [0, 1]], dtype=np.float32)
    genres = np.array([[1, 0], [1, 0], [0, 1]], dtype=np.float32)
    space = content_space(text, genres, text_share=0.25)
    assert np.linalg.norm(space, axis=1) == pytest.approx([1, 1, 1])
    assert float(space[0] @ space[1]) == pytest.approx(0.25 * 0.6 + 0.75 * 1.0)
    assert float(space[0] @ space[2]) == pytest.approx(0.0)


def test_combine_blends_z_scores_by_weight_and_share():
    z = {"als": np.array([1.0, -1.0]), "knn": np.array([0.0, 2.0]), "ease": np.array([4.0, 4.0]),
         "content": np.array([-1.0, 1.0])}
    weights = {"als": 3.0, "knn": 1.0, "ease": 0.0, "content": 1.0}
    score, cf, content, share = combine(z, weights)
    assert share == pytest.approx(0.8) and cf.tolist() == pytest.approx([0.75, -0.25])
    # with its own share the score is sum(weight * z) / sum(weights): the ranking the tuning measured
    assert score.tolist() == pytest.approx([(3 - 1) / 5, (-3 + 2 + 1) / 5])
    assert combine(z, weights, 1.0)[0].tolist() == pytest.approx(cf.tolist())
    assert combine(z, weights, 0.0)[0].tolist() == pytest.approx([-1.0, 1.0])
    assert combine({**z, "content": None}, weights)[3] == 1.0


def test_history_buckets_and_new_visitors_use_their_own_weights(fitted):
    fitted.weights = {"short": {"als": 0.0, "knn": 1.0, "ease": 0.0, "content": 1.0},
                      "long": {"als": 1.0, "knn": 0.0, "ease": 0.0, "content": 0.0},
                      "visitor": {"als": 0.0, "knn": 1.0, "ease": 0.0, "content": 3.0}}
    assert fitted.bucket(20) == "short" and fitted.bucket(21) == "long"
    assert fitted.share(3) == pytest.approx(0.5) and fitted.share(30) == 1.0 and fitted.share(3, 0.2) == 0.2
    recs = fitted.fold_in([0], n=3)  # a new visitor: the visitor weights, collaborative share 1 / 4
    assert recs[0].score == pytest.approx(0.25 * recs[0].collaborative + 0.75 * recs[0].content)


def test_blend_weights_are_cached_by_data_and_training_ratings(dataset, tmp_path):
    params = Params(factors=4, regularization=0.01, iterations=20, val_fraction=0.2)
    vectors = GenreEncoder().encode(list(dataset.items["text"]))
    genres = dict(zip(GENRES, GenreEncoder().encode(GENRES)))
    first, seen = HybridRecommender.fit(dataset, params), []
    first.attach_content(vectors, genres, key="k", cache_dir=tmp_path, progress=lambda f, text: seen.append((f, text)))
    n_fits = len(first.grid()[0])
    assert [text for _, text in seen[:n_fits]] == [f"choosing the blend on validation: {k}/{n_fits}..."
                                                   for k in range(1, n_fits + 1)]
    assert [f for f, _ in seen] == sorted(f for f, _ in seen) and seen[-1][1].startswith("solving EASE")
    again, seen_again = HybridRecommender.fit(dataset, params), []
    again.attach_content(vectors, genres, key="k", cache_dir=tmp_path,
                         progress=lambda f, text: seen_again.append(text))
    assert seen_again == []  # read from the cache: nothing to choose
    assert not first.from_blend_cache and again.from_blend_cache and again.weights == first.weights
    assert again.tuning == first.tuning and again.ease_fit == first.ease_fit
    for bucket in ("short", "long"):  # each bucket's EASE with content comes back from the npz
        assert np.array_equal(again.ease[bucket], first.ease[bucket])
    other = HybridRecommender.fit(dataset, params, train=dataset.ratings.iloc[:-3])
    other.attach_content(vectors, genres, key="k", cache_dir=tmp_path)
    assert not other.from_blend_cache
    assert len(list(tmp_path.glob("blend-*.npz"))) == 2 and len(list(tmp_path.glob("blend-*.sha256"))) == 2


# ---- data errors -----------------------------------------------------------------------------
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


def test_cache_is_reused_and_invalidated_when_data_changes(private, tmp_path):
    registry, folder = private
    with core.recommender(registry=registry) as model:
        assert model.from_cache is False and model.content is not None
        first = model.cache_path
    registry.unload(models.RECOMMENDER)
    with core.recommender(registry=registry) as model:
        assert model.from_cache is True and model.cache_path == first
        assert model.content is not None  # loaded from the content cache by the loader itself
    registry.unload(models.RECOMMENDER)
    ratings, items = synthetic_tables()
    ratings.loc[0, "rating"] = 1
    write_folder(folder, ratings, items)
    with core.recommender(registry=registry) as model:
        assert model.from_cache is False and model.cache_path != first
    # a damaged cache file is refitted, not trusted
    registry.unload(models.RECOMMENDER)
    model_file = model.cache_path
    model_file.write_bytes(model_file.read_bytes()[:-10] + b"0123456789")
    with core.recommender(registry=registry) as model:
        assert model.from_cache is False


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

    fresh_settings.setenv("AIPM_CACHE_DIR", str(tmp_path))
    data = rdata.load_movielens(artifacts.materialize(rdata.ML100K))
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


def test_catalog_lists_are_cached_and_follow_data_changes(private, monkeypatch):
    from products.recommend import core

    _, folder = private
    monkeypatch.setattr(core, "_catalog_cache", {})
    first = core.catalog_choices()
    assert first["users"] == [str(u) for u in range(1, 13)] and ("Film 1 (1991)", "1") in first["items"]
    cached = core._catalog_file(folder)
    assert cached.is_file()
    core._catalog_cache.clear()
    assert core.catalog_choices() == first, "read back from the cache file"
    ratings, items = synthetic_tables()
    items.loc[0, "title"] = "Renamed"
    write_folder(folder, ratings, items)
    core._catalog_cache.clear()
    assert ("Renamed (1991)", "1") in core.catalog_choices()["items"], "a changed file means a new cache key"


# ---- EASE ------------------------------------------------------------------------------------
def test_ease_matches_the_hand_computed_closed_form():
    from products.recommend.engine import ease

    # two items: B[0, 1] = x0.x1 / (x0.x0 + lam), B[1, 0] = x0.x1 / (x1.x1 + lam) (a ridge regression
    # of one item's column on the other's); here x0.x0 = 3, x1.x1 = 2, x0.x1 = 2, lam = 1
    two = sp.csr_matrix(np.array([[1, 1], [1, 0], [1, 1]], dtype=np.float32))
    assert ease(two, 1.0) == pytest.approx(np.array([[0, 0.5], [2 / 3, 0]]))
    # larger: each column j is the ridge regression of item j on the other items (diag(B) = 0)
    x = np.random.default_rng(0).integers(0, 6, size=(12, 5)).astype(np.float64)
    b = ease(sp.csr_matrix(x), 3.0)
    assert np.all(np.diag(b) == 0)
    for j in range(5):
        others = [i for i in range(5) if i != j]
        xo = x[:, others]
        ridge = np.linalg.solve(xo.T @ xo + 3.0 * np.eye(4), xo.T @ x[:, j])
        assert b[others, j] == pytest.approx(ridge, rel=1e-4, abs=1e-6)


def test_ease_with_content_is_ease_on_the_ratings_stacked_with_weighted_features():
    from products.recommend.engine import ease

    # alpha F F^T added to X^T X is the Gram matrix of X with the features as extra rows scaled by
    # sqrt(alpha): the closed form must equal plain EASE on that stacked matrix
    rng = np.random.default_rng(1)
    x = rng.integers(0, 6, size=(10, 6)).astype(np.float64)
    features = rng.normal(size=(6, 3))
    stacked = np.vstack([x, np.sqrt(4.0) * features.T])
    assert ease(sp.csr_matrix(x), 2.0, features, 4.0) == pytest.approx(ease(sp.csr_matrix(stacked), 2.0), abs=1e-5)
    assert ease(sp.csr_matrix(x), 2.0, features, 0.0) == pytest.approx(ease(sp.csr_matrix(x), 2.0))
    # content pulls items together: two items nobody co-rated get weight when their vectors agree
    apart = sp.csr_matrix(np.array([[5, 0], [0, 5]], dtype=np.float32))
    same = np.array([[1.0], [1.0]])
    assert ease(apart, 1.0)[0, 1] == 0 and ease(apart, 1.0, same, 10.0)[0, 1] > 0


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


def test_ease_can_be_switched_off_and_is_cached_with_the_model(dataset, tmp_path):
    params = Params(factors=4, regularization=0.01, iterations=20, val_fraction=0.2)
    off = replace(params, ease_lambda=0.0)
    assert off.key() != params.key() and replace(params, ease_lambda=10.0).key() != params.key()
    model = HybridRecommender.fit(dataset, off)
    model.attach_content(GenreEncoder().encode(list(dataset.items["text"])),
                         dict(zip(GENRES, GenreEncoder().encode(GENRES))))
    assert model.plain_ease is None and model.ease == {"short": None, "long": None, "visitor": None}
    assert not model.weights["short"].get("ease") and model.weights["short"]["als"] == 1.0
    assert len(model.recommend(0, 3)) == 3 and len(model.fold_in([0, 1], n=3)) == 3
    on = HybridRecommender.fit(dataset, params)
    on.save(tmp_path / "m.npz")
    loaded = HybridRecommender.load(tmp_path / "m.npz", dataset, params)
    assert np.array_equal(loaded.plain_ease, on.plain_ease)
    with pytest.raises(ValueError):
        HybridRecommender.load(tmp_path / "m.npz", dataset, off)  # other settings: refitted


def test_the_short_bucket_borrows_the_long_choice_when_its_own_search_overfits(monkeypatch):
    from products.recommend import engine

    # users 1-6 keep 5 ratings (4 after the validation cut: short with short_history = 4); users 7-12 get
    # their skipped item back (6 ratings, 5 after the cut: long)
    ratings, items = synthetic_tables()
    back = [{"user_id": str(u), "item_id": str(range(7, 13)[(u - 1) % 6]), "rating": 4, "timestamp": 1000 + u}
            for u in range(7, 13)]
    dataset = rdata.prepare(pd.concat([ratings, pd.DataFrame(back)], ignore_index=True), items)
    params = Params(factors=4, regularization=0.01, iterations=20, val_fraction=0.2, short_history=4,
                    ease_lambdas=(1.0,), content_alphas=(0.0,), side_weights=(0.0, 0.5), seq_weights=(0.0,))
    model = HybridRecommender.fit(dataset, params)
    inner = engine.split_by_time(model.train, params.val_fraction, min_holdout=1, min_train=1)
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

    monkeypatch.setattr(engine, "_per_user_ndcg", scored)
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
    cohorts = fitted._validation_cohorts(inner)
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
    from products.recommend.engine import _per_user_ndcg

    # 300 rows, so the rows are ranked in two halves on two threads where there are two cores
    rng = np.random.default_rng(0)
    scores = rng.random((300, 40)).astype(np.float32)
    seen = rng.random((300, 40)) < 0.2
    relevant = [set(rng.choice(40, size=int(rng.integers(0, 6)), replace=False).tolist()) for _ in range(300)]
    expected = []
    for row, rel in enumerate(relevant):
        ranked = top_n(scores[row], 10, seen[row])
        expected.append(metrics.ndcg_at_k(list(ranked), rel, 10))
    assert _per_user_ndcg(scores, seen, relevant).tolist() == pytest.approx(expected, abs=1e-12)


def test_the_grids_shared_partial_sums_are_the_plain_sums():
    from products.recommend.engine import _blend_sums

    rng = np.random.default_rng(1)
    z = {k: rng.standard_normal((4, 6)).astype(np.float32) for k in ("ease", "als", "knn", "seq")}
    blends = [{"ease": 1.0, "als": a, "knn": k, "seq": q} for q in (0.0, 0.5) for a in (0.0, 0.3) for k in (0.0, 0.1)]
    sums = dict(_blend_sums(z, blends))
    assert sorted(sums) == list(range(len(blends)))
    for index, blend in enumerate(blends):  # bit for bit: the same float operations in the same order
        assert np.array_equal(sums[index], sum(w * z[k] for k, w in blend.items() if w))
