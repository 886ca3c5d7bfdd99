"""shared/catalog.py: every embedded artifact, the shared ones and those each product declares in
products/<name>/artifacts.py, pinned and installable."""
import re

from shared import catalog
from tests.conftest import ROOT


def test_products_declare_their_own_artifacts_and_the_catalog_collects_them():
    from products.recommend.artifacts import ML100K
    from products.speech.artifacts import SILERO_VAD, WHISPER_TINY_EN

    found = catalog.all_artifacts()
    names = [a.name for a in found]
    assert len(names) == len(set(names)), "each artifact listed once"
    assert "qwen2.5-coder-1.5b-instruct-q4_k_m-gguf" in names
    for artifact in (catalog.MINILM_ENCODER, ML100K, SILERO_VAD, WHISPER_TINY_EN):
        assert artifact in found
    assert names.index("all-MiniLM-L6-v2") < names.index("movielens-100k"), "shared first, then products"


def test_every_file_is_pinned_by_version_size_and_sha256():
    for artifact in catalog.all_artifacts():
        for f in artifact.files + ((artifact.joined,) if artifact.joined else ()):
            assert re.fullmatch(r"[0-9a-f]{64}", f.sha256), (artifact.name, f.path)
            assert f.size > 0, (artifact.name, f.path)
        assert artifact.license, artifact.name
        for f in artifact.files:
            assert f.package and re.fullmatch(r"[0-9][0-9a-z.]*", f.version), (artifact.name, f.package, f.version)


def test_every_package_is_in_requirements_embedded_at_its_pinned_version():
    pinned = dict(line.split("==") for line in (ROOT / "requirements-embedded.txt").read_text().split()
                  if "==" in line and not line.startswith("#"))
    for artifact in catalog.all_artifacts():
        for f in artifact.files:
            assert pinned.get(f.package) == f.version, (artifact.name, f.package, f.version, pinned.get(f.package))
