"""The sequence signal: what people went on to rate next.

People rate in sittings: on MovieLens 100k, 90% of the held-out validation ratings come within an hour of
their user's last training rating. So the items rated right after an item, by other users, say a lot
about what a user rates after their own latest items; a user-item model (EASE, ALS) has no notion of
order and misses it. This is a first-order "next-item" model of the kind session-based recommenders
start from (item-to-item transitions), kept to counting so it is exact and cheap:

- T[i, j] = the share of the ratings that followed a rating of i within the same user's next `window`
  ratings that were of j (rows sum to 1; time order, the table's order on ties);
- a user's scores = sum over their `recent` latest items, the latest weighted 1 and each older one
  `recency` times the one after it, of that item's row of T.

Plain numpy/scipy; the same functions score one user in the app and every validation user in the grid.
"""
from __future__ import annotations

import numpy as np
import pandas as pd
import scipy.sparse as sp


def time_ordered(train: pd.DataFrame) -> pd.DataFrame:
    """Ratings by user, then time; ties keep the table's order (stable), as the time split does."""
    return train.sort_values(["u", "timestamp"], kind="stable")


def transitions(train: pd.DataFrame, n_items: int, window: int, later_only: bool = False) -> sp.csr_matrix:
    """items x items, row-normalised: T[i, j] = share of the ratings that came within `window` ratings
    after a rating of i (same user) that were of j. An item nobody rated anything after has an empty row.
    later_only counts only pairs with a later timestamp (a check that the signal does not rest on ratings
    sent in the same second, whose order is the table's)."""
    ordered = time_ordered(train)
    users, items, times = ordered["u"].to_numpy(), ordered["i"].to_numpy(), ordered["timestamp"].to_numpy()
    rows, cols = [np.zeros(0, np.int64)], [np.zeros(0, np.int64)]
    for step in range(1, max(int(window), 0) + 1):
        same_user = users[step:] == users[:-step]
        if later_only:
            same_user &= times[step:] > times[:-step]
        rows.append(items[:-step][same_user])
        cols.append(items[step:][same_user])
    rows, cols = np.concatenate(rows), np.concatenate(cols)
    counts = sp.csr_matrix((np.ones(len(rows), np.float32), (rows, cols)), shape=(n_items, n_items))
    totals = np.asarray(counts.sum(axis=1)).ravel()
    return sp.csr_matrix(sp.diags(1.0 / np.maximum(totals, 1.0)).astype(np.float32) @ counts, dtype=np.float32)


def recent_lists(train: pd.DataFrame, n_users: int, recent: int) -> list[np.ndarray]:
    """Per user: their `recent` latest rated items, oldest first (an empty array for a user with none)."""
    out = [np.zeros(0, np.int64)] * n_users
    for u, group in time_ordered(train).groupby("u", sort=True):
        out[int(u)] = group["i"].to_numpy(np.int64)[-int(recent):] if recent > 0 else np.zeros(0, np.int64)
    return out


def recency_weights(n: int, recency: float) -> np.ndarray:
    """Weights for n items, oldest first: the latest gets 1, each older one `recency` times the next."""
    return (float(recency) ** np.arange(n - 1, -1, -1)).astype(np.float32)


def scores(table: sp.csr_matrix, lists: list[np.ndarray], recency: float) -> np.ndarray:
    """users x items: each row scores every item from that list of recent items (oldest first)."""
    sizes = [len(items) for items in lists]
    rows = np.repeat(np.arange(len(lists)), sizes)
    cols = np.concatenate(lists).astype(np.int64) if lists and sum(sizes) else np.zeros(0, np.int64)
    weights = (np.concatenate([recency_weights(n, recency) for n in sizes]) if sum(sizes)
               else np.zeros(0, np.float32))
    recent = sp.csr_matrix((weights, (rows, cols)), shape=(len(lists), table.shape[0]), dtype=np.float32)
    return np.asarray((recent @ table).todense(), dtype=np.float32)


def recent_rows(table: sp.csr_matrix, recent: np.ndarray, recency: float) -> np.ndarray:
    """One user's weighted rows of T, len(recent) x items, oldest first: their sum over rows is the
    user's row of `scores`, and each row is that item's share of every item's score (for explanations)."""
    recent = np.asarray(recent, np.int64)
    return recency_weights(len(recent), recency)[:, None] * table[recent].toarray()


def contributions(rows: np.ndarray, recent: np.ndarray, items: np.ndarray, target: int) -> np.ndarray:
    """For each of `items`: its share in `target`'s sequence score (its row of `recent_rows` at `target`),
    0 for items not among the recent ones."""
    position = {int(i): k for k, i in enumerate(np.asarray(recent).tolist())}
    return np.array([rows[position[int(i)], int(target)] if int(i) in position else 0.0 for i in items],
                    np.float32)
