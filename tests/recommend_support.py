"""What the recommender tests share: a synthetic catalog with two audiences, a genre one-hot encoder
standing in for the sentence encoder, and fixtures for a fitted model and a private registry."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from shared.registry import ModelRegistry, ModelSpec

from products.recommend import data as rdata, models
from products.recommend.params import Params
from products.recommend.recommender import HybridRecommender

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
