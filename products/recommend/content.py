"""The content signal: each item's MiniLM text vector joined with its genres' one-hot, users' content
profiles, and attaching the vectors to a fitted model (from the disk cache, else from the encoder).
"""
from __future__ import annotations

from pathlib import Path
from typing import Callable

import numpy as np

from products.recommend.cache import content_cache_path, load_content, save_content
from products.recommend.data import Dataset
from products.recommend.metrics import RELEVANT
from products.recommend.signals import unit
from shared.progress import Progress, no_progress


def genre_onehot(data: Dataset) -> tuple[list[str], np.ndarray]:
    """(genre names, items x genres 0/1 matrix)."""
    names = data.genres()
    column = {g: k for k, g in enumerate(names)}
    onehot = np.zeros((data.n_items, len(names)), dtype=np.float32)
    for i, genres in enumerate(data.items["genres"]):
        for g in genres:
            onehot[i, column[g]] = 1.0
    return names, onehot


def content_space(text: np.ndarray, genres: np.ndarray, text_share: float) -> np.ndarray:
    """Unit vectors [sqrt(s) * text, sqrt(1 - s) * genres] (each part unit first), so the cosine of two
    items is s * cosine(text) + (1 - s) * cosine(genres) when both parts are non-zero."""
    share = float(min(max(text_share, 0.0), 1.0))
    return unit(np.hstack([np.sqrt(share) * unit(np.asarray(text, np.float32)),
                            np.sqrt(1.0 - share) * unit(np.asarray(genres, np.float32))])).astype(np.float32)


def genre_vectors_in_space(genre_names: list[str], text_genre_vectors: dict, dim: int,
                           text_share: float) -> dict[str, np.ndarray]:
    """A favourite genre as a point in the content space: its text vector (zeros when the encoder gave
    none) and its one-hot, mixed as content_space mixes an item's."""
    share = np.sqrt(min(max(text_share, 0.0), 1.0))
    out = {}
    for k, g in enumerate(genre_names):
        parts = [np.sqrt(1 - share ** 2) * np.eye(len(genre_names), dtype=np.float32)[k]]
        text_g = text_genre_vectors.get(g)
        parts.insert(0, share * unit(np.asarray(text_g, np.float32)) if text_g is not None
                     else np.zeros(dim, np.float32))
        out[g] = unit(np.concatenate(parts)).astype(np.float32)
    return out


def profile(content: np.ndarray, genre_vectors: dict, items: np.ndarray, ratings: np.ndarray,
            genres=()) -> np.ndarray:
    """The content profile: the mean vector of liked items (rating >= 4, else all rated), plus genres."""
    liked = items[ratings >= RELEVANT] if (ratings >= RELEVANT).any() else items
    parts = [content[liked].mean(axis=0)] if len(liked) else []
    parts += [genre_vectors[g] for g in genres if g in genre_vectors]
    if not parts:
        return np.zeros(content.shape[1], dtype=np.float32)
    return unit(np.mean(parts, axis=0))


def encode_content(data: Dataset, encoder, progress: Progress = no_progress, batch: int = 64) -> tuple[np.ndarray, dict]:
    """Vectors of 'title (year) — genres' for every item, and of 'genres: X' for every genre."""
    texts = list(data.items["text"])
    out = []
    for start in range(0, len(texts), batch):
        out.append(encoder.encode(texts[start:start + batch]))
        progress(0.1 + 0.8 * min(1.0, (start + batch) / len(texts)),
                 f"embedding items {min(start + batch, len(texts))}/{len(texts)}...")
    genres = data.genres()
    genre_vectors = dict(zip(genres, encoder.encode(genres))) if genres else {}
    return np.concatenate(out).astype(np.float32), genre_vectors


def attach(model, cache_root: Path, encoder_key: str,
           encode: Callable[[], tuple[np.ndarray, dict]] | None = None, progress: Progress = no_progress) -> bool:
    """The one place content vectors reach a fitted model: from the disk cache, else from `encode()`
    (then cached). With encode=None only the cache is read (a registry loader may not load the
    encoder itself); False when there is nothing to attach. One attach per model at a time, so
    concurrent first requests encode once (a lock per model: a loader holding the registry's load
    lock never waits on another model's attach)."""
    if model.content is not None:
        return True
    with model.content_lock:
        if model.content is not None:
            return True
        path = content_cache_path(cache_root, model.data, encoder_key)
        try:
            vectors, genres = load_content(path, model.data.n_items)
        except (OSError, ValueError):
            if encode is None:
                return False
            vectors, genres = encode()
            save_content(path, vectors, genres)
        model.attach_content(vectors, genres, key=encoder_key, cache_dir=cache_root, progress=progress)
        return True
