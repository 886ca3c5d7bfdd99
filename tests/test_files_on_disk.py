"""Files the app leaves on disk: per-request output folders are swept by age, and the partial files
a killed join or conversion leaves in the cache are removed at start-up."""
import os
import tempfile
import time
from pathlib import Path
from types import SimpleNamespace

import pytest

from shared import artifacts, outputs

HOUR = 3600


@pytest.fixture
def out_root(monkeypatch, tmp_path):
    """outputs.root() under tmp_path, with no automatic sweep in the way."""
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path / "tmp"))
    (tmp_path / "tmp").mkdir()
    monkeypatch.setattr(outputs, "_last_sweep", time.monotonic())
    return outputs.root()


def _age(path: Path, seconds: float) -> None:
    then = time.time() - seconds
    os.utime(path, (then, then))


# ---- per-request output folders ----------------------------------------------------------------
def test_sweep_removes_old_folders_and_keeps_fresh_ones(out_root):
    old, fresh = outputs.request_dir("image"), outputs.request_dir("speech")
    (old / "a.png").write_bytes(b"x" * 100)
    (fresh / "t.srt").write_text("1\n")
    _age(old, 2 * HOUR)
    assert outputs.sweep(max_age_s=HOUR) == 1
    assert not old.exists() and (fresh / "t.srt").exists()
    assert old.parent == out_root and old.name.startswith("image-") and fresh.name.startswith("speech-")


def test_a_thousand_requests_leave_nothing_after_a_sweep(out_root):
    for i in range(1000):
        (outputs.request_dir("image") / "image-1.png").write_bytes(b"\x89PNG" + b"\0" * 1020)
    folders, size = outputs.disk_usage()
    on_disk = sum(os.stat(p).st_blocks * 512 for p in [out_root, *out_root.rglob("*")])
    print(f"\nafter 1000 requests: {folders} folders, {size / 1e6:.2f} MB of files, "
          f"{on_disk / 1e6:.2f} MB on disk (with folder blocks)")
    assert folders == 1000 and size == 1000 * 1024
    assert outputs.sweep(max_age_s=0) == 1000
    assert list(out_root.iterdir()) == [] and outputs.disk_usage() == (0, 0)
    print(f"after the sweep: {outputs.disk_usage()[0]} folders, "
          f"{sum(os.stat(p).st_blocks * 512 for p in out_root.rglob('*')) / 1e6:.2f} MB")


def test_speech_files_go_to_a_swept_request_folder(out_root):
    from products.speech import core

    update = SimpleNamespace(info=SimpleNamespace(language="en", language_probability=1.0, duration=1.0),
                             segments=[], model="m", engine="e", rtf=0.1)
    paths = core.write_files(update)
    assert paths and all(Path(p).parent.parent == out_root for p in paths)
    assert Path(paths[0]).parent.name.startswith("speech-")
    mine = Path(out_root.parent / "mine")
    assert Path(core.write_files(update, folder=mine)[0]).parent == mine, "a given folder is kept"


def test_image_files_go_to_a_swept_request_folder(out_root, monkeypatch):
    from products.image import core, tab

    seen = []

    def fake_generate(params, out_dir=None, **kwargs):
        seen.append(Path(out_dir))
        yield SimpleNamespace(images=[], params=params, notes=[])

    monkeypatch.setattr(core, "iter_generate", fake_generate)
    for _ in tab.generate("a red heart", "", None, 4, 1.0, 256, 256, 1, "Default", request=None, progress=None):
        pass
    assert len(seen) == 1 and seen[0].parent == out_root and seen[0].name.startswith("image-")


# ---- stale partial files in the cache ------------------------------------------------------------
def _partials(cache: Path) -> dict[str, Path]:
    """What a killed join / conversion / unpack leaves, stale and fresh, beside files that must stay."""
    joined = cache / "artifacts" / "qwen" / "1d9614638d18024d"
    copy = cache / "copy"
    speech = cache / "speech" / "openai-whisper"
    emoji = cache / "emoji"
    for folder in (joined, copy, speech, emoji):
        folder.mkdir(parents=True, exist_ok=True)
    made = {
        "old join": joined / "tmpab12cd.part",
        "fresh join": joined / "tmpzz99yy.part",
        "old speech": speech / "tmp1234.tmp",
        "old copy": copy / "1d9614638d18024d-bfloat16.tmp-k2j4",
        "busy copy": copy / "1d9614638d18024d-float32.tmp-x9y8",
        "old emoji": emoji / ".emoji-datasource-15.1.2.partial",
        "joined file": joined / "qwen.gguf",
        "part package name": joined / "model.bin.part1",
        "verified": cache / "verified.json",
        "converted": copy / "1d9614638d18024d-bfloat16" / "model.safetensors",
    }
    for key in ("old copy", "busy copy", "old emoji"):
        made[key].mkdir()
        (made[key] / "model.safetensors").write_bytes(b"w" * 1000)
    made["converted"].parent.mkdir()
    for key, path in made.items():
        if not path.exists():
            path.write_bytes(b"p" * 500)
    for key in ("old join", "old speech", "old copy", "old emoji", "joined file", "part package name",
                "verified", "converted"):
        for inner in [made[key], *made[key].rglob("*")] if made[key].is_dir() else [made[key]]:
            _age(inner, 3 * HOUR)
    _age(made["busy copy"], 3 * HOUR)  # an old folder a conversion is still writing into (fresh file)
    return made


def test_clean_stale_partials_removes_old_ones_and_keeps_fresh_and_finished_files(tmp_path, caplog):
    cache = tmp_path / "cache"
    made = _partials(cache)
    with caplog.at_level("INFO", logger="shared.artifacts"):
        removed = artifacts.clean_stale_partials(cache, older_than_s=HOUR)
    stale = {"old join", "old speech", "old copy", "old emoji"}
    assert set(removed) == {made[k] for k in stale}
    for key, path in made.items():
        assert path.exists() == (key not in stale), key
    assert "freeing" in caplog.text and "stale partial" in caplog.text
    assert artifacts.clean_stale_partials(cache, older_than_s=HOUR) == [], "nothing left to do"


def test_clean_stale_partials_uses_the_cache_dir_by_default(fresh_settings, tmp_path):
    fresh_settings.setenv("AIPM_CACHE_DIR", str(tmp_path / "cache"))
    assert artifacts.clean_stale_partials() == [], "no cache folder yet: nothing to do"
    made = _partials(tmp_path / "cache")
    assert made["old join"] in artifacts.clean_stale_partials()
    assert made["fresh join"].exists()


def test_an_interrupted_join_leaves_no_part_file(fresh_settings, tmp_path, monkeypatch):
    from tests.test_artifacts import joined_artifact

    art, _ = joined_artifact(fresh_settings, tmp_path)

    def interrupted(src, out, length=0):
        out.write(b"half")
        raise KeyboardInterrupt

    monkeypatch.setattr(artifacts.shutil, "copyfileobj", interrupted)
    with pytest.raises(KeyboardInterrupt):
        artifacts.materialize(art)
    assert not list((tmp_path / "cache").rglob("*.part"))
