"""products/recommend/cache.py: the fitted models, the chosen blend, the content vectors and the
pickers' lists come back from disk, keyed by what they were computed from; damaged files are refused."""
from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from products.recommend import cache, core, models
from products.recommend.params import Params
from products.recommend.recommender import HybridRecommender
from tests.recommend_support import GENRES, GenreEncoder, dataset, fitted, private, synthetic_tables, write_folder  # noqa: F401


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


def test_catalog_lists_are_cached_and_follow_data_changes(private, monkeypatch):
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


def test_a_cache_file_is_renamed_into_place_and_refused_once_damaged(tmp_path):
    vectors = np.arange(12, dtype=np.float32).reshape(3, 4)
    path = tmp_path / "deep" / "content-x.npz"
    cache.save_content(path, vectors, {"Drama": vectors[0]})
    assert sorted(p.name for p in path.parent.iterdir()) == ["content-x.npz", "content-x.sha256"]  # no temp left
    back, genres = cache.load_content(path, 3)
    assert np.array_equal(back, vectors) and np.array_equal(genres["Drama"], vectors[0])
    with pytest.raises(ValueError, match="does not match the catalog"):
        cache.load_content(path, 4)
    path.write_bytes(path.read_bytes()[:-4] + b"XXXX")
    with pytest.raises(ValueError, match="cannot be verified"):
        cache.load_content(path, 3)
