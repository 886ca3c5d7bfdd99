"""The model registry: every model in the process is loaded, shared, leased and evicted here.

Products declare a ModelSpec (shared/specs.py) and ask for the model by name:

    with registry.use("text-encoder") as encoder:
        vectors = encoder.encode(texts)

The first `use` loads it (lazily), through the spec's source chain. A model under a lease is never
evicted. Like Ollama's scheduler, one load runs at a time, and every reason to drop a model (room
before a load, a load bigger than its estimate, the keep-alive, the System tab's Unload) goes
through one method, `_evict`. Memory is measured from the loaded model's tensors.
"""
from __future__ import annotations

import contextlib
import gc
import logging
import threading
import time
from dataclasses import dataclass, field
from typing import Any, Callable, Iterator

from shared import artifacts
from shared import device as devices
from shared.config import parse_bytes, settings
from shared.memory import measure_bytes
from shared.progress import Progress, no_progress
from shared.sources import NotConfigured, Resolved, SourceUnavailable
from shared.specs import (LoadContext, MemoryBudgetError, ModelInUseError, ModelLoadError,  # noqa: F401
                          ModelSpec, State, UnknownModelError, placement_of, size_estimate)

log = logging.getLogger(__name__)


def _mb(n: int) -> str:
    return f"{n / 1e6:,.0f} MB"


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
        # Guards every entry's state/leases; notified on release. Re-entrant (Condition's default
        # RLock), so _evict can be asked from inside _make_room's wait loop.
        self._state = threading.Condition()
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
        """Add a spec. Registering the same spec again keeps its entry (and a loaded model); another
        spec under a name that is loaded, loading or leased is refused: replacing it would orphan the
        model (its unloader never runs) and its leases."""
        with self._state:
            old = self._entries.get(spec.name)
            if old is not None and old.spec is spec:
                return
            if old is not None and (old.state in (State.LOADED, State.LOADING) or old.leases):
                raise ValueError(f"model {spec.name} is {old.state.value} ({old.leases} lease(s)); "
                                 "unload it before replacing its spec")
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

    def available_sources(self, name: str) -> Iterator[Resolved]:
        """The sources of `name` that resolve now, in the order a load tries them (nothing is loaded)."""
        for source in self.spec(name).sources:
            try:
                yield source.resolve()
            except SourceUnavailable:
                continue

    def would_load(self, name: str) -> Resolved | None:
        """The source a load of `name` would start with, or None when no source is available."""
        return next(self.available_sources(name), None)

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
            return self._used_locked()

    def _used_locked(self) -> int:
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
                self._load(entry, progress or no_progress)
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
                entry.device, entry.dtype = placement_of(model, placement)
                entry.bytes = size
                entry.load_seconds = time.perf_counter() - start
                entry.state = State.LOADED
                self._touch(entry)
            log.info("loaded %s from %s in %.1fs (%.0f MB)", spec.name, resolved.label,
                     entry.load_seconds, size / 1e6)
            self._notify("load", spec.name, reason=resolved.label, seconds=entry.load_seconds, mb=size / 1e6)
            # The measured size may exceed the estimate: evict idle others if now over budget.
            self._evict("memory budget", limit=self.budget_bytes, exclude=spec.name)
            progress(1.0, f"model {spec.name} loaded")
            self._ensure_reaper()

    estimate = staticmethod(size_estimate)

    def _load_from_chain(self, spec: ModelSpec, progress: Progress, attempts: list) -> tuple[Any, Resolved, tuple, int]:
        device = devices.resolve_device(spec.device_policy)
        dtype = None if spec.dtype_policy == "none" else devices.resolve_dtype(device, spec.dtype_policy)
        fix = ""  # a source's own fix (a damaged cache file: try again) beats the spec's hint
        unset = []  # sources whose setting is empty: named only if nothing loads
        for source in spec.sources:
            try:
                resolved = source.resolve()
            except SourceUnavailable as why:
                attempts.append((source.describe(), str(why)))
                if isinstance(why, NotConfigured):
                    unset.append(attempts[-1])
                fix = fix or why.fix
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
            attempts[:] = [a for a in attempts if a not in unset]
            return model, resolved, (device, str(dtype).replace("torch.", "") if dtype is not None else ""), estimate
        raise ModelLoadError(spec.name, attempts, fix or spec.fix_hint)

    # ---- eviction: one owner -------------------------------------------------------------------
    def _evict(self, reason: str, *, limit: int | None = None, names: tuple[str, ...] = (),
               idle_for: float | None = None, exclude: str = "", pinned_too: bool = False) -> list[str]:
        """The only place a model is dropped. Candidates are loaded models without a lease (a lease
        always blocks), unpinned unless `pinned_too` (an explicit unload), among `names` when given,
        unused for `idle_for` seconds when given, never `exclude`. Least recently used go first, until
        at most `limit` bytes are in use (None: every candidate). Returns the names dropped."""
        dropped = []
        with self._state:
            now = self._clock()
            candidates = sorted((e for e in self._entries.values()
                                 if e.state == State.LOADED and e.leases == 0 and e.spec.name != exclude
                                 and (pinned_too or not e.spec.pinned) and (not names or e.spec.name in names)
                                 and (idle_for is None or now - e.last_used >= idle_for)),
                                key=lambda e: e.last_used)
            for entry in candidates:
                if limit is not None and self._used_locked() <= limit:
                    break
                why = reason if idle_for is None else f"idle for {now - entry.last_used:.0f}s"
                self._notify("unload", entry.spec.name, reason=why, mb=entry.bytes / 1e6)
                model, entry.model = entry.model, None
                entry.state = State.NOT_LOADED
                entry.bytes = 0
                entry.source = entry.note = ""
                if entry.spec.unloader is not None and model is not None:
                    try:
                        entry.spec.unloader(model)
                    except Exception:
                        log.warning("unloader of %s failed", entry.spec.name, exc_info=True)
                log.info("unloaded %s (%s)", entry.spec.name, why)
                dropped.append(entry.spec.name)
        if dropped:  # memory back to the OS and, on CUDA, to the device
            gc.collect()
            devices.empty_device_cache()
        return dropped

    def _make_room(self, needed: int, exclude: str) -> None:
        """Evict idle models until `needed` more bytes fit; wait (up to wait_for_room_s) for models in
        use by other requests; raise MemoryBudgetError when waiting cannot help or takes too long."""
        budget = self.budget_bytes
        if needed > budget:
            raise MemoryBudgetError(
                f"model {exclude} needs about {_mb(needed)}, more than the whole memory budget of "
                f"{_mb(budget)} (raise AIPM_MEMORY_BUDGET)")
        deadline = self._clock() + self._wait_for_room_s
        with self._state:
            while True:
                self._evict("memory budget", limit=budget - needed, exclude=exclude)
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

    def unload(self, name: str) -> bool:
        """Unload a model now, pinned or not; False if it is not loaded; ModelInUseError while a lease
        is held."""
        entry = self._entry(name)
        with self._state:
            if entry.state != State.LOADED:
                return False
            if entry.leases:
                raise ModelInUseError(name, entry.leases)
            return bool(self._evict("requested", names=(name,), pinned_too=True))

    def peek(self, name: str) -> Any:
        """The loaded model, or None: no lease, no load (to ask what is loaded, e.g. whether it is a
        fallback that a newly installed engine should replace)."""
        entry = self._entry(name)
        with self._state:
            return entry.model if entry.state == State.LOADED else None

    def reap_idle(self) -> list[str]:
        """Unload models unused for longer than the keep-alive (0 = never)."""
        if self._keep_alive <= 0:
            return []
        return self._evict("keep-alive", idle_for=self._keep_alive)

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

    def _notify(self, event: str, name: str, **details) -> None:
        for listener in self.listeners:
            try:
                listener(event, name, **details)
            except Exception:
                log.debug("registry listener failed", exc_info=True)

    # ---- status ------------------------------------------------------------------------------
    def status_of(self, name: str) -> dict:
        """One model's state as data (bytes, seconds, wall-clock time); the System tab formats it."""
        entry = self._entry(name)
        with self._state:
            loaded = entry.state == State.LOADED
            return {
                "name": name,
                "state": entry.state.value,
                "source": entry.source,
                "device": entry.device,
                "dtype": entry.dtype,
                "bytes": entry.bytes if loaded else entry.spec.size_estimate,  # measured, else the estimate
                "load_seconds": entry.load_seconds if loaded else None,
                "last_used": entry.last_used_wall or None,  # time.time() of the last use
                "leases": entry.leases,
                "pinned": entry.spec.pinned,
                "note": entry.error or entry.note,
                "description": entry.spec.description,
            }

    def status(self) -> list[dict]:
        return [self.status_of(name) for name in self.names()]
