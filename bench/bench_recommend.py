"""Latency of top-10 recommendations, warm: `python bench/bench_recommend.py`.

Compares our full path (hybrid blend of EASE with content, ALS, item-kNN, the sequence signal and
content + filters + explanations) with the raw library call (implicit ALS `recommend` for one user) and a bare EASE
scoring (x . B in numpy) in the same run, on MovieLens 100k.
"""
import os
import statistics
import sys
import time
from pathlib import Path

os.environ.setdefault("AIPM_OFFLINE", "1")
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
import shared  # noqa: E402,F401  (sets OMP_WAIT_POLICY before torch)

import numpy as np  # noqa: E402


def timed(fn, runs):
    out = []
    for arg in runs:
        start = time.perf_counter()
        fn(arg)
        out.append((time.perf_counter() - start) * 1000)
    return statistics.median(out), float(np.percentile(out, 95))


def raw_ease(model, user: int):
    """The bare EASE top-10: the user's ratings times their bucket's B, rated items excluded."""
    from products.recommend.signals import top_n

    items, ratings = model.history(user)
    return top_n(ratings @ model.ease[model.bucket(len(items))][items], 10, items)


def main():
    from products.recommend import core

    start = time.perf_counter()
    with core.recommender() as model:
        print(f"first use (fit or cache load + content): {time.perf_counter() - start:.1f}s "
              f"(from cache: {model.from_cache})")
        users = np.random.default_rng(0).choice(model.data.n_users, 300, replace=False)
        for u in users[:20]:
            model.recommend(int(u), 10)  # warm-up
        rows = {
            "raw implicit ALS recommend (CF only, no explanations)":
                timed(lambda u: model.als.recommend(int(u), model.matrix[int(u)], N=10), users),
            "raw EASE x.B top-10 (numpy, CF only)": timed(lambda u: raw_ease(model, int(u)), users),
            "hybrid top-10 (blend, no explanations)": timed(lambda u: model.recommend(int(u), 10, explain=False), users),
            "hybrid top-10 with explanations": timed(lambda u: model.recommend(int(u), 10), users),
            "hybrid top-10, genre + year filters": timed(
                lambda u: model.recommend(int(u), 10, genres=["Drama", "Comedy"], years=(1980, 1998)), users),
            "cold start fold-in (3 picks) top-10": timed(
                lambda u: model.fold_in([int(u), int(u) + 1, int(u) + 2], n=10), users),
            "similar items top-10": timed(lambda u: model.similar_items(int(u), 10), users),
            "core.for_user (tables + charts, through the registry)": timed(lambda u: core.for_user(
                model.data.user_ids[int(u)]), users[:100]),
        }
    raw = rows["raw implicit ALS recommend (CF only, no explanations)"][0]
    print(f"{'path':58s} {'median ms':>10s} {'p95 ms':>8s} {'x raw':>6s}")
    for name, (median, p95) in rows.items():
        print(f"{name:58s} {median:10.2f} {p95:8.2f} {median / raw:6.1f}")


if __name__ == "__main__":
    main()
