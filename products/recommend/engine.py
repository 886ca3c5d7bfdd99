"""The hybrid recommender: EASE fitted on the ratings plus content (Jeunen et al. 2020), blended with
implicit's ALS and an item-kNN, with fold-in for new visitors, explanations, and disk caches in safe
formats (npz without pickle, JSON), keyed by the data checksum.

The signals that score every item for a user:
- EASE with content: the user's ratings times a closed-form item-item weight matrix B (Steck 2019),
  solved from the ratings' Gram matrix XᵀX plus alpha times the content vectors' Gram matrix, so two items
  with similar title, year and genres get weight between them even where few users rated both;
- ALS: user . item factors from implicit;
- item-kNN: the user's ratings times an item-item cosine (a little content cosine added before the
  neighbours are kept);
- sequence: what other users rated next after the user's latest items (products/recommend/sequence.py);
- content: cosine between the item and the user's profile (the mean vector of what they liked).
Each is standardised over the catalog (z-scores) and summed with weights. EASE's lambda and alpha and the
weights of ALS, the kNN and the sequence signal are chosen from a small grid per history bucket
(<= `short_history` ratings, and longer ones) by NDCG@10 on a validation split cut from the training
ratings (each user's latest), never on a test split. A small grid rather than a free search: the earlier
coordinate ascent over five weights overfitted the 140 short validation users (docs/recommend.md). New
visitors get their own choice, made on validation users replayed as visitors (their earliest liked items as
picks), and are folded in with no refit.
"""
from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Callable

import numpy as np
import pandas as pd
import scipy.sparse as sp

from products.recommend import sequence
from products.recommend.data import Dataset
from products.recommend.metrics import RELEVANT, split_by_time

log = logging.getLogger(__name__)
Progress = Callable[[float, str], None]
CACHE_VERSION = 8
BUCKETS = ("short", "long", "visitor")  # known users by history length; new visitors


def _quiet(fraction: float, text: str) -> None:
    pass


COLLABORATIVE = ("ease", "als", "knn", "seq")  # EASE's weights also carry content once it is attached


@dataclass(frozen=True)
class Params:
    # Chosen on a validation split of MovieLens 100k (see docs/recommend.md), never on the test split.
    factors: int = 32
    regularization: float = 20.0
    alpha: float = 1.0  # ALS confidence = alpha * rating
    iterations: int = 15
    seed: int = 42
    val_fraction: float = 0.1  # each user's latest share of training ratings used to tune the blend
    knn_k: int = 100  # neighbours kept per item by the item-kNN
    knn_content: float = 0.2  # content cosine added to the rating cosine before the neighbours are kept
    ease_lambda: float = 1000.0  # EASE's L2 penalty until content is attached (<= 0 switches EASE off)
    visitor_min: int = 3  # simulated new visitors pick their k earliest liked items, k in [min, max]
    visitor_max: int = 10
    ease_max_items: int = 8000  # EASE inverts an items x items matrix: off for larger catalogs
    # above this many items the grid keeps one EASE fit (ease_lambda, no content): each solve costs
    # items^3 (0.6 s at 1,682 items, about 1 minute at 8,000), and the grid needs 12 of them
    ease_grid_max_items: int = 3000
    # the grid searched per history bucket on validation (simplest first: ties keep the simpler choice)
    ease_lambdas: tuple = (500.0, 1000.0, 2000.0)
    content_alphas: tuple = (0.0, 1000.0, 2000.0, 4000.0)  # weight of the content Gram matrix in EASE
    side_weights: tuple = (0.0, 0.1, 0.3)  # weights of ALS and of the item-kNN next to EASE's 1
    # the sequence signal (sequence.py): transitions to the next `seq_window` ratings, scored from a user's
    # `seq_recent` latest items, each older one weighted `seq_recency` times the next (chosen on validation)
    seq_window: int = 20
    seq_recent: int = 5
    seq_recency: float = 0.8
    seq_weights: tuple = (0.0, 0.5, 1.0)  # its weights in the grid, next to EASE's 1
    text_share: float = 0.5  # share of the MiniLM text vector in an item's content vector (the rest: genres)
    short_history: int = 20  # users with this many ratings or fewer get their own blend
    cv_folds: int = 5  # folds of the cross-validated estimate of the grid search (reported, not used to choose)

    def key(self) -> str:
        return hashlib.sha256(json.dumps(asdict(self), sort_keys=True).encode()).hexdigest()[:16]


_controller = []


def one_thread():
    """BLAS to one thread while fitting and scoring: implicit warns otherwise, and on a busy machine
    OpenBLAS's thread pool turns a 1 ms matrix-vector product into 15 ms. The library scan is done once."""
    try:
        if not _controller:
            import threadpoolctl

            _controller.append(threadpoolctl.ThreadpoolController())
        return _controller[0].limit(limits=1, user_api="blas")
    except ImportError:  # pragma: no cover - threadpoolctl comes with implicit
        return contextlib.nullcontext()


def interactions(frame: pd.DataFrame, n_users: int, n_items: int) -> sp.csr_matrix:
    """users x items confidence matrix; the value is the rating (so a 5 counts more than a 1)."""
    return sp.csr_matrix((frame["rating"].to_numpy(np.float32), (frame["u"].to_numpy(), frame["i"].to_numpy())),
                         shape=(n_users, n_items), dtype=np.float32)


def new_als(params: Params):
    from implicit.cpu.als import AlternatingLeastSquares

    with one_thread():
        return AlternatingLeastSquares(factors=params.factors, regularization=params.regularization,
                                       alpha=params.alpha, iterations=params.iterations,
                                       random_state=params.seed, num_threads=1)


def fit_als(matrix: sp.csr_matrix, params: Params):
    model = new_als(params)
    with one_thread():
        model.fit(matrix, show_progress=False)
    return model


def _z(scores: np.ndarray) -> np.ndarray:
    """Standardise each row (a constant row becomes zeros)."""
    scores = np.atleast_2d(scores).astype(np.float32)
    mean = scores.mean(axis=1, keepdims=True)
    std = scores.std(axis=1, keepdims=True)
    return np.where(std > 1e-12, (scores - mean) / np.where(std > 1e-12, std, 1.0), 0.0).astype(np.float32)


def _unit(rows: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(rows, axis=-1, keepdims=True)
    return rows / np.where(norms > 0, norms, 1.0)


def top_n(scores: np.ndarray, n: int, exclude: np.ndarray | None = None) -> np.ndarray:
    """Indices of the n best scores, best first; ties go to the lower index; excluded never."""
    s = scores.astype(np.float64).copy()
    if exclude is not None:
        s[exclude] = -np.inf
    n = int(min(n, np.isfinite(s).sum()))
    if n <= 0:
        return np.zeros(0, dtype=np.int64)
    candidates = np.argpartition(-s, n - 1)[:n] if n < len(s) else np.arange(len(s))
    # include every item tied with the n-th score so ties resolve by index, deterministically
    cut = s[candidates].min()
    candidates = np.flatnonzero(s >= cut)
    order = np.lexsort((candidates, -s[candidates]))
    return candidates[order][:n]


def item_knn(matrix: sp.csr_matrix, content: np.ndarray | None = None, k: int = 100, beta: float = 0.0,
             block: int = 1024) -> sp.csr_matrix:
    """Item-item similarity, items x items: row j keeps j's `k` nearest items by
    cosine(rating columns) + beta * cosine(content vectors), positive values only, never j itself.
    A user's kNN scores are `ratings_row @ S`: item i scores the rating-weighted sum of its similarity
    to each rated item j that counts i among its neighbours. Computed in blocks of rows, so memory
    stays at block x items."""
    n = matrix.shape[1]
    x = sp.csc_matrix(matrix, dtype=np.float32)
    norms = np.sqrt(np.asarray(x.multiply(x).sum(axis=0)).ravel())
    xn = sp.csc_matrix(x @ sp.diags(1.0 / np.where(norms > 0, norms, 1.0)).astype(np.float32))
    xt = xn.T.tocsr()
    k = int(min(k, n - 1))
    rows, cols, vals = [np.zeros(0, np.int64)], [np.zeros(0, np.int64)], [np.zeros(0, np.float32)]
    for start in range(0, n if k > 0 else 0, block):
        stop = min(n, start + block)
        sims = np.asarray((xt[start:stop] @ xn).todense(), dtype=np.float32)
        if content is not None and beta:
            sims += np.float32(beta) * (content[start:stop] @ content.T)
        sims[np.arange(stop - start), np.arange(start, stop)] = 0.0
        # the k best per row; ties go to the lower index (stable sort on -sims)
        top = np.argsort(-sims, axis=1, kind="stable")[:, :k]
        values = np.take_along_axis(sims, top, axis=1)
        keep = values > 0
        rows.append(np.repeat(np.arange(start, stop), k).reshape(-1, k)[keep])
        cols.append(top[keep])
        vals.append(values[keep])
    return sp.csr_matrix((np.concatenate(vals), (np.concatenate(rows), np.concatenate(cols))), shape=(n, n),
                         dtype=np.float32)


def gram_matrix(matrix: sp.csr_matrix) -> np.ndarray:
    """XᵀX, items x items, float64."""
    x = sp.csr_matrix(matrix, dtype=np.float64)
    return np.asarray((x.T @ x).todense())


def ease_from_gram(gram: np.ndarray, lam: float) -> np.ndarray:
    """EASE (Steck 2019), closed form: B = I - P diagMat(1 / diag(P)), P = (G + lam I)^-1, so
    B[i, j] = -P[i, j] / P[j, j] and diag(B) = 0. A user's scores are x . B (item j scores
    sum_i x_i B[i, j]). Dense items x items float32."""
    g = np.array(gram, dtype=np.float64)
    g[np.diag_indices_from(g)] += float(lam)
    with one_thread():
        p = np.linalg.inv(g)
    b = -p / np.diag(p)  # column j divided by P[j, j]
    np.fill_diagonal(b, 0.0)
    return b.astype(np.float32)


def ease(matrix: sp.csr_matrix, lam: float, side: np.ndarray | None = None, alpha: float = 0.0) -> np.ndarray:
    """EASE on the users x items ratings X. With `side` (items x features, e.g. unit content vectors) and
    alpha > 0, the features join X as extra rows weighted sqrt(alpha) ("collective" EASE with side
    information, Jeunen, Van Balen and Goethals 2020): G = XᵀX + alpha F Fᵀ. Scores stay x . B, from the
    ratings alone, so fold-in is still exact; the content only shapes B."""
    gram = gram_matrix(matrix)
    if side is not None and alpha:
        f = np.asarray(side, np.float64)
        gram += float(alpha) * (f @ f.T)
    return ease_from_gram(gram, lam)


def ease_enabled(n_items: int, params: Params) -> bool:
    return params.ease_lambda > 0 and n_items <= params.ease_max_items


def fit_ease(matrix: sp.csr_matrix, params: Params) -> np.ndarray | None:
    """EASE's B for these ratings, or None when switched off (lambda <= 0) or the catalog is too big."""
    if not ease_enabled(matrix.shape[1], params):
        return None
    return ease(matrix, params.ease_lambda)


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
    return _unit(np.hstack([np.sqrt(share) * _unit(np.asarray(text, np.float32)),
                            np.sqrt(1.0 - share) * _unit(np.asarray(genres, np.float32))])).astype(np.float32)


def collaborative_share(weights: dict) -> float:
    cf = sum(weights.get(k, 0.0) for k in COLLABORATIVE)
    total = cf + weights.get("content", 0.0)
    return cf / total if total > 0 else 1.0


def combine(z: dict, weights: dict, share: float | None = None):
    """(score, collaborative part, content part, collaborative share) from z-scored signals.

    The collaborative part is the weighted mean of the collaborative signals; the score is
    share * collaborative + (1 - share) * content, where share defaults to the weights' own
    (then the score ranks exactly like sum(weight * z))."""
    cf_total = sum(weights.get(k, 0.0) for k in COLLABORATIVE if z.get(k) is not None)
    if cf_total > 0:
        cf = sum(weights[k] * z[k] for k in COLLABORATIVE if weights.get(k, 0.0) and z.get(k) is not None) / cf_total
    else:
        cf = z["als"]
    if z.get("content") is None:
        return cf, cf, np.zeros_like(cf), 1.0
    s = collaborative_share(weights) if share is None else float(share)
    return s * cf + (1 - s) * z["content"], cf, z["content"], s


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
                 fit_seconds: float = 0.0, ease_b: np.ndarray | None = None):
        self.data = data
        self.params = params
        self.als = als
        self.tune_als = tune_als
        self.train = train
        self.fitted_at = fitted_at
        self.fit_seconds = fit_seconds
        self.matrix = interactions(train, data.n_users, data.n_items)
        self.train_key = _frame_key(train)
        # EASE on the ratings alone (lambda = params.ease_lambda), until content is attached; None when off
        self.plain_ease = ease_b if ease_b is not None else fit_ease(self.matrix, params)
        self.ease = dict.fromkeys(BUCKETS, self.plain_ease)  # per bucket: the B that scores it
        self.item_unit = _unit(als.item_factors)
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
        self._lock = threading.Lock()
        self._liked = self._liked_lists(train, data.n_users)
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
            progress: Progress = _quiet) -> "HybridRecommender":
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

    @staticmethod
    def _liked_lists(train: pd.DataFrame, n_users: int) -> list[tuple[np.ndarray, np.ndarray]]:
        """Per user: (items, ratings) sorted best rating first, then latest first."""
        ordered = train.sort_values(["u", "rating", "timestamp"], ascending=[True, False, False], kind="stable")
        out: list = [(np.zeros(0, np.int64), np.zeros(0, np.float32))] * n_users
        for u, group in ordered.groupby("u", sort=True):
            out[int(u)] = (group["i"].to_numpy(np.int64), group["rating"].to_numpy(np.float32))
        return out

    # ---- content ---------------------------------------------------------------------------
    def attach_content(self, vectors: np.ndarray, genre_vectors: dict[str, np.ndarray], key: str = "",
                       cache_dir: Path | None = None, content_in_blend: bool = True,
                       progress: Progress = _quiet) -> None:
        """Add the content vectors (MiniLM text joined with the genre one-hot), rebuild the item-kNN with
        content-boosted similarities, choose the blend on the validation split and solve each bucket's
        EASE with content; or read the choice and the matrices from `cache_dir` (keyed by data, training
        ratings, settings and encoder). content_in_blend=False keeps content out of the ranking (no
        content in EASE, the kNN or the score: the ablation) while still attaching it for the slider."""
        with self._lock, one_thread():
            text = np.asarray(vectors, dtype=np.float32)
            self.content = content_space(text, self.genre_onehot, self.params.text_share)
            self.text_vectors, self.text_genre_vectors = text, dict(genre_vectors)
            share = np.sqrt(min(max(self.params.text_share, 0.0), 1.0))
            self.genre_vectors = {}
            for k, g in enumerate(self.genre_names):
                parts = [np.sqrt(1 - share ** 2) * np.eye(len(self.genre_names), dtype=np.float32)[k]]
                text_g = genre_vectors.get(g)
                parts.insert(0, share * _unit(np.asarray(text_g, np.float32)) if text_g is not None
                             else np.zeros(text.shape[1], np.float32))
                self.genre_vectors[g] = _unit(np.concatenate(parts)).astype(np.float32)
            self.content_key = key
            boost = self.params.knn_content if content_in_blend else 0.0
            knn = item_knn(self.matrix, self.content if boost else None, self.params.knn_k, boost)
            self._knn = (knn, knn.tocsc())
            path = None
            if cache_dir is not None:
                digest = hashlib.sha256(f"{self.data.checksum}|{self.train_key}|{self.params.key()}|{key}|"
                                        f"{content_in_blend}|{CACHE_VERSION}".encode()).hexdigest()[:16]
                path = Path(cache_dir) / f"blend-{digest}.npz"
                try:
                    self._load_blend(path)
                    self.from_blend_cache = True
                    return
                except (OSError, ValueError, KeyError):
                    pass
            self.weights, self.tuning = self._tune(content_in_blend, progress)
            progress(0.95, "solving EASE with content on all ratings...")
            self._solve_ease()
            self.from_blend_cache = False
            if path is not None:
                self._save_blend(path)

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

    def _save_blend(self, path: Path) -> None:
        unique = {id(b): b for b in self.ease.values() if b is not None}
        order = list(unique)
        meta = {"weights": self.weights, "tuning": self.tuning,
                "ease": {bucket: order.index(id(b)) if b is not None else -1 for bucket, b in self.ease.items()}}
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp.npz")
        np.savez(tmp, meta=np.array(json.dumps(meta)), **{f"ease_{k}": unique[i] for k, i in enumerate(order)})
        tmp.replace(path)
        _write_digest(path)

    def _load_blend(self, path: Path) -> None:
        _check_digest(path)
        with np.load(path, allow_pickle=False) as saved:
            meta = json.loads(str(saved["meta"]))
            matrices = {int(name[5:]): saved[name] for name in saved.files if name.startswith("ease_")}
        n = self.data.n_items
        if any(m.shape != (n, n) for m in matrices.values()):
            raise ValueError(f"{path} does not match the catalog")
        self.weights, self.tuning = meta["weights"], meta["tuning"]
        self.ease = {bucket: matrices[k] if k >= 0 else None for bucket, k in meta["ease"].items()}

    def _profile(self, items: np.ndarray, ratings: np.ndarray, genres=()) -> np.ndarray:
        """The content profile: the mean vector of liked items (rating >= 4, else all rated), plus genres."""
        liked = items[ratings >= RELEVANT] if (ratings >= RELEVANT).any() else items
        parts = [self.content[liked].mean(axis=0)] if len(liked) else []
        parts += [self.genre_vectors[g] for g in genres if g in self.genre_vectors]
        if not parts:
            return np.zeros(self.content.shape[1], dtype=np.float32)
        return _unit(np.mean(parts, axis=0))

    def grid(self, content_in_blend: bool = True) -> tuple[list, list]:
        """The search space: EASE fits (lambda, alpha) and blends (weights of the z-scored signals), both
        simplest first. A catalog over ease_grid_max_items keeps one EASE fit (plain, lambda = ease_lambda),
        so only the blend weights are searched. Without EASE (switched off, or a catalog too big to invert):
        ALS with the kNN and, if allowed, content."""
        p = self.params
        if self.plain_ease is None:
            contents = (0.0, 0.1, 0.3) if content_in_blend else (0.0,)
            return [None], [{"als": 1.0, "knn": k, "seq": float(q), "content": c}
                            for q in p.seq_weights for k in (0.0, 0.3, 1.0) for c in contents]
        alphas = p.content_alphas if content_in_blend else (0.0,)
        fits = [(float(lam), float(a)) for lam in p.ease_lambdas for a in alphas]
        if self.data.n_items > p.ease_grid_max_items:
            fits = [(float(p.ease_lambda), 0.0)]
        blends = [{"ease": 1.0, "als": float(a), "knn": float(k), "seq": float(q)}
                  for q in p.seq_weights for a in p.side_weights for k in p.side_weights]
        return fits, blends

    def _validation_cohorts(self, inner) -> dict:
        """The validation users the grid is scored on, each as (users, their input ratings as a users x items
        matrix, their ALS vectors, seen items to exclude, relevant validation items, liked lists for the
        content profile, training-rating counts, latest items for the sequence signal, oldest first):
        - "known": users with a relevant validation item, from all their training ratings;
        - "visitor": the same users as new visitors, whose picks are their k earliest training ratings of 4
          or more (k uniform in [visitor_min, visitor_max], seeded), each counting as a 5 and folded into ALS
          as the New visitor tab does; their other training items stay excluded from the ranking, and their
          picks, in the order picked, are their latest items."""
        relevant = inner.test[inner.test["rating"] >= RELEVANT].groupby("u")["i"].agg(lambda s: set(s.tolist()))
        if relevant.empty:
            return {}
        n_users, n_items = self.data.n_users, self.data.n_items
        matrix = interactions(inner.train, n_users, n_items)
        users = relevant.index.to_numpy()
        counts = np.bincount(inner.train["u"].to_numpy(), minlength=n_users)[users]
        seen = matrix[users].toarray() > 0
        recent = sequence.recent_lists(inner.train, n_users, self.params.seq_recent)
        cohorts = {"known": (users, matrix[users], self.tune_als.user_factors[users], seen,
                             [relevant[u] for u in users], self._liked_lists(inner.train, n_users), counts,
                             [recent[u] for u in users])}
        liked = inner.train[inner.train["rating"] >= RELEVANT].sort_values(["u", "timestamp"], kind="stable")
        liked = liked.groupby("u")["i"].agg(list)
        keep = np.array([len(liked.get(u, [])) >= self.params.visitor_min for u in users], bool)
        if keep.any():
            ks = np.random.default_rng(self.params.seed).integers(self.params.visitor_min,
                                                                  self.params.visitor_max + 1, size=int(keep.sum()))
            picks = [liked[u][:k] for u, k in zip(users[keep], ks)]
            r = np.repeat(np.arange(len(picks)), [len(p) for p in picks])
            rows = sp.csr_matrix((np.full(len(r), 5.0, np.float32), (r, np.concatenate(picks))),
                                 shape=(len(picks), n_items))
            with one_thread():
                factors = np.asarray(self.tune_als.recalculate_user(np.arange(len(picks)), rows))
            profiles = [(np.asarray(p, np.int64), np.full(len(p), 5.0, np.float32)) for p in picks]
            cohorts["visitor"] = (np.arange(len(picks)), rows, factors, seen[keep],
                                  [relevant[u] for u in users[keep]], profiles, np.array([len(p) for p in picks]),
                                  [np.asarray(p[-self.params.seq_recent:], np.int64) for p in picks])
        return cohorts

    def _grid_scores(self, content_in_blend: bool, progress: Progress = _quiet):
        """Per-user NDCG@10 of every grid point on each validation cohort (see _validation_cohorts):
        (points as descriptions, {cohort: (scores as points x users, each user's input-rating count)})."""
        inner = split_by_time(self.train, self.params.val_fraction, min_holdout=1, min_train=1)
        fits, blends = self.grid(content_in_blend)
        points = [{"lambda": fit[0] if fit else None, "alpha": fit[1] if fit else None, "weights": dict(blend)}
                  for fit in fits for blend in blends]
        cohorts = self._validation_cohorts(inner)
        if not cohorts:
            return points, {}
        matrix = interactions(inner.train, self.data.n_users, self.data.n_items)
        boost = self.params.knn_content if content_in_blend else 0.0
        knn = item_knn(matrix, self.content if boost else None, self.params.knn_k, boost)
        uses_content = any(blend.get("content") for blend in blends)
        z = {}
        transitions = sequence.transitions(inner.train, self.data.n_items, self.params.seq_window)
        for name, (users, rows, factors, _, _, liked, _, recent) in cohorts.items():
            z[name] = {"als": _z(factors @ self.tune_als.item_factors.T), "knn": _z((rows @ knn).toarray()),
                       "seq": _z(sequence.scores(transitions, recent, self.params.seq_recency))}
            if uses_content and self.content is not None:
                z[name]["content"] = _z(np.stack([self._profile(*liked[u]) for u in users]) @ self.content.T)
        if fits[0] is not None:
            gram = gram_matrix(matrix)
            content = self.content.astype(np.float64)
            side = content @ content.T if any(fit[1] for fit in fits) else None
        scores = {name: [] for name in cohorts}
        for f, fit in enumerate(fits):  # one EASE solve per fit, then every blend on it (the order of `points`)
            progress(0.05 + 0.85 * f / len(fits), f"choosing the blend on validation: {f + 1}/{len(fits)}...")
            b = ease_from_gram(gram + fit[1] * side if fit[1] else gram, fit[0]) if fit is not None else None
            for name, (_, rows, _, seen, rel, *_) in cohorts.items():
                if b is not None:
                    z[name]["ease"] = _z(np.asarray(rows @ b))
                ndcg = [None] * len(blends)
                for index, blended in _blend_sums(z[name], blends):
                    ndcg[index] = _per_user_ndcg(blended, seen, rel)
                scores[name] += ndcg
        return points, {name: (np.stack(scores[name]), cohorts[name][6]) for name in cohorts}

    def _tune(self, content_in_blend: bool = True, progress: Progress = _quiet) -> tuple[dict, dict]:
        """Per bucket, the grid point with the best mean NDCG@10 over its validation users (the first best
        wins, so ties keep the simpler choice): known users with short and with long histories, and
        simulated new visitors. Each row also reports a cross-validated estimate of that choice (choose on
        the other users, score on a fold), the best plain EASE, and the best choice without content in
        EASE, on the same users."""
        points, cohorts = self._grid_scores(content_in_blend, progress)
        plain = [k for k, p in enumerate(points) if p["alpha"] == 0.0 and p["weights"] == points[0]["weights"]]
        no_content = [k for k, p in enumerate(points) if not p["alpha"]]

        def choose(scores: np.ndarray, mine: np.ndarray) -> tuple[int, dict]:
            best = int(np.argmax(scores[:, mine].mean(axis=1)))
            row = {"users": int(len(mine)), **points[best], "tuned": round(float(scores[best, mine].mean()), 5),
                   "cross_validated": round(_cross_validated(scores[:, mine], self.params.cv_folds,
                                                             self.params.seed), 5)}
            if plain:
                row["plain_ease"] = round(float(scores[plain][:, mine].mean(axis=1).max()), 5)
            row["no_content_in_ease"] = round(float(scores[no_content][:, mine].mean(axis=1).max()), 5)
            return best, row

        members, choice, tuning = {}, {}, {}
        if "known" in cohorts:
            scores, counts = cohorts["known"]
            for bucket in ("short", "long"):
                mine = np.flatnonzero((counts <= self.params.short_history) == (bucket == "short"))
                if len(mine):
                    members[bucket] = mine
                    choice[bucket], tuning[bucket] = choose(scores, mine)
            # The short bucket is the small one (few users have few ratings), so its search can overfit. It
            # takes the long bucket's choice instead when that choice, made without the short users, scores
            # them better than the cross-validated estimate of their own search. (The app's model, fitted on
            # all ratings, has only 54 short validation users: there its own search cross-validates at 0.121
            # against 0.135 for plain EASE.)
            if "short" in choice and "long" in choice:
                borrowed = float(scores[choice["long"], members["short"]].mean())
                tuning["short"]["long_choice"] = round(borrowed, 5)
                if borrowed > tuning["short"]["cross_validated"]:
                    tuning["short"].update(points[choice["long"]], tuned=round(borrowed, 5), borrowed_from="long")
        if "visitor" in cohorts:
            scores, _ = cohorts["visitor"]
            _, tuning["visitor"] = choose(scores, np.arange(scores.shape[1]))
        if not tuning:  # no validation user has a relevant item: the simplest point
            tuning = {bucket: {"users": 0, **points[0]} for bucket in BUCKETS}
        for bucket in BUCKETS:  # a bucket without users takes another's choice
            if bucket not in tuning:
                other = next(b for b in ("short", "long", "visitor") if b in tuning)
                tuning[bucket] = dict(tuning[other], users=0, borrowed_from=other)
        for bucket, row in tuning.items():
            log.info("recommender blend (%s, %d validation users): lambda %s, alpha %s, %s, NDCG@10 %s",
                     bucket, row["users"], row["lambda"], row["alpha"], row["weights"], row.get("tuned"))
        return {bucket: dict(tuning[bucket]["weights"]) for bucket in BUCKETS}, tuning

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
        z = {"als": _z(user_factor @ self.als.item_factors.T)[0], "knn": _z(knn)[0]}
        if follow is not None:
            z["seq"] = _z(follow.sum(axis=0))[0]
        b = self.ease[bucket]
        if b is not None:  # x . B over the rated rows only
            z["ease"] = _z(ratings.astype(np.float32) @ b[items] if len(items)
                           else np.zeros(self.data.n_items, np.float32))[0]
        if self.content is not None and (len(items) or genres):
            z["content"] = _z(self.content @ self._profile(items, ratings, genres))[0]
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

    # ---- cache -----------------------------------------------------------------------------
    def save(self, path: Path) -> None:
        """The fitted collaborative models (the per-bucket EASE with content lives in the blend cache)."""
        meta = {"version": CACHE_VERSION, "checksum": self.data.checksum, "params": self.params.key(),
                "fitted_at": self.fitted_at, "fit_seconds": self.fit_seconds}
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp.npz")
        np.savez(tmp, meta=np.array(json.dumps(meta)),
                 user_factors=self.als.user_factors, item_factors=self.als.item_factors,
                 tune_user_factors=self.tune_als.user_factors, tune_item_factors=self.tune_als.item_factors,
                 ease=self.plain_ease if self.plain_ease is not None else np.zeros((0, 0), np.float32))
        tmp.replace(path)
        _write_digest(path)

    @classmethod
    def load(cls, path: Path, data: Dataset, params: Params) -> "HybridRecommender":
        """Load a cache written by save; ValueError when it is stale, damaged or for other data."""
        _check_digest(path)
        with np.load(path, allow_pickle=False) as saved:
            meta = json.loads(str(saved["meta"]))
            if (meta.get("version"), meta.get("checksum"), meta.get("params")) != (
                    CACHE_VERSION, data.checksum, params.key()):
                raise ValueError(f"{path} was fitted on other data or settings")
            als, tune = new_als(params), new_als(params)
            als.user_factors, als.item_factors = saved["user_factors"], saved["item_factors"]
            tune.user_factors, tune.item_factors = saved["tune_user_factors"], saved["tune_item_factors"]
            ease_b = saved["ease"]
        if als.item_factors.shape[0] != data.n_items or als.user_factors.shape[0] != data.n_users:
            raise ValueError(f"{path} does not match the data's shape")
        if ease_b.size == 0:
            ease_b = None
            if ease_enabled(data.n_items, params):
                raise ValueError(f"{path} has no EASE weights")
        elif ease_b.shape != (data.n_items, data.n_items):
            raise ValueError(f"{path} does not match the data's shape")
        return cls(data, params, als, tune, data.ratings, meta["fitted_at"], meta.get("fit_seconds", 0.0), ease_b)


def _write_digest(path: Path) -> None:
    from shared.artifacts import sha256_of

    path.with_suffix(".sha256").write_text(f"{sha256_of(path)} {path.stat().st_size}\n")


def _check_digest(path: Path) -> None:
    from shared.artifacts import ArtifactError, verify

    try:
        sha, size = path.with_suffix(".sha256").read_text().split()
        verify(path, int(size), sha)
    except (OSError, ValueError, ArtifactError) as err:
        raise ValueError(f"cache {path} cannot be verified: {err}") from err


def model_cache_path(cache_root: Path, data: Dataset, params: Params) -> Path:
    return cache_root / f"model-{data.checksum[:16]}-{params.key()}.npz"


def content_cache_path(cache_root: Path, data: Dataset, encoder_key: str) -> Path:
    digest = hashlib.sha256(f"{data.checksum}|{encoder_key}".encode()).hexdigest()[:16]
    return cache_root / f"content-{digest}.npz"


def save_content(path: Path, vectors: np.ndarray, genre_vectors: dict) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    names = sorted(genre_vectors)
    tmp = path.with_suffix(".tmp.npz")
    np.savez(tmp, vectors=vectors.astype(np.float32), genre_names=np.array(names, dtype=str),
             genre_vectors=np.stack([genre_vectors[g] for g in names]).astype(np.float32) if names
             else np.zeros((0, vectors.shape[1]), np.float32))
    tmp.replace(path)
    _write_digest(path)


def load_content(path: Path, n_items: int) -> tuple[np.ndarray, dict]:
    _check_digest(path)
    with np.load(path, allow_pickle=False) as saved:
        vectors = saved["vectors"]
        genres = {str(g): v for g, v in zip(saved["genre_names"], saved["genre_vectors"])}
    if vectors.shape[0] != n_items:
        raise ValueError(f"{path} does not match the catalog")
    return vectors, genres


def encode_content(data: Dataset, encoder, progress: Progress = _quiet, batch: int = 64) -> tuple[np.ndarray, dict]:
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


def _frame_key(train: pd.DataFrame) -> str:
    """sha256 of the (user, item, rating) triples a model learns from."""
    digest = hashlib.sha256()
    for column in ("u", "i", "rating"):
        digest.update(np.ascontiguousarray(train[column].to_numpy()).tobytes())
    return digest.hexdigest()[:16]


def _blend_sums(z: dict, blends: list):
    """(index, sum(w * z[k] for k, w in blend.items() if w)) for every blend, computed in an order where
    consecutive blends share their leading terms, so each partial sum is made once: the same float
    operations as the plain sum, so the same numbers, with only the current blend's partial sums kept."""
    path: dict = {}
    for index in sorted(range(len(blends)), key=lambda b: list(blends[b].values())):
        total, key, kept = 0, (), {}
        for name, weight in blends[index].items():
            if not weight:
                continue
            key += ((name, weight),)
            total = path[key] if key in path else total + weight * z[name]
            kept[key] = total
        path = kept
        yield index, total


_grid_pool: list = []
_grid_pool_lock = threading.Lock()


def _ranked(scores: np.ndarray, seen: np.ndarray, k: int) -> np.ndarray:
    """Each row's k best items, best first (seen excluded). Within the k best, ties go to the lower index
    as in top_n; which of several items tied at the k-th score gets in is left to argpartition (with
    real-valued blended scores such ties are rare)."""
    s = np.where(seen, np.float32(-np.inf), scores)  # stays float32 when the scores are
    top = np.argpartition(-s, k - 1, axis=1)[:, :k] if s.shape[1] > k else np.tile(np.arange(s.shape[1]), (len(s), 1))
    order = np.lexsort((top, -s[np.arange(len(s))[:, None], top]), axis=1)
    return np.take_along_axis(top, order, axis=1)


def _ranked_in_halves(scores: np.ndarray, seen: np.ndarray, k: int) -> np.ndarray:
    """_ranked with the rows split over two threads when there are two cores: numpy releases the GIL while
    it partitions, and the grid search ranks every user for hundreds of points (half its time on one core)."""
    if len(scores) < 256 or (os.cpu_count() or 1) < 2:
        return _ranked(scores, seen, k)
    with _grid_pool_lock:
        if not _grid_pool:
            _grid_pool.append(ThreadPoolExecutor(max_workers=2, thread_name_prefix="recommend-grid"))
    half = len(scores) // 2
    parts = _grid_pool[0].map(lambda rows: _ranked(scores[rows], seen[rows], k), (slice(0, half), slice(half, None)))
    return np.concatenate(list(parts))


def _per_user_ndcg(scores: np.ndarray, seen: np.ndarray, relevant: list, k: int = 10) -> np.ndarray:
    """NDCG@k of each row of scores (seen items excluded; the ranking as in _ranked), equal to
    metrics.ndcg_at_k row by row."""
    ranked = _ranked_in_halves(scores, seen, k)
    rows = np.arange(len(ranked))[:, None]
    # ndcg_at_k for every row at once (the grid scores hundreds of points): hits x discounts / ideal
    sizes = np.array([len(r) for r in relevant], np.int64)
    n_items = scores.shape[1]
    wanted = (np.repeat(np.arange(len(relevant)), sizes) * n_items
              + np.concatenate([np.fromiter(r, np.int64, len(r)) for r in relevant] or [np.zeros(0, np.int64)]))
    hits = np.isin(rows * n_items + ranked, wanted)  # (user, item) pairs of the ranking that are relevant
    discount = 1.0 / np.log2(np.arange(2, ranked.shape[1] + 2))
    dcg = hits @ discount
    ideal = np.concatenate([[0.0], np.cumsum(1.0 / np.log2(np.arange(2, k + 2)))])[np.minimum(sizes, k)]
    return np.where(ideal > 0, dcg / np.where(ideal > 0, ideal, 1.0), 0.0)


def _cross_validated(scores: np.ndarray, folds: int, seed: int, repeats: int = 10) -> float:
    """An honest estimate of choosing the best grid point: users split into folds; on each fold, the
    point best on the other folds is scored; averaged over `repeats` seeded splits (one split of 140
    users moves the estimate by about 0.01). scores: grid points x users (per-user NDCG@10)."""
    n = scores.shape[1]
    folds = int(min(max(folds, 2), n))
    if n < 2:
        return float(scores[:, 0].max()) if n else 0.0
    rng = np.random.default_rng(seed)
    means = []
    for _ in range(repeats):
        out = np.zeros(n)
        for part in np.array_split(rng.permutation(n), folds):
            others = np.setdiff1d(np.arange(n), part)
            out[part] = scores[int(np.argmax(scores[:, others].mean(axis=1))), part]
        means.append(out.mean())
    return float(np.mean(means))
