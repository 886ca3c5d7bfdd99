"""The Recommendations product's settings (README's configuration table lists them)."""
from __future__ import annotations

from shared.config import as_float, as_int, as_text, product_settings, setting


@product_settings
class RecommendSettings:
    # the LocalPath source reads it by name
    data: str = setting(
        "AIPM_RECOMMEND_DATA", "",
        "Folder with your own `ratings.csv` (user_id, item_id, rating[, timestamp]) and `items.csv` (item_id, title[, year][, genres as `A|B`]) used instead of the embedded MovieLens 100k.",
        as_text)
    factors: int = setting(
        "AIPM_RECOMMEND_FACTORS", "32",
        "Latent factors of the ALS collaborative model.",
        as_int(minimum=1))
    regularization: float = setting(
        "AIPM_RECOMMEND_REGULARIZATION", "20",
        "L2 regularization of the ALS collaborative model.",
        as_float())
    iterations: int = setting(
        "AIPM_RECOMMEND_ITERATIONS", "15",
        "ALS iterations when fitting.",
        as_int(minimum=1))
