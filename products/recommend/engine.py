"""The recommender's public names in one import, for callers written before the engine was split:

    params.py       Params, the bucket and signal names
    signals.py      EASE, ALS, item-kNN, z-scores, top-n (the maths of the signals)
    sequence.py     what others rated next
    content.py      content vectors, profiles, attaching them to a model
    blend.py        z-scored signals -> one score
    tuning.py       the grid, validation groups, per-user NDCG, the per-bucket choice
    cache.py        the disk caches (write, rename, checksum)
    recommender.py  HybridRecommender: fit, attach content, recommend, fold in, explain

New code imports from the module that holds the name.
"""
from products.recommend.blend import collaborative_share, combine  # noqa: F401
from products.recommend.cache import (CACHE_VERSION, content_cache_path, load_content,  # noqa: F401
                                      model_cache_path, save_content)
from products.recommend.content import content_space, encode_content, genre_onehot  # noqa: F401
from products.recommend.params import BUCKETS, COLLABORATIVE, Params  # noqa: F401
from products.recommend.recommender import HybridRecommender, Scored  # noqa: F401
from products.recommend.signals import (ease, ease_from_gram, fit_als, fit_ease, gram_matrix,  # noqa: F401
                                        interactions, item_knn, new_als, one_thread, top_n, unit, z_scores)
from products.recommend.tuning import (ValidationGroup, blend_sums, cross_validated,  # noqa: F401
                                       per_user_ndcg)
