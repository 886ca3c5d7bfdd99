"""The model card: how the recommender works, what this fitted model chose, and the offline evaluation
(products/recommend/evaluation.json, written by `python -m products.recommend.tools.evaluate`)."""
from __future__ import annotations

import json
import time
from pathlib import Path

from products.recommend.params import Params
from products.recommend.recommender import HybridRecommender

EVALUATION_FILE = Path(__file__).resolve().parent / "evaluation.json"


def evaluation() -> dict | None:
    try:
        return json.loads(EVALUATION_FILE.read_text())
    except (OSError, ValueError):
        return None


def evaluation_markdown(result: dict | None) -> str:
    if not result:
        return "(no evaluation yet: run `python -m products.recommend.tools.evaluate`)"
    cols = ("precision", "recall", "ndcg", "map", "hit_rate", "coverage", "novelty")
    lines = []
    for title, key in (("All test users", "all"), ("Users with 20 or fewer training ratings", "sparse")):
        block = result[key]
        users = next(iter(block.values()))["users"]
        lines += [f"**{title}** ({users} users with a relevant held-out item)", "",
                  "| model | P@10 | R@10 | NDCG@10 | MAP@10 | HR@10 | coverage | novelty |",
                  "|---|---|---|---|---|---|---|---|"]
        for name, row in block.items():
            lines.append(f"| {name} | " + " | ".join(f"{row[c]:.4f}" if c != "novelty" else f"{row[c]:.2f}"
                                                      for c in cols) + " |")
        lines.append("")
        for row in result.get("comparisons", {}).get(key, []):
            lines.append(f"- NDCG@10 of the hybrid minus {row['against']}: {row['difference']:+.4f} "
                         f"(95% paired bootstrap interval {row['low']:+.4f} to {row['high']:+.4f}; better for "
                         f"{row['better']} users, worse for {row['worse']} of {row['users']})")
        if result.get("comparisons", {}).get(key):
            lines.append("")
    cold = result.get("cold_start")
    if cold:
        ks = list(cold)
        users = ", ".join(f"{next(iter(cold[k]['rows'].values()))['users']} for k = {k}" for k in ks)
        lines += ["**New visitors (cold start), simulated on the test users**: each user's k earliest training "
                  "ratings of 4 or more are the picks, scored by fold-in as the New visitor tab does (no refit); "
                  f"the targets are their test items ({users} users). NDCG@10, with HR@10 in brackets:", "",
                  "| model | " + " | ".join(f"k = {k}" for k in ks) + " |", "|---|" + "---|" * len(ks)]
        for name in cold[ks[0]]["rows"]:
            cells = [f"{cold[k]['rows'][name]['ndcg']:.4f} ({cold[k]['rows'][name]['hit_rate']:.2f})" for k in ks]
            lines.append(f"| {name} | " + " | ".join(cells) + " |")
        lines.append("")
        for k in ks:
            for row in cold[k]["comparisons"]:
                lines.append(f"- k = {k}: hybrid minus {row['against']}: {row['difference']:+.4f} (95% paired "
                             f"bootstrap interval {row['low']:+.4f} to {row['high']:+.4f})")
        lines.append("")
    return "\n".join(lines)


def model_card(model: HybridRecommender | None = None) -> str:
    """How it works, when it was fitted, and the evaluation table (from evaluation.json)."""
    params = model.params if model is not None else Params()
    parts = ["### How it works",
             "- **EASE with content** (the main signal): an item-item weight matrix in closed form (Steck 2019), "
             "B = I − P·diag(1/diag P), P = (XᵀX + α·CCᵀ + λI)⁻¹, where X is the users × items ratings and C the "
             "items' content vectors (Jeunen et al. 2020). The content term links items with similar titles, "
             "years and genres even where few users rated both. A user's scores are their ratings × B.",
             "- **Other collaborative signals**: implicit's ALS (alternating least squares) on the ratings as "
             "confidences (factors, regularization and iterations from AIPM_RECOMMEND_*), and an item-kNN (each "
             "item's nearest items by rating cosine, plus a little content cosine).",
             "- **Sequence**: people rate in sittings, so what other users rated next after an item says what "
             "comes next. T[i, j] is the share of the ratings within a user's next "
             f"{params.seq_window} ratings after i that were of j; a user's score is the sum of T's rows for "
             f"their {params.seq_recent} latest items, each older one weighted {params.seq_recency} times "
             "the next (a new visitor's picks count in the order picked).",
             "- **Content**: each item's *title (year) — genres* embedded with all-MiniLM-L6-v2, joined with a "
             "genre one-hot; a user's profile is the mean vector of the items they rated 4 or more.",
             "- **Hybrid**: per request the scores are standardised over the catalog and summed with weights. "
             "EASE's λ and α and the weights of ALS, the kNN and the sequence signal are chosen from a small "
             "grid on each user's latest training ratings (validation), never on the test split; users with "
             "20 or fewer ratings "
             "get their own choice, and so do new visitors (chosen on validation users replayed as visitors: "
             "their earliest liked movies as picks). The slider mixes in the content profile's score "
             "(0 = content only).",
             "- **New visitors**: their picks score EASE directly (picks × B, no user parameters), are folded "
             "into the fitted ALS model (a user vector solved against the fixed item factors) and the item-kNN, "
             "are read in the order picked as the latest items of the sequence signal, and give a content "
             "profile, with no refit.",
             "- **Explanations**: the rated items that contributed most to each recommendation under the same "
             "blend."]
    if model is not None:
        fitted = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime(model.fitted_at))
        tuned = []
        for bucket, label in (("short", "≤ 20 ratings"), ("long", "> 20 ratings"),
                              ("visitor", "new visitors (chosen on simulated visitors)")):
            row = model.tuning.get(bucket) if model.tuning else None
            weights = model.weights[bucket]
            fit = model.ease_fit.get(bucket)
            text = f"EASE λ {fit[0]:g}, content α {fit[1]:g}; " if fit else "EASE off; "
            text += ", ".join(f"{k} {weights.get(k, 0.0):.2f}" for k in ("ease", "als", "knn", "seq", "content"))
            if row and row.get("users"):
                text += f" ({row['users']} validation users; NDCG@10 {row['tuned']:.3f}"
                if "cross_validated" in (row or {}):
                    text += f", cross-validated {row['cross_validated']:.3f}"
                if "plain_ease" in (row or {}):
                    text += f", plain EASE {row['plain_ease']:.3f}"
                if row.get("borrowed_from"):
                    text += "; too few users to choose alone, so it takes the > 20 choice"
                text += ")"
            tuned.append(f"  - {label}: {text}")
        parts += ["", "### This model",
                  f"- Data: {model.data.name}: {len(model.train):,} ratings by {model.data.n_users:,} users of "
                  f"{model.data.n_items:,} items (checksum {model.data.checksum[:12]}).",
                  f"- Fitted {fitted} in {model.fit_seconds:.1f}s"
                  f"{' (loaded from the disk cache)' if model.from_cache else ''}; ALS "
                  f"{model.params.factors} factors, regularization {model.params.regularization}, "
                  f"{model.params.iterations} iterations; item-kNN {model.params.knn_k} neighbours, content "
                  f"boost {model.params.knn_content}.",
                  "- Chosen on validation (weights of the z-scored signals):"] + tuned
    result = evaluation()
    parts += ["", "### Evaluation on MovieLens 100k (time split, relevance = rating ≥ 4)"]
    if result:
        parts.append(f"{result.get('protocol', '')}\n")
    parts.append(evaluation_markdown(result))
    return "\n".join(parts)
