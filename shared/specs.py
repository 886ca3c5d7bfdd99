"""What the registry is told and what it can say back: ModelSpec (how to load a model), LoadContext (what a
loader gets), the model states, and the errors a load or unload can raise."""
from __future__ import annotations

from dataclasses import dataclass
from enum import Enum
from typing import Any, Callable

from shared.progress import Progress
from shared.sources import Resolved


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


class ModelInUseError(RuntimeError):
    """An explicit unload asked for a model that a request is using right now."""

    def __init__(self, name: str, leases: int):
        self.name, self.leases = name, leases
        super().__init__(f"Model {name} is in use ({leases} request(s)); try again when it is idle.")


class UnknownModelError(KeyError):
    pass


def size_estimate(spec: ModelSpec, source=None) -> int:
    """Bytes to make room for before loading from `source`: the source's own estimate, else the spec's."""
    return int(getattr(source, "size_estimate", 0) or spec.size_estimate)


def placement_of(model: Any, asked: tuple[str, str]) -> tuple[str, str]:
    """Device and dtype for the status table: the model's own, or those of the torch model a wrapper
    keeps in `.model`, else those the loader was asked for."""
    for candidate in (model, getattr(model, "model", None)):
        dev, dtype = getattr(candidate, "device", None), getattr(candidate, "dtype", None)
        if dev is not None:
            return str(dev), str(dtype).replace("torch.", "") if dtype is not None else ""
    return asked
