"""Offline evaluation on MovieLens 100k: `python -m products.recommend.tools.evaluate [--data FOLDER]`.

Protocol: each user's latest 20% of ratings are the test set (relevance = rating >= 4); every model
learns from the rest. Hyper-parameters of the baselines (kNN neighbours, BPR factors and learning
rate, EASE's lambda) and the hybrid's grid choice (per history length) are made on a validation split cut the same
way from the training ratings (each user's latest 10%); the test split is used once, for the table. Metrics at 10:
precision, recall, NDCG, MAP, hit rate (mean over users with a relevant held-out item), catalog
coverage and novelty (mean -log2 of the share of training users who rated a recommended item).
Writes products/recommend/evaluation.json, which the model card shows.
"""
from __future__ import annotations

import argparse
import json
import time
from dataclasses import replace

import numpy as np

from products.recommend.metrics import RELEVANT, evaluate_lists, ndcg_at_k, split_by_time  # noqa: E402

K = 10
TEST_FRACTION = 0.2
SPARSE_MAX = 20  # the slice of users with this many training ratings or fewer


def _lists_from_scores(scores: np.ndarray, matrix) -> dict:
    from products.recommend.signals import top_n

    return {u: top_n(scores[u], K, matrix[u].toarray().ravel() > 0) for u in range(matrix.shape[0])}


def _lists_from_implicit(model, matrix) -> dict:
    from products.recommend.signals import one_thread

    with one_thread():
        ids, _ = model.recommend(np.arange(matrix.shape[0]), matrix, N=K, filter_already_liked_items=True)
    return dict(enumerate(ids))


def _ndcg(lists, split, n_users, n_items) -> float:
    return evaluate_lists(lists, split.test, split.train, n_users, n_items, K)["ndcg"]


def fit_knn(matrix, neighbours: int):
    from implicit.nearest_neighbours import CosineRecommender

    from products.recommend.signals import one_thread

    with one_thread():
        model = CosineRecommender(K=neighbours, num_threads=1)
        model.fit(matrix, show_progress=False)
    return model


def fit_bpr(matrix, factors: int, learning_rate: float, seed: int = 42):
    from implicit.cpu.bpr import BayesianPersonalizedRanking

    from products.recommend.signals import one_thread

    with one_thread():
        model = BayesianPersonalizedRanking(factors=factors, learning_rate=learning_rate, regularization=0.01,
                                            iterations=100, random_state=seed, num_threads=1)
        model.fit((matrix > 0).astype(np.float32), show_progress=False)
    return model


def ease_lists(matrix, lam: float) -> dict:
    from products.recommend.signals import ease

    return _lists_from_scores(np.asarray(matrix @ ease(matrix, lam)), matrix)


EASE_GRID = (100.0, 300.0, 1000.0, 2000.0, 3000.0, 5000.0)


def run(data=None, log=print) -> dict:
    from products.recommend.core import attach_content
    from products.recommend import sequence
    from products.recommend.params import Params
    from products.recommend.recommender import HybridRecommender
    from products.recommend.signals import ease, interactions
    from shared import artifacts

    from products.recommend.artifacts import ML100K
    from products.recommend.data import load_movielens

    started = time.perf_counter()
    if data is None:
        data = load_movielens(artifacts.materialize(ML100K))
    n_users, n_items = data.n_users, data.n_items
    outer = split_by_time(data.ratings, TEST_FRACTION)
    inner = split_by_time(outer.train, Params().val_fraction)
    train_m = interactions(outer.train, n_users, n_items)
    inner_m = interactions(inner.train, n_users, n_items)
    log(f"{data.name}: {len(outer.train):,} training and {len(outer.test):,} test ratings")

    # Baseline settings, chosen on the validation split only.
    knn_k = max((20, 50, 100), key=lambda k: _ndcg(_lists_from_implicit(fit_knn(inner_m, k), inner_m), inner,
                                                     n_users, n_items))
    bpr_grid = [(f, lr) for f in (32, 64) for lr in (0.01, 0.05)]
    bpr_f, bpr_lr = max(bpr_grid, key=lambda p: _ndcg(_lists_from_implicit(fit_bpr(inner_m, *p), inner_m), inner,
                                                       n_users, n_items))
    ease_val = {lam: _ndcg(ease_lists(inner_m, lam), inner, n_users, n_items) for lam in EASE_GRID}
    ease_lam = max(EASE_GRID, key=lambda lam: ease_val[lam])
    log(f"validation picked: item-kNN K={knn_k}; BPR factors={bpr_f}, learning rate={bpr_lr}; EASE lambda={ease_lam:g} "
        f"(validation NDCG@10 by lambda: {', '.join(f'{k:g}: {v:.4f}' for k, v in ease_val.items())})")

    lists: dict[str, dict] = {}
    popularity = np.bincount(outer.train["i"].to_numpy(), minlength=n_items).astype(np.float64)
    lists["popularity"] = _lists_from_scores(np.tile(popularity, (n_users, 1)), train_m)
    rng = np.random.default_rng(42)
    lists["random"] = _lists_from_scores(rng.random((n_users, n_items)), train_m)
    knn_name = f"item-kNN (cosine, K={knn_k})"
    lists[knn_name] = _lists_from_implicit(fit_knn(train_m, knn_k), train_m)
    params = Params()
    hybrid = HybridRecommender.fit(data, params, train=outer.train)
    als_name = f"ALS ({params.factors} factors)"
    lists[als_name] = _lists_from_implicit(hybrid.als, train_m)
    bpr_name = f"BPR ({bpr_f} factors, lr {bpr_lr})"
    lists[bpr_name] = _lists_from_implicit(fit_bpr(train_m, bpr_f, bpr_lr), train_m)
    ease_name = f"EASE (lambda {ease_lam:g}, tuned on validation)"
    lists[ease_name] = ease_lists(train_m, ease_lam)
    # The sequence signal alone is a pure collaborative model too (other users' rating order, no content).
    seq_name = (f"sequence (what others rated in their next {params.seq_window} ratings after your "
                f"{params.seq_recent} latest)")
    transitions = sequence.transitions(outer.train, n_items, params.seq_window)
    lists[seq_name] = _lists_from_scores(
        sequence.scores(transitions, sequence.recent_lists(outer.train, n_users, params.seq_recent),
                        params.seq_recency), train_m)
    attach_content(hybrid)  # content vectors through the shared encoder; the blend is tuned on validation here
    # Ablation: the same grid search without content (EASE on ratings only, plain item-kNN, ALS).
    cf_blend = HybridRecommender(data, replace(params, knn_content=0.0), hybrid.als, hybrid.tune_als, outer.train,
                                 hybrid.fitted_at, ease_b=hybrid.plain_ease)
    cf_blend.attach_content(hybrid.text_vectors, hybrid.text_genre_vectors, content_in_blend=False)
    # Ablation: the same grid without the sequence signal (the previous design).
    no_seq = HybridRecommender(data, replace(params, seq_weights=(0.0,)), hybrid.als, hybrid.tune_als,
                               outer.train, hybrid.fitted_at, ease_b=hybrid.plain_ease)
    no_seq.attach_content(hybrid.text_vectors, hybrid.text_genre_vectors)
    lists["content only (MiniLM + genres)"] = {
        u: np.array([s.index for s in hybrid.recommend(u, K, 0.0, explain=False)]) for u in range(n_users)}
    ablation = "EASE + ALS + item-kNN + sequence, same grid, no content (ablation)"
    lists[ablation] = {u: np.array([s.index for s in cf_blend.recommend(u, K, explain=False)])
                       for u in range(n_users)}
    no_seq_name = "EASE with content + ALS + item-kNN, same grid, no sequence (ablation: the previous hybrid)"
    lists[no_seq_name] = {u: np.array([s.index for s in no_seq.recommend(u, K, explain=False)])
                          for u in range(n_users)}
    name = "hybrid: EASE with content + ALS + item-kNN + sequence, tuned on validation"
    lists[name] = {u: np.array([s.index for s in hybrid.recommend(u, K, explain=False)]) for u in range(n_users)}

    counts = outer.train.groupby("u").size()
    sparse_users = set(counts[counts <= SPARSE_MAX].index.tolist())
    result = {
        "protocol": (f"Each user's latest {TEST_FRACTION:.0%} of ratings held out; relevance = rating >= 4; "
                     f"settings and the blend tuned on each user's latest {params.val_fraction:.0%} of training "
                     f"ratings; {len(outer.train):,} training ratings, {len(outer.test):,} test ratings."),
        "all": {}, "sparse": {}, "comparisons": {},
        "blend_tuning": hybrid.tuning, "weights": hybrid.weights,
        "ablation_tuning": cf_blend.tuning, "ablation_weights": cf_blend.weights,
        "no_sequence_tuning": no_seq.tuning, "no_sequence_weights": no_seq.weights,
        "validation": {"knn_k": knn_k, "bpr": [bpr_f, bpr_lr], "ease_lambda": ease_lam,
                       "ease_ndcg_by_lambda": {f"{k:g}": round(v, 5) for k, v in ease_val.items()}},
        "seconds": 0.0,
    }
    for model_name, model_lists in lists.items():
        result["all"][model_name] = evaluate_lists(model_lists, outer.test, outer.train, n_users, n_items, K)
        result["sparse"][model_name] = evaluate_lists(model_lists, outer.test, outer.train, n_users, n_items, K,
                                                      users=sparse_users)
    for key, users in (("all", None), ("sparse", sparse_users)):
        pure = (knn_name, als_name, bpr_name, ease_name, seq_name)
        best = max(pure, key=lambda m: result[key][m]["ndcg"])
        result["comparisons"][key] = [
            paired_difference(lists[name], lists[other], outer.test, users) | {"model": name, "against": other}
            for other in dict.fromkeys((best, ease_name, ablation, no_seq_name))]
    log("simulating new visitors (cold start)...")
    result["cold_start"] = cold_start(hybrid, cf_blend, no_seq, ease(train_m, ease_lam), transitions, popularity,
                                      outer, n_users, n_items, ease_name, ablation, no_seq_name, name)
    result["seconds"] = round(time.perf_counter() - started, 1)
    return result


COLD_PICKS = (3, 5, 10)


def cold_start(hybrid, ablation_model, no_seq_model, ease_b, transitions, popularity, outer, n_users, n_items,
               ease_name, ablation, no_seq_name, name) -> dict:
    """New visitors, simulated on the test users: each user's k earliest liked training ratings (>= 4) are
    the picks, fed through fold-in exactly as the New visitor tab does (no refit); the targets are the user's
    test items, and their other training items are filtered out, as a known user's are. Reported, never
    used to choose anything."""
    from products.recommend import sequence
    from products.recommend.signals import top_n

    liked = outer.train[outer.train["rating"] >= RELEVANT].sort_values(["u", "timestamp"], kind="stable")
    liked = liked.groupby("u")["i"].agg(list)
    seen = outer.train.groupby("u")["i"].agg(set)
    out, p = {}, hybrid.params
    for k in COLD_PICKS:
        users = [u for u, items in liked.items() if len(items) >= k]
        picks = {u: liked[u][:k] for u in users}

        def folded(model, weight=None):
            lists = {}
            for u in users:
                recs = model.fold_in(picks[u], n=K + len(seen[u]), weight=weight, explain=False)
                lists[u] = np.array([s.index for s in recs if s.index not in seen[u]][:K])
            return lists

        def scored(scores_of):
            lists = {}
            for u in users:
                exclude = np.zeros(n_items, bool)
                exclude[list(seen[u])] = True
                lists[u] = top_n(scores_of(u), K, exclude)
            return lists

        lists = {"popularity": scored(lambda u: popularity),
                 f"{ease_name}, picks × B": scored(lambda u: 5.0 * ease_b[picks[u]].sum(axis=0)),
                 "sequence alone, the picks as the latest items": scored(lambda u: sequence.scores(
                     transitions, [np.asarray(picks[u][-p.seq_recent:])], p.seq_recency)[0]),
                 "content only (MiniLM + genres)": folded(hybrid, 0.0),
                 ablation: folded(ablation_model), no_seq_name: folded(no_seq_model), name: folded(hybrid)}
        rows = {m: evaluate_lists(ls, outer.test, outer.train, n_users, n_items, K, users=set(users))
                for m, ls in lists.items()}
        out[str(k)] = {"rows": rows, "comparisons": [
            paired_difference(lists[name], lists[other], outer.test, set(users)) | {"model": name, "against": other}
            for other in (f"{ease_name}, picks × B", ablation, no_seq_name)]}
    return out


def per_user_ndcg(lists: dict, test, users=None) -> dict:
    relevant = test[test["rating"] >= RELEVANT].groupby("u")["i"].agg(lambda s: set(s.tolist()))
    return {u: ndcg_at_k(list(lists[u][:K]), rel, K) for u, rel in relevant.items()
            if users is None or u in users}


def paired_difference(lists_a: dict, lists_b: dict, test, users=None, resamples: int = 2000, seed: int = 0) -> dict:
    """Mean per-user NDCG@10 difference (a - b) with a 95% paired bootstrap interval over users, and the
    numbers of users where a is better / worse."""
    a, b = per_user_ndcg(lists_a, test, users), per_user_ndcg(lists_b, test, users)
    diff = np.array([a[u] - b[u] for u in sorted(a)])
    rng = np.random.default_rng(seed)
    means = diff[rng.integers(0, len(diff), size=(resamples, len(diff)))].mean(axis=1)
    return {"difference": float(diff.mean()), "low": float(np.percentile(means, 2.5)),
            "high": float(np.percentile(means, 97.5)), "better": int((diff > 0).sum()),
            "worse": int((diff < 0).sum()), "users": int(len(diff))}


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", help="a folder with ratings.csv and items.csv instead of MovieLens 100k")
    parser.add_argument("--no-write", action="store_true", help="print the table without writing evaluation.json")
    args = parser.parse_args(argv)
    from products.recommend.card import EVALUATION_FILE, evaluation_markdown

    data = None
    if args.data:
        from products.recommend.data import load_folder

        data = load_folder(args.data)
    result = run(data)
    print(evaluation_markdown(result))
    print(f"blend tuning on validation: {result['blend_tuning']}")
    print(f"ablation tuning on validation: {result['ablation_tuning']}")
    print(f"took {result['seconds']}s")
    if not args.no_write and not args.data:
        EVALUATION_FILE.write_text(json.dumps(result, indent=1) + "\n")
        print(f"wrote {EVALUATION_FILE}")


if __name__ == "__main__":
    main()
