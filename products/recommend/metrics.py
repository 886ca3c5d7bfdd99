"""Time-based splits and top-k ranking metrics (plain numpy, checked against hand-computed values)."""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

RELEVANT = 4.0  # a held-out rating at or above this counts as relevant


@dataclass
class Split:
    train: pd.DataFrame
    test: pd.DataFrame


def split_by_time(ratings: pd.DataFrame, fraction: float = 0.2, min_holdout: int = 1, min_train: int = 1) -> Split:
    """Hold out each user's latest `fraction` of ratings (at least `min_holdout`, leaving `min_train`).

    Ties in time keep the table's order, so the split is deterministic.
    """
    ordered = ratings.assign(_row=np.arange(len(ratings))).sort_values(["u", "timestamp", "_row"], kind="stable")
    counts = ordered.groupby("u")["u"].transform("size").to_numpy()
    rank = ordered.groupby("u").cumcount().to_numpy()
    holdout = np.maximum(min_holdout, np.round(counts * fraction)).astype(int)
    holdout = np.minimum(holdout, np.maximum(counts - min_train, 0))
    is_test = rank >= counts - holdout
    ordered = ordered.drop(columns="_row")
    return Split(ordered[~is_test].reset_index(drop=True), ordered[is_test].reset_index(drop=True))


def precision_at_k(ranked, relevant: set, k: int = 10) -> float:
    return sum(1 for i in ranked[:k] if i in relevant) / k


def recall_at_k(ranked, relevant: set, k: int = 10) -> float:
    return sum(1 for i in ranked[:k] if i in relevant) / len(relevant) if relevant else 0.0


def ndcg_at_k(ranked, relevant: set, k: int = 10) -> float:
    dcg = sum(1.0 / math.log2(pos + 2) for pos, i in enumerate(ranked[:k]) if i in relevant)
    ideal = sum(1.0 / math.log2(pos + 2) for pos in range(min(len(relevant), k)))
    return dcg / ideal if ideal else 0.0


def ap_at_k(ranked, relevant: set, k: int = 10) -> float:
    """Average precision at k, normalised by min(|relevant|, k)."""
    hits, total = 0, 0.0
    for pos, i in enumerate(ranked[:k]):
        if i in relevant:
            hits += 1
            total += hits / (pos + 1)
    return total / min(len(relevant), k) if relevant else 0.0


def hit_at_k(ranked, relevant: set, k: int = 10) -> float:
    return float(any(i in relevant for i in ranked[:k]))


def coverage(recommended_lists, n_items: int) -> float:
    """Share of the catalog that appears in at least one list."""
    seen = set()
    for ranked in recommended_lists:
        seen.update(int(i) for i in ranked)
    return len(seen) / n_items if n_items else 0.0


def novelty(recommended_lists, item_popularity: np.ndarray) -> float:
    """Mean self-information -log2(p(i)) of the recommended items, p(i) = share of training users who
    rated i (items no one rated count as rated by half a user)."""
    values = [-math.log2(item_popularity[int(i)]) for ranked in recommended_lists for i in ranked]
    return float(np.mean(values)) if values else 0.0


def popularity_share(train: pd.DataFrame, n_users: int, n_items: int) -> np.ndarray:
    counts = np.bincount(train["i"].to_numpy(), minlength=n_items).astype(np.float64)
    return np.maximum(counts, 0.5) / max(n_users, 1)


METRICS = ("precision", "recall", "ndcg", "map", "hit_rate")


def evaluate_lists(lists: dict[int, np.ndarray], test: pd.DataFrame, train: pd.DataFrame, n_users: int,
                   n_items: int, k: int = 10, users=None) -> dict:
    """Mean metrics over users with at least one relevant held-out item (restricted to `users` if given),
    plus coverage and novelty over all their lists."""
    relevant_by_user = test[test["rating"] >= RELEVANT].groupby("u")["i"].agg(lambda s: set(s.tolist()))
    if users is not None:
        relevant_by_user = relevant_by_user[relevant_by_user.index.isin(list(users))]
    fns = {"precision": precision_at_k, "recall": recall_at_k, "ndcg": ndcg_at_k, "map": ap_at_k, "hit_rate": hit_at_k}
    sums = dict.fromkeys(fns, 0.0)
    evaluated = []
    for u, relevant in relevant_by_user.items():
        ranked = list(lists[u][:k])
        evaluated.append(ranked)
        for name, fn in fns.items():
            sums[name] += fn(ranked, relevant, k)
    n = len(evaluated)
    out = {name: (value / n if n else 0.0) for name, value in sums.items()}
    out["coverage"] = coverage(evaluated, n_items)
    out["novelty"] = novelty(evaluated, popularity_share(train, n_users, n_items))
    out["users"] = n
    return out
