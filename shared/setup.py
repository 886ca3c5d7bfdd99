"""Set-up steps: what a machine needs beyond requirements.txt, run in order by one runner.

The layer above hands the steps in (this module knows none of them). Each `Step` is idempotent: `is_done`
says whether there is anything to do, `run(report)` does it, reporting `report(done, total, text)`, and a
step that raises is recorded as failed with its message while the next steps still run. `skip` may give
a reason not to run a step on this machine. The state of every step goes to a JSON status file in the
cache folder (`<AIPM_CACHE_DIR>/setup-status.json`), written as it changes, so the System tab of this
process, of a restarted one or of another one reads it (`read_status`). One runner at a time per cache
folder (a file lock): a second one waits, then finds the steps done.

    runner = Runner(steps)
    runner.run()            # in the foreground (scripts/setup.sh), or
    runner.start()          # in a background thread, after the UI is up (a Space)
"""
from __future__ import annotations

import json
import os
import threading
import time
import traceback
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

PENDING, RUNNING, DONE, FAILED, SKIPPED, INTERRUPTED = "pending", "running", "done", "failed", "skipped", "interrupted"
FINAL = (DONE, FAILED, SKIPPED)
Report = Callable[[int, int, str], None]
COLUMNS = ["step", "state", "progress", "seconds", "note"]
EMBEDDED_STEP = "embedded-packages"  # the packages of requirements-embedded.txt (many models wait for it)


@dataclass(frozen=True)
class Step:
    name: str  # short id, stable (the status file's key)
    title: str  # what is happening while it runs, for people ("the faster engine building")
    is_done: Callable[[], bool]
    run: Callable[[Report], None]
    skip: Callable[[], str] = lambda: ""  # a reason not to run it on this machine; "" = run it
    after: Callable[[], None] | None = None  # in this process, once the step is done (switch to what it made)


def status_path() -> Path:
    from shared.artifacts import cache_dir

    return cache_dir() / "setup-status.json"


def background_wanted() -> bool:
    """AIPM_SETUP: `background` runs the steps in a thread after the UI is up, `off` never at start-up,
    `auto` (default) in the background on a Hugging Face Space (SPACE_ID set), else not (scripts/setup.sh did)."""
    from shared.config import raw

    mode = raw("AIPM_SETUP").lower()
    return mode == "background" or (mode == "auto" and bool(os.environ.get("SPACE_ID")))


@dataclass
class Runner:
    steps: list[Step]
    path: Path | None = None
    echo: Callable[[str], None] | None = None  # a line per change of state (the command line prints them)
    min_interval_s: float = 0.5  # progress writes at most this often (state changes always)
    thread: threading.Thread | None = field(default=None, init=False)

    def __post_init__(self):
        self.path = Path(self.path or status_path())
        self._rows = [dict(name=s.name, title=s.title, state=PENDING, done=0, total=0, text="", note="",
                           started=None, finished=None) for s in self.steps]
        self._started = time.time()
        self._written = 0.0
        self._lock = threading.Lock()

    # ---- running --------------------------------------------------------------------------------
    def start(self) -> threading.Thread:
        """Run in a daemon thread; returns it (joined by tests)."""
        self.thread = threading.Thread(target=self.run, name="setup-steps", daemon=True)
        self.thread.start()
        return self.thread

    def run(self) -> list[dict]:
        """Every step in order; returns the rows (the status file's `steps`)."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with _file_lock(self.path.with_suffix(".lock")):  # another runner's status stays until it ends
            self._started = time.time()
            self._write(force=True)
            for step, row in zip(self.steps, self._rows):
                self._one(step, row)
        self._write(force=True, finished=time.time())
        return [dict(r) for r in self._rows]

    def _one(self, step: Step, row: dict) -> None:
        start = time.time()
        row.update(started=start, state=RUNNING, text="checking")
        self._write(force=True)
        try:
            reason = step.skip()
            if reason:
                row.update(state=SKIPPED, note=reason, text="")
            elif step.is_done():
                row.update(state=DONE, text="already done", done=row["total"] or 1, total=row["total"] or 1)
            else:
                self._say(f"{step.title}...")
                step.run(lambda done, total, text="": self._progress(row, done, total, text))
                if not step.is_done():
                    raise RuntimeError("it ran, but its result is not there (see the log)")
                row.update(state=DONE, text="done", done=row["total"] or 1, total=row["total"] or 1)
        except Exception as err:  # one failing step is noted; the next ones still run
            row.update(state=FAILED, note=_short(err), text="")
            traceback.print_exc()
        row["finished"] = time.time()
        self._say(f"{step.name}: {row['state']} in {row['finished'] - start:.1f} s"
                  + (f" ({row['note']})" if row["note"] else ""))
        self._write(force=True)
        if row["state"] == DONE and step.after is not None:
            try:
                step.after()
            except Exception:
                traceback.print_exc()

    def _progress(self, row: dict, done: int, total: int, text: str) -> None:
        row.update(done=int(done), total=int(total), text=str(text)[:200])
        self._write()

    def _say(self, line: str) -> None:
        if self.echo is not None:
            self.echo(f"setup: {line}")

    # ---- the status file --------------------------------------------------------------------------
    def rows(self) -> list[dict]:
        with self._lock:
            return [dict(r) for r in self._rows]

    def _write(self, force: bool = False, finished: float | None = None) -> None:
        now = time.time()
        if not force and now - self._written < self.min_interval_s:
            return
        with self._lock:
            self._written = now
            data = {"pid": os.getpid(), "started": self._started, "finished": finished, "updated": now,
                    "steps": [dict(r) for r in self._rows]}
            self.path.parent.mkdir(parents=True, exist_ok=True)
            part = self.path.with_name(f"{self.path.name}.{os.getpid()}.{threading.get_ident()}.part")
            part.write_text(json.dumps(data, indent=1), encoding="utf-8")
            os.replace(part, self.path)


class _file_lock:
    """An exclusive lock on a file (POSIX); elsewhere no lock."""

    def __init__(self, path: Path):
        self.path = path

    def __enter__(self):
        self.handle = open(self.path, "a+")
        try:
            import fcntl

            fcntl.flock(self.handle, fcntl.LOCK_EX)
        except ImportError:
            pass
        return self

    def __exit__(self, *exc):
        self.handle.close()  # releases the lock


def _short(err: Exception) -> str:
    text = str(err).strip().splitlines()
    return f"{type(err).__name__}: {text[-1] if text else ''}"[:300]


def _alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def read_status(path: Path | None = None) -> dict | None:
    """The last status written (by any process), or None when no set-up has run with this cache.
    Steps a dead process left pending or running read as `interrupted`."""
    path = Path(path or status_path())
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if data.get("finished") is None and not _alive(int(data.get("pid") or 0)):
        for row in data.get("steps", []):
            if row.get("state") in (PENDING, RUNNING):
                row["state"] = INTERRUPTED
    return data


def waiting_on(name: str, path: Path | None = None) -> dict | None:
    """While step `name` is pending or running: its row plus `index` (1-based), `count` (steps in all)
    and `minutes` since the set-up started; None once it is done, skipped, failed or interrupted, or
    when no set-up is recorded."""
    data = read_status(path)
    if not data:
        return None
    steps = data.get("steps", [])
    for index, row in enumerate(steps, 1):
        if row.get("name") == name and row.get("state") in (PENDING, RUNNING):
            return {**row, "index": index, "count": len(steps),
                    "minutes": max(0, int((time.time() - float(data.get("started") or time.time())) // 60))}
    return None


def failed(name: str, path: Path | None = None) -> str:
    """The note of step `name` when it failed, else ""."""
    data = read_status(path) or {}
    return next((r.get("note", "") for r in data.get("steps", []) if r.get("name") == name
                 and r.get("state") == FAILED), "")


def table_rows(path: Path | None = None) -> list[list]:
    """The System tab's table: step, state, progress, seconds, note."""
    data = read_status(path) or {}
    out = []
    for row in data.get("steps", []):
        total = row.get("total") or 0
        progress = f"{row.get('done', 0)}/{total}" if total else ""
        if row.get("text") and row.get("state") == RUNNING:
            progress = f"{progress} {row['text']}".strip()
        started, finished = row.get("started"), row.get("finished")
        seconds = round((finished or time.time()) - started, 1) if started else None
        out.append([row.get("name"), row.get("state"), progress, seconds, row.get("note", "")])
    return out
