"""Per-request output folders (result CSVs, PNGs, subtitles) that do not pile up.

Every folder is made under one root, `<temp>/aipm-outputs`, and folders older than
AIPM_OUTPUT_TTL seconds are removed: at start-up, and at most once a minute when a new folder is
made. Gradio copies what a handler returns into its own cache, which `delete_cache` on the
Blocks empties on the same schedule (app.py).
"""
from __future__ import annotations

import logging
import os
import shutil
import tempfile
import threading
import time
from pathlib import Path

from shared.config import settings

log = logging.getLogger(__name__)

_SWEEP_EVERY_S = 60.0
_last_sweep = 0.0
_lock = threading.Lock()


def root() -> Path:
    path = Path(tempfile.gettempdir()) / "aipm-outputs"
    path.mkdir(parents=True, exist_ok=True)
    return path


def request_dir(prefix: str) -> Path:
    """A new empty folder for one request's files, e.g. request_dir("insights")."""
    _maybe_sweep()
    return Path(tempfile.mkdtemp(prefix=f"{prefix}-", dir=root()))


def sweep(max_age_s: float | None = None, now: float | None = None) -> int:
    """Remove output folders older than max_age_s (default AIPM_OUTPUT_TTL); returns how many."""
    max_age_s = settings().output_ttl_s if max_age_s is None else max_age_s
    now = time.time() if now is None else now
    removed = 0
    for entry in root().iterdir():
        try:
            if now - entry.stat().st_mtime < max_age_s:
                continue
            if entry.is_dir() and not entry.is_symlink():
                shutil.rmtree(entry, ignore_errors=True)
            else:
                entry.unlink(missing_ok=True)
            removed += 1
        except OSError:  # removed by another process meanwhile
            continue
    if removed:
        log.info("removed %d output folders older than %.0f s", removed, max_age_s)
    return removed


def _maybe_sweep() -> None:
    global _last_sweep
    with _lock:
        if time.monotonic() - _last_sweep < _SWEEP_EVERY_S:
            return
        _last_sweep = time.monotonic()
    try:
        sweep()
    except OSError as err:  # cleanup is housekeeping; never fail a request for it
        log.warning("output cleanup failed: %s", err)


def disk_usage() -> tuple[int, int]:
    """(folders, bytes) under the output root, for the load bench and the System tab."""
    folders, total = 0, 0
    for entry in root().iterdir():
        folders += 1
        for dirpath, _, files in os.walk(entry):
            for name in files:
                try:
                    total += os.path.getsize(os.path.join(dirpath, name))
                except OSError:
                    pass
    return folders, total
