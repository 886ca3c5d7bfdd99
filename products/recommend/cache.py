"""The recommender's disk caches, in safe formats (npz without pickle, JSON meta), each file written
to a temporary name, renamed into place and checked by its sha256 on the way back in.

Three caches, each keyed by what it was computed from:
- model-*.npz: the fitted ALS factors and plain EASE (data checksum + Params);
- content-*.npz: the encoder's item and genre vectors (data checksum + encoder);
- blend-*.npz: the blend chosen on validation and each bucket's EASE with content (data, training
  ratings, Params, encoder, whether content is in the blend).
"""
from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import BinaryIO, Callable

import numpy as np
import pandas as pd

from products.recommend.data import Dataset
from shared import artifacts
from products.recommend.params import Params

CACHE_VERSION = 8


def write_verified(path: Path, write: Callable[[BinaryIO], None]) -> None:
    """write(file), renamed into place, its sha256 and size stored beside it (shared/artifacts.py)."""
    artifacts.write_atomically(path, write, checksum=True)


def check_digest(path: Path) -> None:
    """ValueError unless `path` matches the sha256 and size written beside it."""
    try:
        artifacts.check_checksum_file(path)
    except (OSError, ValueError, artifacts.ArtifactError) as err:
        raise ValueError(f"cache {path} cannot be verified: {err}") from err


def frame_key(train: pd.DataFrame) -> str:
    """sha256 of the (user, item, rating) triples a model learns from."""
    digest = hashlib.sha256()
    for column in ("u", "i", "rating"):
        digest.update(np.ascontiguousarray(train[column].to_numpy()).tobytes())
    return digest.hexdigest()[:16]


# ---- paths -------------------------------------------------------------------------------------
def model_cache_path(cache_root: Path, data: Dataset, params: Params) -> Path:
    return cache_root / f"model-{data.checksum[:16]}-{params.key()}.npz"


def content_cache_path(cache_root: Path, data: Dataset, encoder_key: str) -> Path:
    digest = hashlib.sha256(f"{data.checksum}|{encoder_key}".encode()).hexdigest()[:16]
    return cache_root / f"content-{digest}.npz"


def blend_cache_path(cache_root: Path, data: Dataset, train_key: str, params: Params, encoder_key: str,
                     content_in_blend: bool) -> Path:
    digest = hashlib.sha256(f"{data.checksum}|{train_key}|{params.key()}|{encoder_key}|"
                            f"{content_in_blend}|{CACHE_VERSION}".encode()).hexdigest()[:16]
    return Path(cache_root) / f"blend-{digest}.npz"


# ---- fitted collaborative models -----------------------------------------------------------
def save_model(path: Path, meta: dict, als, tune_als, plain_ease: np.ndarray | None) -> None:
    meta = {"version": CACHE_VERSION, **meta}
    write_verified(path, lambda tmp: np.savez(
        tmp, meta=np.array(json.dumps(meta)),
        user_factors=als.user_factors, item_factors=als.item_factors,
        tune_user_factors=tune_als.user_factors, tune_item_factors=tune_als.item_factors,
        ease=plain_ease if plain_ease is not None else np.zeros((0, 0), np.float32)))


def load_model(path: Path, data: Dataset, params: Params) -> tuple[dict, dict]:
    """(meta, arrays) of a cache written by save_model; ValueError when it is stale, damaged or for
    other data or settings."""
    check_digest(path)
    with np.load(path, allow_pickle=False) as saved:
        meta = json.loads(str(saved["meta"]))
        if (meta.get("version"), meta.get("checksum"), meta.get("params")) != (
                CACHE_VERSION, data.checksum, params.key()):
            raise ValueError(f"{path} was fitted on other data or settings")
        arrays = {name: saved[name] for name in ("user_factors", "item_factors", "tune_user_factors",
                                                 "tune_item_factors", "ease")}
    if arrays["item_factors"].shape[0] != data.n_items or arrays["user_factors"].shape[0] != data.n_users:
        raise ValueError(f"{path} does not match the data's shape")
    if arrays["ease"].size and arrays["ease"].shape != (data.n_items, data.n_items):
        raise ValueError(f"{path} does not match the data's shape")
    return meta, arrays


# ---- the chosen blend ------------------------------------------------------------------------
def save_blend(path: Path, weights: dict, tuning: dict, ease: dict) -> None:
    """Buckets that share one EASE matrix store it once."""
    unique = {id(b): b for b in ease.values() if b is not None}
    order = list(unique)
    meta = {"weights": weights, "tuning": tuning,
            "ease": {bucket: order.index(id(b)) if b is not None else -1 for bucket, b in ease.items()}}
    write_verified(path, lambda tmp: np.savez(tmp, meta=np.array(json.dumps(meta)),
                                              **{f"ease_{k}": unique[i] for k, i in enumerate(order)}))


def load_blend(path: Path, n_items: int) -> tuple[dict, dict, dict]:
    """(weights, tuning, ease per bucket) as save_blend wrote them."""
    check_digest(path)
    with np.load(path, allow_pickle=False) as saved:
        meta = json.loads(str(saved["meta"]))
        matrices = {int(name[5:]): saved[name] for name in saved.files if name.startswith("ease_")}
    if any(m.shape != (n_items, n_items) for m in matrices.values()):
        raise ValueError(f"{path} does not match the catalog")
    ease = {bucket: matrices[k] if k >= 0 else None for bucket, k in meta["ease"].items()}
    return meta["weights"], meta["tuning"], ease


# ---- content vectors -------------------------------------------------------------------------
def save_content(path: Path, vectors: np.ndarray, genre_vectors: dict) -> None:
    names = sorted(genre_vectors)
    write_verified(path, lambda tmp: np.savez(
        tmp, vectors=vectors.astype(np.float32), genre_names=np.array(names, dtype=str),
        genre_vectors=np.stack([genre_vectors[g] for g in names]).astype(np.float32) if names
        else np.zeros((0, vectors.shape[1]), np.float32)))


def load_content(path: Path, n_items: int) -> tuple[np.ndarray, dict]:
    check_digest(path)
    with np.load(path, allow_pickle=False) as saved:
        vectors = saved["vectors"]
        genres = {str(g): v for g, v in zip(saved["genre_names"], saved["genre_vectors"])}
    if vectors.shape[0] != n_items:
        raise ValueError(f"{path} does not match the catalog")
    return vectors, genres
