"""Offline recommender tools, never imported by the running app: the MovieLens evaluation (evaluate,
writes products/recommend/evaluation.json for the model card) and the sequence-signal search
(sequence_search). Run each with `python -m products.recommend.tools.<name>`."""
