"""How the z-scored signals become one score: weighted sums, split into a collaborative and a content part."""
from __future__ import annotations

import numpy as np

from products.recommend.params import COLLABORATIVE


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
