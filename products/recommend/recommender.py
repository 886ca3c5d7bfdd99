"""The hybrid recommender: EASE fitted on the ratings plus content (Jeunen et al. 2020), blended with
implicit's ALS, an item-kNN and the sequence signal, with fold-in for new visitors and explanations.

The signals (signals.py, sequence.py, content.py) are each standardised over the catalog (z-scores) and
summed with weights (blend.py). EASE's lambda and alpha and the weights of ALS, the kNN and the sequence
signal are chosen from a small grid per history bucket (<= `short_history` ratings, and longer ones) by
NDCG@10 on a validation split cut from the training ratings (each user's latest), never on a test split
(tuning.py). A small grid rather than a free search: the earlier coordinate ascent over five weights
overfitted the 140 short validation users (docs/recommend.md). New visitors get their own choice, made on
validation users replayed as visitors (their earliest liked items as picks), and are folded in with no
refit. Fitted models and chosen blends are cached on disk (cache.py).
"""
from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import scipy.sparse as sp

from products.recommend import cache, content as contents, sequence, tuning
from products.recommend.blend import collaborative_share, combine
from products.recommend.content import content_space, genre_onehot
from products.recommend.data import Dataset
from products.recommend.metrics import RELEVANT, split_by_time
from products.recommend.params import BUCKETS, Params
from products.recommend.signals import (ease, ease_enabled, fit_als, fit_ease, interactions, item_knn, liked_lists,
                                        new_als, one_thread, top_n, unit, z_scores)
from shared.progress import Progress, no_progress


@dataclass
class Scored:
    index: int  # item index
    score: float
    collaborative: float
    content: float
    because: list  # item indices from the history that contributed most


class HybridRecommender:
    """Fitted models over one Dataset. `train` (default: all ratings) is what it learns from."""

    def __init__(self, data: Dataset, params: Params, als, tune_als, train: pd.DataFrame, fitted_at: float,
                 fit_seconds: float = 0.0, ease_b: np.ndarray | None = None, from_cache: bool = False,
                 cache_path: Path | None = None):
        self.data = data
        self.params = params
        self.als = als
        self.tune_als = tune_als
        self.train = train
        self.fitted_at = fitted_at
        self.fit_seconds = fit_seconds
        self.from_cache = from_cache  # the collaborative models were read from the disk cache, not fitted
        self.cache_path = cache_path  # where they are cached (set by load and save)
        self.matrix = interactions(train, data.n_users, data.n_items)
        self.train_key = cache.frame_key(train)
        # EASE on the ratings alone (lambda = params.ease_lambda), until content is attached; None when off
        self.plain_ease = ease_b if ease_b is not None else fit_ease(self.matrix, params)
        self.ease = dict.fromkeys(BUCKETS, self.plain_ease)  # per bucket: the B that scores it
        self.item_unit = unit(als.item_factors)
        self.genre_names, self.genre_onehot = genre_onehot(data)
        self.content: np.ndarray | None = None  # (items, dim) unit vectors: MiniLM text + genres
        self.genre_vectors: dict[str, np.ndarray] = {}  # favourite genres in the same space
        self.text_vectors: np.ndarray | None = None  # the encoder's item vectors, as attached
        self.text_genre_vectors: dict[str, np.ndarray] = {}
        self._knn: tuple | None = None  # (item-kNN similarity, its csc copy), built on first use
        start = {"ease": 1.0, "als": 0.0, "knn": 0.0} if self.plain_ease is not None else {"als": 1.0, "knn": 1.0}
        self.weights = {b: dict(start) for b in BUCKETS}
        self.tuning: dict = {}  # per bucket: users, choice, validation NDCG@10 (tuned, cross-validated, plain EASE)
        self.content_key = ""
        self.from_blend_cache = False
        self._lock = threading.Lock()  # one attach_content at a time
        self.content_lock = threading.Lock()  # held by content.attach around reading or encoding the vectors
        self._liked = liked_lists(train, data.n_users)
        self.years = data.items["year"].astype("float64").to_numpy()  # NaN when unknown
        self.genre_sets = [set(g) for g in data.items["genres"]]
        # the sequence signal: cheap counts (about 0.3 s on 80,000 ratings), so rebuilt rather than cached
        self.seq = sequence.transitions(train, data.n_items, params.seq_window)
        self._recent = sequence.recent_lists(train, data.n_users, params.seq_recent)

    @property
    def ease_fit(self) -> dict:
        """Per bucket, the (lambda, alpha) its B was solved with (None when EASE is off): the tuned
        choice once the blend is chosen, plain EASE before."""
        fits = {}
        for bucket in BUCKETS:
            row = self.tuning.get(bucket) or {}
            if self.ease[bucket] is None:
                fits[bucket] = None
            elif row.get("lambda") is not None:
                fits[bucket] = (row["lambda"], row["alpha"])
            else:
                fits[bucket] = (self.params.ease_lambda, 0.0)
        return fits

    @property
    def weight(self) -> float:
        """The collaborative share of the blend for users with a long history (for display)."""
        return collaborative_share(self.weights["long"]) if self.content is not None else 1.0

    @property
    def knn(self) -> sp.csr_matrix:
        if self._knn is None:  # no content attached yet: plain rating cosine
            knn = item_knn(self.matrix, None, self.params.knn_k, 0.0)
            self._knn = (knn, knn.tocsc())
        return self._knn[0]

    @property
    def knn_columns(self) -> sp.csc_matrix:
        self.knn  # builds it when missing
        return self._knn[1]

    def bucket(self, n_history: int) -> str:
        return "short" if n_history <= self.params.short_history else "long"

    def share(self, n_history: int, weight: float | None = None) -> float:
        """The collaborative share used for a history of this length (the slider's value when given)."""
        return self.bucket_share(self.bucket(n_history), weight)

    def bucket_share(self, bucket: str, weight: float | None = None) -> float:
        """The collaborative share of a bucket's blend (the slider's value when given)."""
        if self.content is None:
            return 1.0
        return collaborative_share(self.weights[bucket]) if weight is None else float(weight)

    # ---- fitting ---------------------------------------------------------------------------
    @classmethod
    def fit(cls, data: Dataset, params: Params = Params(), train: pd.DataFrame | None = None,
            progress: Progress = no_progress) -> "HybridRecommender":
        start = time.perf_counter()
        train = data.ratings if train is None else train
        progress(0.1, "fitting collaborative filtering (ALS)...")
        matrix = interactions(train, data.n_users, data.n_items)
        als = fit_als(matrix, params)
        progress(0.4, "fitting EASE (item-item weights)...")
        ease_b = fit_ease(matrix, params)
        progress(0.5, "fitting the validation model used to tune the blend...")
        inner = split_by_time(train, params.val_fraction, min_holdout=1, min_train=1)
        tune_als = fit_als(interactions(inner.train, data.n_users, data.n_items), params)
        return cls(data, params, als, tune_als, train, time.time(), time.perf_counter() - start, ease_b)

    # ---- tuning (tuning.py) ----------------------------------------------------------------
    def grid(self, content_in_blend: bool = True) -> tuple[list, list]:
        """This model's search space (tuning.grid)."""
        return tuning.grid(self.params, self.data.n_items, self.plain_ease is not None, content_in_blend)

    # ---- content ---------------------------------------------------------------------------
    def attach_content(self, vectors: np.ndarray, genre_vectors: dict[str, np.ndarray], key: str = "",
                       cache_dir: Path | None = None, content_in_blend: bool = True,
                       progress: Progress = no_progress) -> None:
        """Add the content vectors (MiniLM text joined with the genre one-hot), rebuild the item-kNN with
        content-boosted similarities, choose the blend on the validation split and solve each bucket's
        EASE with content; or read the choice and the matrices from `cache_dir` (keyed by data, training
        ratings, settings and encoder). content_in_blend=False keeps content out of the ranking (no
        content in EASE, the kNN or the score: the ablation) while still attaching it for the slider."""
        with self._lock, one_thread():
            text = np.asarray(vectors, dtype=np.float32)
            self.content = content_space(text, self.genre_onehot, self.params.text_share)
            self.text_vectors, self.text_genre_vectors = text, dict(genre_vectors)
            self.genre_vectors = contents.genre_vectors_in_space(self.genre_names, genre_vectors, text.shape[1],
                                                                 self.params.text_share)
            self.content_key = key
            boost = self.params.knn_content if content_in_blend else 0.0
            knn = item_knn(self.matrix, self.content if boost else None, self.params.knn_k, boost)
            self._knn = (knn, knn.tocsc())
            path = None
            if cache_dir is not None:
                path = cache.blend_cache_path(cache_dir, self.data, self.train_key, self.params, key,
                                              content_in_blend)
                try:
                    self.weights, self.tuning, self.ease = cache.load_blend(path, self.data.n_items)
                    self.from_blend_cache = True
                    return
                except (OSError, ValueError, KeyError):
                    pass
            self.weights, self.tuning = tuning.tune(self, content_in_blend, progress)
            progress(0.95, "solving EASE with content on all ratings...")
            self._solve_ease()
            self.from_blend_cache = False
            if path is not None:
                cache.save_blend(path, self.weights, self.tuning, self.ease)

    def _solve_ease(self) -> None:
        """Each bucket's EASE on all training ratings with its chosen (lambda, alpha); buckets that chose
        the same pair share one matrix, and the plain one is reused when it matches."""
        if self.plain_ease is None:
            return
        solved: dict = {(self.params.ease_lambda, 0.0): self.plain_ease}
        for bucket in BUCKETS:
            lam, alpha = self.tuning[bucket]["lambda"], self.tuning[bucket]["alpha"]
            if (lam, alpha) not in solved:
                solved[(lam, alpha)] = ease(self.matrix, lam, self.content, alpha)
            self.ease[bucket] = solved[(lam, alpha)]

    def _profile(self, items: np.ndarray, ratings: np.ndarray, genres=()) -> np.ndarray:
        return contents.profile(self.content, self.genre_vectors, items, ratings, genres)

    # ---- scoring ---------------------------------------------------------------------------
    def _mask(self, genres=None, years=None) -> np.ndarray:
        """True for items the filters exclude."""
        exclude = np.zeros(self.data.n_items, dtype=bool)
        if genres:
            wanted = set(genres)
            exclude |= np.array([not (g & wanted) for g in self.genre_sets])
        if years:
            lo, hi = years
            with np.errstate(invalid="ignore"):
                exclude |= ~((self.years >= lo) & (self.years <= hi))
        return exclude

    def _signals(self, user_factor: np.ndarray, items: np.ndarray, ratings: np.ndarray, genres=(),
                 bucket: str = "long", follow: np.ndarray | None = None) -> dict:
        """z-scored signals over the catalog for one user (known or folded in); `follow`: the weighted rows
        of the sequence signal for their latest items (sequence.recent_rows)."""
        row = np.zeros(self.data.n_items, np.float32)
        row[items] = ratings
        knn = np.asarray(self.knn.T @ row).ravel() if len(items) else np.zeros(self.data.n_items, np.float32)
        z = {"als": z_scores(user_factor @ self.als.item_factors.T)[0], "knn": z_scores(knn)[0]}
        if follow is not None:
            z["seq"] = z_scores(follow.sum(axis=0))[0]
        b = self.ease[bucket]
        if b is not None:  # x . B over the rated rows only
            z["ease"] = z_scores(ratings.astype(np.float32) @ b[items] if len(items)
                           else np.zeros(self.data.n_items, np.float32))[0]
        if self.content is not None and (len(items) or genres):
            z["content"] = z_scores(self.content @ self._profile(items, ratings, genres))[0]
        return z

    def _rank(self, z: dict, bucket: str, weight, history: np.ndarray, liked: np.ndarray, ratings, n: int,
              genres=None, years=None, explain: bool = True, recent=None, follow=None) -> list[Scored]:
        weights = self.weights[bucket]
        blended, cf, content, share = combine(z, weights, weight if self.content is not None else None)
        exclude = self._mask(genres, years)
        exclude[history] = True
        out = []
        for i in top_n(blended, n, exclude):
            because = (self.explain(int(i), liked, share, ratings, bucket=bucket, recent=recent, follow=follow)
                       if explain else [])
            out.append(Scored(int(i), float(blended[i]), float(cf[i]), float(content[i]), because))
        return out

    def recommend(self, user: int, n: int = 10, weight: float | None = None, genres=None, years=None,
                  explain: bool = True) -> list[Scored]:
        """Top-n for a known user (index); items they rated are never returned."""
        with one_thread():
            return self._recommend(user, n, weight, genres, years, explain)

    def _recommend(self, user, n, weight, genres, years, explain) -> list[Scored]:
        items, ratings = self._liked[user]
        bucket = self.bucket(len(items))
        recent = self._recent[user]
        follow = sequence.recent_rows(self.seq, recent, self.params.seq_recency)
        z = self._signals(self.als.user_factors[user], items, ratings, bucket=bucket, follow=follow)
        good = ratings >= RELEVANT
        liked, liked_ratings = (items[good], ratings[good]) if good.any() else (items, ratings)
        return self._rank(z, bucket, weight, items, liked, liked_ratings, n, genres, years, explain, recent, follow)

    def fold_in(self, picks, genres=(), n: int = 10, weight: float | None = None, filter_genres=None,
                years=None, explain: bool = True) -> list[Scored]:
        """Top-n for a new visitor from the items they like, through the blend chosen for new visitors
        (each pick counts as a 5): EASE scores the picks' rows of B (exact: EASE has no
        user parameters), an ALS user vector is solved against the fixed item factors (no refit), the
        item-kNN scores the picks, the sequence signal reads the picks in the order given as the latest
        items, and a content profile of the picks and favourite genres."""
        with one_thread():
            return self._fold_in(picks, genres, n, weight, filter_genres, years, explain)

    def _fold_in(self, picks, genres, n, weight, filter_genres, years, explain) -> list[Scored]:
        in_order = np.asarray(list(dict.fromkeys(int(p) for p in picks)), dtype=np.int64)
        recent = in_order[-self.params.seq_recent:] if self.params.seq_recent > 0 else in_order[:0]
        picks = np.unique(in_order)
        fives = np.full(len(picks), 5.0, np.float32)
        row = sp.csr_matrix((fives, (np.zeros(len(picks), np.int64), picks)), shape=(1, self.data.n_items))
        factor = np.asarray(self.als.recalculate_user(0, row)).reshape(-1)
        bucket = "visitor"  # chosen on simulated new visitors, whatever the number of picks
        follow = sequence.recent_rows(self.seq, recent, self.params.seq_recency)
        z = self._signals(factor, picks, fives, tuple(genres or ()), bucket, follow)
        return self._rank(z, bucket, weight, picks, picks, fives, n, filter_genres, years, explain, recent, follow)

    def similarity(self, item: int, weight: float | None = None):
        """(blended, collaborative cosine, content cosine) of every item to `item`."""
        w = self.weight if weight is None else float(weight)
        cf = self.item_unit @ self.item_unit[item]
        if self.content is None:
            return cf, cf, np.zeros_like(cf)
        content = self.content @ self.content[item]
        return w * cf + (1 - w) * content, cf, content

    def explain(self, item: int, liked: np.ndarray, share: float | None = None, ratings=None,
                k: int = 2, bucket: str = "long", recent=None, follow=None) -> list[int]:
        """The history items that did most for `item`. Collaborative side: each liked item's EASE
        contribution (rating x B[liked, item]), item-kNN contribution (rating x similarity) and, when it is
        among the `recent` latest items, sequence contribution (recency weight x T[liked, item], read from
        `follow`, their rows from sequence.recent_rows), each scaled to at most 1, and its ALS factor cosine,
        mixed by the bucket's blend weights of those signals (equal when none is set). Content side:
        content cosine. The two sides are mixed by the share."""
        if len(liked) == 0:
            return []
        w = self.weight if share is None else float(share)
        ratings = np.full(len(liked), 5.0, np.float32) if ratings is None else np.asarray(ratings, np.float32)
        column = np.asarray(self.knn_columns[:, item].todense()).ravel()[liked] * ratings
        parts = {"knn": column / max(float(np.abs(column).max()), 1e-12),
                 "als": self.item_unit[liked] @ self.item_unit[item]}
        b = self.ease[bucket]
        if b is not None:
            contribution = b[liked, item] * ratings
            parts["ease"] = contribution / max(float(np.abs(contribution).max()), 1e-12)
        if follow is not None and len(recent):
            follows = sequence.contributions(follow, recent, liked, item)
            parts["seq"] = follows / max(float(np.abs(follows).max()), 1e-12)
        weights = self.weights.get(bucket, {})
        mix = {name: float(weights.get(name, 0.0)) for name in parts}
        if not any(mix.values()):
            mix = dict.fromkeys(parts, 1.0)
        total = sum(mix.values())
        sims = w * sum(mix[name] * parts[name] for name in parts) / total
        if self.content is not None:
            sims = sims + (1 - w) * (self.content[liked] @ self.content[item])
        order = np.lexsort((np.arange(len(liked)), -sims))[:k]
        return [int(liked[j]) for j in order]

    def similar_items(self, item: int, n: int = 10, weight: float | None = None, genres=None, years=None):
        """[(index, blended, collaborative cosine, content cosine, co-raters)], most similar first."""
        with one_thread():
            return self._similar_items(item, n, weight, genres, years)

    def _similar_items(self, item, n, weight, genres, years):
        blended, cf, content = self.similarity(item, weight)
        exclude = self._mask(genres, years)
        exclude[item] = True
        column = self.matrix[:, item].toarray().ravel() > 0
        co = np.asarray(self.matrix[column].astype(bool).sum(axis=0)).ravel()
        return [(int(i), float(blended[i]), float(cf[i]), float(content[i]), int(co[i]))
                for i in top_n(blended, n, exclude)]

    def history(self, user: int) -> tuple[np.ndarray, np.ndarray]:
        return self._liked[user]

    def memory_bytes(self) -> int:
        arrays = [self.als.user_factors, self.als.item_factors, self.tune_als.user_factors,
                  self.tune_als.item_factors, self.item_unit, self.matrix.data, self.matrix.indices,
                  self.knn.data, self.knn.indices, self.knn_columns.data, self.knn_columns.indices,
                  self.seq.data, self.seq.indices]
        arrays += list({id(b): b for b in [self.plain_ease, *self.ease.values()] if b is not None}.values())
        if self.content is not None:
            arrays.append(self.content)
        return int(sum(a.nbytes for a in arrays)) + self.data.memory_bytes()

    # ---- cache (cache.py) ------------------------------------------------------------------
    def save(self, path: Path) -> None:
        """The fitted collaborative models (the per-bucket EASE with content lives in the blend cache)."""
        meta = {"checksum": self.data.checksum, "params": self.params.key(),
                "fitted_at": self.fitted_at, "fit_seconds": self.fit_seconds}
        cache.save_model(path, meta, self.als, self.tune_als, self.plain_ease)
        self.cache_path = path

    @classmethod
    def load(cls, path: Path, data: Dataset, params: Params) -> "HybridRecommender":
        """Load a cache written by save; ValueError when it is stale, damaged or for other data."""
        meta, saved = cache.load_model(path, data, params)
        als, tune = new_als(params), new_als(params)
        als.user_factors, als.item_factors = saved["user_factors"], saved["item_factors"]
        tune.user_factors, tune.item_factors = saved["tune_user_factors"], saved["tune_item_factors"]
        ease_b = saved["ease"]
        if ease_b.size == 0:
            ease_b = None
            if ease_enabled(data.n_items, params):
                raise ValueError(f"{path} has no EASE weights")
        return cls(data, params, als, tune, data.ratings, meta["fitted_at"], meta.get("fit_seconds", 0.0), ease_b,
                   from_cache=True, cache_path=path)
