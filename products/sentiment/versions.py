"""Versioned sentiment heads: v0 is the bundled asset; each promoted retrain adds v1, v2, ... in the
cache (safetensors, checked by sha256 when loaded), and any earlier version can be restored."""
from __future__ import annotations

import json
import time
from pathlib import Path

from shared import artifacts

BUNDLED = "v0"


def folder() -> Path:
    return artifacts.cache_dir() / "sentiment-heads"


def _index() -> dict:
    path = folder() / "versions.json"
    if path.exists():
        return json.loads(path.read_text())
    return {"current": BUNDLED, "versions": [{"version": BUNDLED, "created": None, "note": "bundled"}]}


def _save(index: dict) -> None:
    folder().mkdir(parents=True, exist_ok=True)
    tmp = folder() / "versions.json.tmp"
    tmp.write_text(json.dumps(index, indent=1))
    tmp.replace(folder() / "versions.json")


def history() -> list[dict]:
    return _index()["versions"]


def current_name() -> str:
    return _index()["current"]


def current(bundled_path: Path) -> tuple[Path, str]:
    """(path, version) of the heads to load: the promoted version, else the bundled file."""
    index = _index()
    name = index["current"]
    if name == BUNDLED:
        return Path(bundled_path), BUNDLED
    entry = next(v for v in index["versions"] if v["version"] == name)
    path = folder() / f"{name}.safetensors"
    if artifacts.sha256_of(path) != entry["sha256"]:
        raise ValueError(f"sentiment heads {name} are damaged (sha256 mismatch): restore another version")
    return path, name


def promote(heads: dict, report: dict, metadata: dict | None = None) -> str:
    """Save these heads as the next version and make it current; `metadata` (the encoders and
    temperatures they were trained with) is stored in the file."""
    from products.sentiment.heads import save_heads

    index = _index()
    name = f"v{1 + max(int(v['version'][1:]) for v in index['versions'])}"
    folder().mkdir(parents=True, exist_ok=True)
    path = folder() / f"{name}.safetensors"
    save_heads(heads, path, {**(metadata or {}), "version": name, "parent": index["current"]})
    index["versions"].append({"version": name, "created": time.strftime("%Y-%m-%d %H:%M:%S"),
                              "parent": index["current"], "sha256": artifacts.sha256_of(path), "report": report})
    index["current"] = name
    _save(index)
    return name


def restore(name: str) -> str:
    index = _index()
    if name not in {v["version"] for v in index["versions"]}:
        raise KeyError(name)
    index["current"] = name
    _save(index)
    return name


def previous() -> str | None:
    """The version the current one was trained from (what "restore previous" goes back to)."""
    index = _index()
    entry = next((v for v in index["versions"] if v["version"] == index["current"]), None)
    return entry.get("parent") if entry else None
