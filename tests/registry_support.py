"""Fakes the registry tests share: models of a given size, sources that resolve or fail, a settable
clock, and a registry built from specs."""
import time
from dataclasses import dataclass

from shared.registry import ModelRegistry, ModelSpec
from shared.sources import Resolved, SourceUnavailable

MB = 1_000_000


class FakeModel:
    def __init__(self, name, size):
        self.name, self.size = name, size

    def memory_bytes(self):
        return self.size


@dataclass(frozen=True)
class FakeSource:
    label: str = "fake"
    fail: str = ""
    kind = "embedded"

    def describe(self):
        return f"fake source {self.label}"

    def resolve(self):
        if self.fail:
            raise SourceUnavailable(self.fail)
        return Resolved("embedded", "/nowhere", self.label)



class Clock:
    def __init__(self):
        self.now = 1000.0

    def __call__(self):
        return self.now


def spec(name, size=10 * MB, loads=None, delay=0.0, fail_times=0, sources=(FakeSource(),), pinned=False):
    state = {"fails": fail_times}

    def loader(ctx):
        if delay:
            time.sleep(delay)
        if state["fails"] > 0:
            state["fails"] -= 1
            raise OSError("disk on fire")
        if loads is not None:
            loads.append(name)
        return FakeModel(name, size)

    return ModelSpec(name=name, loader=loader, sources=sources, dtype_policy="none", device_policy="cpu",
                     size_estimate=size, pinned=pinned, fix_hint=f"set AIPM_{name.upper()}_PATH")


def make(budget=100 * MB, keep_alive=0.0, clock=None, *specs):
    registry = ModelRegistry(budget_bytes=budget, keep_alive_s=keep_alive, clock=clock or time.monotonic,
                             wait_for_room_s=0.5)
    for s in specs:
        registry.register(s)
    return registry


def state(registry, name):
    return registry.status_of(name)["state"]
