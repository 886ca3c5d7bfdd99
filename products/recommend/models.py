"""The recommender as a registry model: lazily fitted (or loaded from the disk cache), leased and
evictable like any other model.

Source chain: a customer's catalog folder ($AIPM_RECOMMEND_DATA), else MovieLens 100k embedded in
the recbole wheel. The content vectors need the shared text encoder, which a loader must not load
itself (the registry runs one load at a time): the loader attaches them from the disk cache only,
and `core.attach_content` encodes them on first use, through `registry.use("text-encoder")`; both
go through `content.attach`.
"""
from __future__ import annotations

from pathlib import Path

from shared import artifacts
from shared.catalog import MINILM_ENCODER
from shared.config import settings
from shared.models import registry
from shared.registry import LoadContext, ModelSpec
from shared.sources import Embedded, LocalPath

from products.recommend import content
from products.recommend.artifacts import ML100K
from products.recommend.cache import model_cache_path
from products.recommend.data import Dataset, load_folder, load_movielens
from products.recommend.params import Params
from products.recommend.recommender import HybridRecommender
from products.recommend.settings import RecommendSettings

RECOMMENDER = "recommender"


def params_from_settings(config: RecommendSettings | None = None) -> Params:
    """The fitting Params the settings choose (the rest are chosen on validation, in params.py)."""
    config = config or RecommendSettings.current()
    return Params(factors=config.factors, regularization=config.regularization, iterations=config.iterations)


def cache_root() -> Path:
    return artifacts.cache_dir() / "recommend"


def encoder_key() -> str:
    """Which encoder made the content vectors (part of their cache key)."""
    s = settings()
    return f"{s.encoder_path}|{s.encoder_hub}|{MINILM_ENCODER.name}"


def load_dataset(ctx: LoadContext) -> Dataset:
    if ctx.source.kind == "embedded":
        return load_movielens(ctx.path)
    return load_folder(ctx.path)


def load_recommender(ctx: LoadContext) -> HybridRecommender:
    ctx.progress(0.02, "reading ratings...")
    data = load_dataset(ctx)
    params = params_from_settings()
    path = model_cache_path(cache_root(), data, params)
    try:
        model = HybridRecommender.load(path, data, params)
        ctx.progress(0.8, "loaded the fitted recommender from the cache")
    except (OSError, ValueError):
        model = HybridRecommender.fit(data, params, progress=ctx.progress)
        model.save(path)
    try:
        content.attach(model, cache_root(), encoder_key(), encode=None,
                       progress=lambda f, text: ctx.progress(0.85 + 0.14 * f, text))
    except (OSError, ValueError):
        pass  # recomputed on first use by core.attach_content
    return model


RECOMMENDER_SPEC = ModelSpec(
    name=RECOMMENDER,
    loader=load_recommender,
    sources=(LocalPath("AIPM_RECOMMEND_DATA"), Embedded(ML100K)),
    description="Hybrid recommender: EASE fitted on ratings + all-MiniLM-L6-v2 item vectors, blended with implicit ALS, an item-kNN and next-item transitions; MovieLens 100k or your catalog",
    device_policy="cpu",
    dtype_policy="none",
    size_estimate=60_000_000,
    fix_hint="pip install --no-deps recbole==1.2.1, or set AIPM_RECOMMEND_DATA to a folder with ratings.csv and items.csv",
)

registry.register(RECOMMENDER_SPEC)
