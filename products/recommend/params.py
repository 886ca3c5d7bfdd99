"""The recommender's hyper-parameters and the names of its history buckets and signals."""
from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass

BUCKETS = ("short", "long", "visitor")  # known users by history length; new visitors
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
