"""The model registry: every model in the process is loaded, shared, leased and evicted here.

Products declare a ModelSpec and ask for the model by name:

    with registry.use("text-encoder") as encoder:
        vectors = encoder.encode(texts)

The first `use` loads it (lazily), through the spec's source chain. A model under a lease is never
evicted. Like Ollama's scheduler, one load runs at a time, and before a load the registry makes
room under the memory budget by unloading idle models, least recently used first. A keep-alive
unloads models left unused for too long. Memory is measured from the loaded model's tensors.
"""
from __future__ import annotations

import contextlib
import gc
import logging
import threading
import time
from dataclasses import dataclass, field
from enum import Enum
from typing import Any, Callable

from shared import artifacts
from shared import device as devices
from shared.config import parse_bytes, settings
from shared.memory import measure_bytes
from shared.sources import Resolved, SourceUnavailable

log = logging.getLogger(__name__)

Progress = Callable[[float, str], None]


class State(str, Enum):
    NOT_LOADED = "not loaded"
    LOADING = "loading"
    LOADED = "loaded"
    FAILED = "failed"


@dataclass
class LoadContext:
    """What a loader gets: where the model is, where it should go, and a way to report progress."""

    spec: "ModelSpec"
    source: Resolved
    device: str
    dtype: Any  # a torch dtype, or None for a spec with dtype_policy="none"
    progress: Progress

    @property
    def path(self):
        return self.source.path


@dataclass(frozen=True)
class ModelSpec:
    """Everything the registry needs to know to load a model.

    loader(ctx) returns the model object; `sources` is tried in order; `size_estimate` (bytes) is
    used to make room before loading (a source's own `size_estimate` wins for that source), the
    measured size afterwards. device_policy "auto" follows AIPM_DEVICE; dtype_policy "auto"
    follows AIPM_DTYPE, "none" skips torch (non-torch models).
    `fix_hint` names the setting that fixes a failed load.
    """

    name: str
    loader: Callable[[LoadContext], Any]
    sources: tuple
    description: str = ""
    device_policy: str = "auto"
    dtype_policy: str = "auto"
    size_estimate: int = 0
    pinned: bool = False
    fix_hint: str = ""
    unloader: Callable[[Any], None] | None = None


class ModelLoadError(RuntimeError):
    """A model could not be loaded from any source; the message names each one and why."""

    def __init__(self, name: str, attempts: list[tuple[str, str]], fix_hint: str = ""):
        self.name = name
        self.attempts = attempts
        lines = [f"Model '{name}' could not be loaded. Sources tried:"]
        lines += [f"  - {source}: {reason}" for source, reason in attempts]
        if fix_hint:
            lines.append(f"To fix: {fix_hint}")
        super().__init__("\n".join(lines))


class MemoryBudgetError(RuntimeError):
    """No room for a model under the memory budget. kind "budget": it cannot fit even with every
    idle model unloaded (raise AIPM_MEMORY_BUDGET); "busy": models in use by other requests hold
    the room (try again when they are idle)."""

    def __init__(self, message: str, kind: str = "budget"):
        super().__init__(message)
        self.kind = kind


def _mb(n: int) -> str:
    return f"{n / 1e6:,.0f} MB"


class ModelInUseError(RuntimeError):
    """An explicit unload asked for a model that a request is using right now."""

    def __init__(self, name: str, leases: int):
        self.name, self.leases = name, leases
        super().__init__(f"Model {name} is in use ({leases} request(s)); try again when it is idle.")


class UnknownModelError(KeyError):
    pass


@dataclass
class _Entry:
    spec: ModelSpec
    lock: threading.Lock = field(default_factory=threading.Lock)  # serializes loads of this model
    state: State = State.NOT_LOADED
    model: Any = None
    source: str = ""
    note: str = ""  # e.g. "fell back to embedded: hub not reachable"
    device: str = ""
    dtype: str = ""
    bytes: int = 0
    load_seconds: float = 0.0
    last_used: float = 0.0  # registry clock
    last_used_wall: float = 0.0  # time.time(), for display
    leases: int = 0
    error: str = ""


class ModelRegistry:
    def __init__(self, budget_bytes: int | None = None, keep_alive_s: float | None = None,
                 clock: Callable[[], float] = time.monotonic, wait_for_room_s: float = 60.0):
        self._entries: dict[str, _Entry] = {}
        self._state = threading.Condition()  # guards every entry's state/leases; notified on release
        # One load at a time, so memory never spikes with two. Re-entrant: a loader may lease a model
        # it depends on (loaded first, in the same thread).
        self._load_lock = threading.RLock()
        self._budget = budget_bytes
        self._keep_alive = settings().keep_alive_s if keep_alive_s is None else keep_alive_s
        self._clock = clock
        self._wait_for_room_s = wait_for_room_s
        self._held = threading.local()  # names leased by the current thread
        self._reaper: threading.Thread | None = None
        # Called as listener(event, name, reason=..., seconds=..., mb=...) on load, unload and failed
        # load (the Insights tab's model events); must not block: it may run under self._state.
        self.listeners: list[Callable[..., None]] = []

    # ---- specs -------------------------------------------------------------------------------
    def register(self, spec: ModelSpec) -> None:
        with self._state:
            if spec.name in self._entries and self._entries[spec.name].spec is not spec:
                old = self._entries[spec.name]
                if old.state == State.LOADED:
                    raise ValueError(f"model {spec.name} is loaded; unload it before replacing its spec")
            self._entries[spec.name] = _Entry(spec)

    def names(self) -> list[str]:
        return list(self._entries)

    def spec(self, name: str) -> ModelSpec:
        return self._entry(name).spec

    def _entry(self, name: str) -> _Entry:
        try:
            return self._entries[name]
        except KeyError:
            raise UnknownModelError(f"unknown model {name!r}; known: {', '.join(self._entries)}") from None

    # ---- budget ------------------------------------------------------------------------------
    @property
    def budget_bytes(self) -> int:
        if self._budget is None:
            configured = settings().memory_budget
            if configured.lower() == "auto":
                dev = devices.resolve_device()
                share = 0.85 if dev == "cuda" else 0.5
                self._budget = int(devices.total_memory(dev) * share)
            else:
                self._budget = parse_bytes(configured)
        return self._budget

    def used_bytes(self) -> int:
        with self._state:
            return sum(e.bytes for e in self._entries.values() if e.state == State.LOADED)

    # ---- leases ------------------------------------------------------------------------------
    @contextlib.contextmanager
    def use(self, name: str, progress: Progress | None = None):
        """Lease a model (loading it first if needed); it cannot be evicted until the block ends."""
        model = self._acquire(name, progress)
        held = self._held_names()
        held.append(name)
        try:
            yield model
        finally:
            held.remove(name)
            self._release(name)

    def _held_names(self) -> list[str]:
        if not hasattr(self._held, "names"):
            self._held.names = []
        return self._held.names

    def _acquire(self, name: str, progress: Progress | None) -> Any:
        entry = self._entry(name)
        while True:
            with self._state:
                if entry.state == State.LOADED:
                    entry.leases += 1
                    self._touch(entry)
                    return entry.model
            with entry.lock:  # the first caller loads; the others wait here, then find it loaded
                with self._state:
                    if entry.state == State.LOADED:
                        continue
                self._load(entry, progress or _no_progress)
                with self._state:
                    if entry.state == State.LOADED:
                        entry.leases += 1
                        self._touch(entry)
                        return entry.model

    def _release(self, name: str) -> None:
        entry = self._entry(name)
        with self._state:
            entry.leases -= 1
            self._touch(entry)
            self._state.notify_all()

    def _touch(self, entry: _Entry) -> None:
        entry.last_used = self._clock()
        entry.last_used_wall = time.time()

    # ---- loading -----------------------------------------------------------------------------
    def load(self, name: str, progress: Progress | None = None) -> dict:
        """Load without holding a lease (the System tab's Load button, preload)."""
        with self.use(name, progress):
            pass
        return self.status_of(name)

    def preload(self, names: list[str] | tuple[str, ...] | None = None) -> list[dict]:
        """Eager mode: load these models now (all when None), each failure logged, not raised."""
        out = []
        for name in names or self.names():
            try:
                out.append(self.load(name))
            except Exception as err:  # one bad model must not stop the others
                log.error("preload of %s failed: %s", name, err)
                out.append(self.status_of(name))
        return out

    def _load(self, entry: _Entry, progress: Progress) -> None:
        spec = entry.spec
        with self._load_lock:
            with self._state:
                entry.state = State.LOADING
                entry.error = ""
            progress(0.0, f"loading model {spec.name}...")
            attempts: list[tuple[str, str]] = []
            start = time.perf_counter()
            try:
                model, resolved, placement, estimate = self._load_from_chain(spec, progress, attempts)
            except Exception as err:
                if not isinstance(err, (ModelLoadError, MemoryBudgetError)):
                    err = ModelLoadError(spec.name, attempts or [("loader", repr(err))], spec.fix_hint)
                with self._state:
                    entry.state = State.FAILED  # not poisoned: the next use tries again
                    entry.error = str(err)
                log.error("%s", err)
                self._notify("fail", spec.name, reason=str(err))
                raise err
            size = measure_bytes(model) or estimate
            with self._state:
                entry.model = model
                entry.source = resolved.label
                entry.note = "; ".join(f"{s}: {r}" for s, r in attempts)
                entry.device, entry.dtype = self._placement(model, placement)
                entry.bytes = size
                entry.load_seconds = time.perf_counter() - start
                entry.state = State.LOADED
                self._touch(entry)
            log.info("loaded %s from %s in %.1fs (%.0f MB)", spec.name, resolved.label,
                     entry.load_seconds, size / 1e6)
            self._notify("load", spec.name, reason=resolved.label, seconds=entry.load_seconds, mb=size / 1e6)
            # The measured size may exceed the estimate: evict idle others if now over budget.
            self._evict_idle_until(self.budget_bytes, exclude=spec.name)
            progress(1.0, f"model {spec.name} loaded")
            self._ensure_reaper()

    @staticmethod
    def estimate(spec: ModelSpec, source=None) -> int:
        """Bytes to make room for: the source's own estimate, else the spec's."""
        return int(getattr(source, "size_estimate", 0) or spec.size_estimate)

    def _load_from_chain(self, spec: ModelSpec, progress: Progress, attempts: list) -> tuple[Any, Resolved, tuple, int]:
        device = devices.resolve_device(spec.device_policy)
        dtype = None if spec.dtype_policy == "none" else devices.resolve_dtype(device, spec.dtype_policy)
        fix = ""  # a source's own fix (a damaged cache file: try again) beats the spec's hint
        for source in spec.sources:
            try:
                resolved = source.resolve()
            except SourceUnavailable as why:
                attempts.append((source.describe(), str(why)))
                fix = fix or getattr(why, "fix", "")
                continue
            estimate = self.estimate(spec, source)
            self._make_room(estimate, exclude=spec.name)  # for the source that loads, not the largest
            try:
                model = spec.loader(LoadContext(spec, resolved, device, dtype, progress))
            except Exception as err:
                log.warning("loading %s from %s failed", spec.name, resolved.label, exc_info=True)
                attempts.append((source.describe(), f"{type(err).__name__}: {err}"))
                fix = fix or (err.fix if isinstance(err, artifacts.CacheError) else "")
                continue
            # Report earlier sources only if they were configured and failed (a visible fallback).
            attempts[:] = [a for a in attempts if "is not set" not in a[1]]
            return model, resolved, (device, str(dtype).replace("torch.", "") if dtype is not None else ""), estimate
        raise ModelLoadError(spec.name, attempts, fix or spec.fix_hint)

    @staticmethod
    def _placement(model: Any, asked: tuple[str, str]) -> tuple[str, str]:
        """Device and dtype for the status table: the model's own, or those of the torch model
        a wrapper keeps in `.model`, else those the loader was asked for."""
        for candidate in (model, getattr(model, "model", None)):
            dev, dtype = getattr(candidate, "device", None), getattr(candidate, "dtype", None)
            if dev is not None:
                return str(dev), str(dtype).replace("torch.", "") if dtype is not None else ""
        return asked

    # ---- eviction ----------------------------------------------------------------------------
    def _make_room(self, needed: int, exclude: str) -> None:
        budget = self.budget_bytes
        if needed > budget:
            raise MemoryBudgetError(
                f"model {exclude} needs about {_mb(needed)}, more than the whole memory budget of "
                f"{_mb(budget)} (raise AIPM_MEMORY_BUDGET)")
        deadline = self._clock() + self._wait_for_room_s
        with self._state:
            while True:
                self._evict_idle_locked(budget - needed, exclude)
                used = self._used_locked()
                if used + needed <= budget:
                    return
                loaded = [e for e in self._entries.values() if e.state == State.LOADED and e.spec.name != exclude]
                mine = set(self._held_names())
                busy = [e.spec.name for e in loaded if e.leases > 0 and e.spec.name not in mine]
                if not busy:  # only pinned models or this thread's own leases hold it: waiting won't help
                    held = ", ".join(f"{e.spec.name} ({'pinned' if e.spec.pinned else 'used by this same request'})"
                                     for e in loaded)
                    raise MemoryBudgetError(
                        f"no room for model {exclude} (about {_mb(needed)}): {held or 'other models'} hold "
                        f"{_mb(used)} of the whole {_mb(budget)} memory budget (raise AIPM_MEMORY_BUDGET)")
                if self._clock() >= deadline:
                    raise MemoryBudgetError(
                        f"no room for model {exclude} (about {_mb(needed)}) while {', '.join(busy)} "
                        f"{'is' if len(busy) == 1 else 'are'} in use ({_mb(used)} of the {_mb(budget)} memory "
                        "budget); try again when they are idle, or raise AIPM_MEMORY_BUDGET", kind="busy")
                self._state.wait(timeout=1.0)  # a lease release notifies

    def _used_locked(self) -> int:
        return sum(e.bytes for e in self._entries.values() if e.state == State.LOADED)

    def _evict_idle_until(self, limit: int, exclude: str = "") -> list[str]:
        with self._state:
            return self._evict_idle_locked(limit, exclude)

    def _evict_idle_locked(self, limit: int, exclude: str) -> list[str]:
        """Unload idle, unpinned models, least recently used first, until at most `limit` is used."""
        evicted = []
        idle = sorted((e for e in self._entries.values()
                       if e.state == State.LOADED and e.leases == 0 and not e.spec.pinned
                       and e.spec.name != exclude), key=lambda e: e.last_used)
        for entry in idle:
            if self._used_locked() <= limit:
                break
            self._drop_locked(entry, reason="memory budget")
            evicted.append(entry.spec.name)
        if evicted:
            self._after_unload()
        return evicted

    def _drop_locked(self, entry: _Entry, reason: str) -> None:
        self._notify("unload", entry.spec.name, reason=reason, mb=entry.bytes / 1e6)
        model, entry.model = entry.model, None
        entry.state = State.NOT_LOADED
        entry.bytes = 0
        entry.source = entry.note = ""
        if entry.spec.unloader is not None and model is not None:
            try:
                entry.spec.unloader(model)
            except Exception:
                log.warning("unloader of %s failed", entry.spec.name, exc_info=True)
        log.info("unloaded %s (%s)", entry.spec.name, reason)

    def _notify(self, event: str, name: str, **details) -> None:
        for listener in self.listeners:
            try:
                listener(event, name, **details)
            except Exception:
                log.debug("registry listener failed", exc_info=True)

    @staticmethod
    def _after_unload() -> None:
        gc.collect()
        devices.empty_device_cache()

    def unload(self, name: str) -> bool:
        """Unload an idle model now; False if it is not loaded; MemoryBudgetError-free, but
        refuses (RuntimeError) while a lease is held."""
        entry = self._entry(name)
        with self._state:
            if entry.state != State.LOADED:
                return False
            if entry.leases:
                raise ModelInUseError(name, entry.leases)
            self._drop_locked(entry, reason="requested")
        self._after_unload()
        return True

    def reap_idle(self) -> list[str]:
        """Unload models unused for longer than the keep-alive (0 = never)."""
        if self._keep_alive <= 0:
            return []
        now = self._clock()
        reaped = []
        with self._state:
            for entry in self._entries.values():
                if (entry.state == State.LOADED and entry.leases == 0 and not entry.spec.pinned
                        and now - entry.last_used >= self._keep_alive):
                    self._drop_locked(entry, reason=f"idle for {now - entry.last_used:.0f}s")
                    reaped.append(entry.spec.name)
        if reaped:
            self._after_unload()
        return reaped

    def _ensure_reaper(self) -> None:
        if self._keep_alive <= 0 or (self._reaper and self._reaper.is_alive()):
            return
        interval = max(1.0, min(30.0, self._keep_alive / 4))

        def loop():
            while True:
                time.sleep(interval)
                try:
                    self.reap_idle()
                except Exception:
                    log.exception("keep-alive reaper failed")

        self._reaper = threading.Thread(target=loop, name="registry-reaper", daemon=True)
        self._reaper.start()

    # ---- status ------------------------------------------------------------------------------
    def status_of(self, name: str) -> dict:
        entry = self._entry(name)
        with self._state:
            return {
                "name": name,
                "state": entry.state.value,
                "source": entry.source,
                "device": entry.device,
                "dtype": entry.dtype,
                "MB": round((entry.bytes if entry.state == State.LOADED else entry.spec.size_estimate) / 1e6, 1),
                "load s": round(entry.load_seconds, 2) if entry.state == State.LOADED else None,
                "last used": time.strftime("%H:%M:%S", time.localtime(entry.last_used_wall)) if entry.last_used_wall else "",
                "leases": entry.leases,
                "pinned": entry.spec.pinned,
                "note": entry.error or entry.note,
                "description": entry.spec.description,
            }

    def status(self) -> list[dict]:
        return [self.status_of(name) for name in self.names()]


def _no_progress(fraction: float, desc: str) -> None:
    pass
