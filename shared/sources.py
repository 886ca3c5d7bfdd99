"""Where a model can come from: the source chain of a ModelSpec.

A source either resolves to a location the loader can read, or says why it cannot
(SourceUnavailable), so a failed load can name every source tried and the setting that fixes it.
Order in a spec: a configured local path, then a configured hub id (when the hub is allowed and
reachable), then the embedded package artifact.

A source may carry its own `size_estimate` (bytes held once loaded): the registry makes room for
the source it is about to load from, so a small offline model is not refused for the size of the
large model a configured source would have been. 0 means the spec's estimate.
"""
from __future__ import annotations

import socket
import time
from dataclasses import dataclass
from pathlib import Path

from shared import artifacts
from shared.config import raw, settings


class SourceUnavailable(RuntimeError):
    """This source cannot serve the model now; the message says why. `fix`, when given, replaces
    the spec's fix hint (a damaged cache file is fixed by trying again, not by a reinstall)."""

    def __init__(self, message: str, fix: str = ""):
        super().__init__(message)
        self.fix = fix


class NotConfigured(SourceUnavailable):
    """The source's setting is empty: not a failure, so a load that falls back past it does not
    report it (it is still named when no source loads)."""


@dataclass(frozen=True)
class Resolved:
    kind: str  # "local", "hub" or "embedded"
    location: str  # a path, or a hub id
    label: str  # shown in the status table

    @property
    def path(self) -> Path:
        return Path(self.location)


@dataclass(frozen=True)
class LocalPath:
    """A folder or file named by a setting; skipped while the setting is empty."""

    setting: str
    size_estimate: int = 0
    kind = "local"

    def describe(self) -> str:
        return f"local path (${self.setting})"

    def resolve(self) -> Resolved:
        value = raw(self.setting)
        if not value:
            raise NotConfigured(f"${self.setting} is not set")
        path = Path(value).expanduser()
        if not path.exists():
            raise SourceUnavailable(f"${self.setting}={value} does not exist")
        return Resolved("local", str(path), f"local: {path}")


_reachable_cache: dict[str, tuple[float, bool]] = {}


def hub_reachable(host: str = "huggingface.co", timeout: float = 3.0) -> bool:
    """One quick TCP connect, remembered for a minute, so an offline machine fails fast."""
    now = time.monotonic()
    cached = _reachable_cache.get(host)
    if cached and now - cached[0] < 60:
        return cached[1]
    try:
        socket.create_connection((host, 443), timeout=timeout).close()
        ok = True
    except OSError:
        ok = False
    _reachable_cache[host] = (now, ok)
    return ok


@dataclass(frozen=True)
class HubModel:
    """A hub id named by a setting; skipped while unset, offline, or unreachable."""

    setting: str
    size_estimate: int = 0
    kind = "hub"

    def describe(self) -> str:
        return f"hub model (${self.setting})"

    def resolve(self) -> Resolved:
        repo_id = raw(self.setting)
        if not repo_id:
            raise NotConfigured(f"${self.setting} is not set")
        if settings().offline:
            raise SourceUnavailable(f"hub not allowed (AIPM_OFFLINE=1 or HF_HUB_OFFLINE=1) for {repo_id}")
        if not hub_reachable():
            raise SourceUnavailable(f"hub not reachable for {repo_id}")
        return Resolved("hub", repo_id, f"hub: {repo_id}")


@dataclass(frozen=True)
class Embedded:
    """Files shipped inside registry packages, verified by size and sha256."""

    artifact: artifacts.Artifact
    size_estimate: int = 0
    kind = "embedded"

    def describe(self) -> str:
        return f"embedded {self.artifact.name} ({', '.join(self.artifact.packages)})"

    def resolve(self) -> Resolved:
        try:
            path = artifacts.materialize(self.artifact)
        except artifacts.CacheError as err:  # our cache file, not the package: no reinstall hint
            raise SourceUnavailable(str(err), fix=err.fix) from err
        except artifacts.ArtifactError as err:
            raise SourceUnavailable(f"{err}; install with: {self.artifact.install_hint()}") from err
        return Resolved("embedded", str(path), f"embedded: {self.artifact.name}")


@dataclass(frozen=True)
class Bundled:
    """A file in this repository's assets/, checked by size and sha256 like an embedded artifact."""

    path: str
    size: int
    sha256: str
    size_estimate: int = 0
    kind = "embedded"

    def describe(self) -> str:
        return f"bundled {self.path}"

    def resolve(self) -> Resolved:
        full = Path(__file__).resolve().parent.parent / self.path
        try:
            artifacts.verify(full, self.size, self.sha256)
        except artifacts.ArtifactError as err:
            raise SourceUnavailable(f"{err}; rebuild it with the training script or restore it from git") from err
        return Resolved("embedded", str(full), f"bundled: {self.path}")


class Server:
    """An OpenAI-compatible server named by a setting (its base URL, ending in /v1); skipped while unset.
    The model it serves holds no weights here (size 0)."""

    kind = "remote"
    size_estimate = 0

    def __init__(self, setting: str):
        self.setting = setting

    def describe(self) -> str:
        return f"OpenAI-compatible server (${self.setting})"

    def resolve(self) -> Resolved:
        url = raw(self.setting).rstrip("/")
        if not url:
            raise SourceUnavailable(f"${self.setting} is not set")
        return Resolved("remote", url, f"server: {url}")
