"""The model registry with fake and tiny models: laziness, once-only loads, leases, eviction (one owner),
keep-alive, failures and retries, re-registration, the would-load query, status as data. Sources and
artifacts: test_sources.py."""
import threading
import time

import pytest

from shared.registry import MemoryBudgetError, ModelLoadError, ModelRegistry, ModelSpec, State  # noqa: F401
from shared.sources import HubModel, LocalPath
from tests.registry_support import MB, Clock, FakeModel, FakeSource, make, spec, state


def test_nothing_loads_until_first_use():
    loads = []
    registry = make(100 * MB, 0, None, spec("a", loads=loads))
    assert loads == [] and state(registry, "a") == "not loaded"
    with registry.use("a") as model:
        assert model.name == "a"
        assert registry.status_of("a")["leases"] == 1
    assert loads == ["a"]
    assert registry.status_of("a")["leases"] == 0
    with registry.use("a"):
        pass
    assert loads == ["a"], "a loaded model is reused, not reloaded"


def test_concurrent_first_requests_load_once():
    loads = []
    registry = make(100 * MB, 0, None, spec("a", loads=loads, delay=0.3))
    got, barrier = [], threading.Barrier(8)

    def worker():
        barrier.wait()
        with registry.use("a") as model:
            got.append(id(model))

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    assert loads == ["a"]
    assert len(set(got)) == 1 and len(got) == 8


def test_loads_of_different_models_do_not_overlap():
    active, peak = [0], [0]
    lock = threading.Lock()

    def tracking(name):
        def loader(ctx):
            with lock:
                active[0] += 1
                peak[0] = max(peak[0], active[0])
            time.sleep(0.2)
            with lock:
                active[0] -= 1
            return FakeModel(name, MB)
        return ModelSpec(name=name, loader=loader, sources=(FakeSource(),), dtype_policy="none", device_policy="cpu")

    registry = make(100 * MB, 0, None, *[tracking(n) for n in "abc"])
    threads = [threading.Thread(target=registry.load, args=(n,)) for n in "abc"]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    assert peak[0] == 1
    assert all(state(registry, n) == "loaded" for n in "abc")


def test_budget_evicts_least_recently_used_idle_model():
    clock = Clock()
    registry = make(100 * MB, 0, clock, spec("a", 40 * MB), spec("b", 40 * MB), spec("c", 40 * MB))
    registry.load("a")
    clock.now += 1
    registry.load("b")
    clock.now += 1
    with registry.use("a"):  # a is now more recently used than b
        pass
    clock.now += 1
    registry.load("c")  # needs room: b (least recently used) goes
    assert [state(registry, n) for n in "abc"] == ["loaded", "not loaded", "loaded"]
    assert registry.used_bytes() == 80 * MB


def test_lease_blocks_eviction():
    registry = make(100 * MB, 0, None, spec("a", 60 * MB), spec("b", 60 * MB))
    with registry.use("a"):
        with pytest.raises(MemoryBudgetError, match="no room for model b"):
            registry.load("b")  # a is leased by this very thread: refuse at once, no deadlock
        assert state(registry, "a") == "loaded"
    registry.load("b")  # a is idle now, so it is evicted
    assert state(registry, "a") == "not loaded" and state(registry, "b") == "loaded"


def test_load_waits_for_a_lease_held_elsewhere():
    registry = make(100 * MB, 0, None, spec("a", 60 * MB), spec("b", 60 * MB))
    registry._wait_for_room_s = 5
    leased, events = threading.Event(), []
    registry.listeners.append(lambda event, name, **_: events.append(f"{name} loaded") if (event, name) == ("load", "b") else None)

    def hold_a():
        with registry.use("a"):
            leased.set()
            time.sleep(0.5)  # b's load must wait here, not fail: the lease is another request's
            events.append("a released")

    th = threading.Thread(target=hold_a)
    th.start()
    leased.wait()
    registry.load("b")
    assert events == ["a released", "b loaded"], "b waited for a's lease to end"
    th.join()
    assert state(registry, "a") == "not loaded" and state(registry, "b") == "loaded"


def test_pinned_model_is_never_evicted():
    registry = make(100 * MB, 0, None, spec("a", 60 * MB, pinned=True), spec("b", 60 * MB))
    registry.load("a")
    with pytest.raises(MemoryBudgetError):
        registry.load("b")
    assert state(registry, "a") == "loaded"


def test_model_larger_than_budget_is_refused_with_the_setting_named():
    registry = make(100 * MB, 0, None, spec("big", 200 * MB))
    with pytest.raises(MemoryBudgetError, match="AIPM_MEMORY_BUDGET"):
        registry.load("big")


def test_measured_size_replaces_the_estimate():
    def loader(ctx):
        return FakeModel("x", 70 * MB)
    under = ModelSpec(name="x", loader=loader, sources=(FakeSource(),), dtype_policy="none", device_policy="cpu",
                      size_estimate=1 * MB)
    registry = make(100 * MB, 0, None, spec("a", 50 * MB), under)
    registry.load("a")
    registry.load("x")  # estimate fits; measured 70 MB does not fit beside a -> a is evicted after the load
    assert registry.status_of("x")["bytes"] == 70 * MB
    assert state(registry, "a") == "not loaded"


def test_keep_alive_unloads_idle_models():
    clock = Clock()
    registry = make(100 * MB, 60, clock, spec("a"), spec("b"))
    registry.load("a")
    clock.now += 30
    registry.load("b")
    clock.now += 31
    assert registry.reap_idle() == ["a"]
    with registry.use("b"):
        clock.now += 100
        assert registry.reap_idle() == [], "a leased model is not reaped"
    clock.now += 61
    assert registry.reap_idle() == ["b"]


def test_keep_alive_zero_means_forever():
    clock = Clock()
    registry = make(100 * MB, 0, clock, spec("a"))
    registry.load("a")
    clock.now += 10**6
    assert registry.reap_idle() == []
    assert state(registry, "a") == "loaded"


def test_failed_load_names_sources_and_does_not_poison():
    registry = make(100 * MB, 0, None, spec("a", fail_times=1))
    with pytest.raises(ModelLoadError) as info:
        registry.load("a")
    message = str(info.value)
    assert "Model 'a' could not be loaded" in message and "disk on fire" in message
    assert "AIPM_A_PATH" in message
    assert state(registry, "a") == "failed"
    assert "disk on fire" in registry.status_of("a")["note"]
    registry.load("a")  # the next request tries again
    assert state(registry, "a") == "loaded"


def test_source_chain_falls_back_with_a_visible_note():
    sources = (FakeSource("hub", fail="hub not reachable for org/model"), FakeSource("embedded"))
    registry = make(100 * MB, 0, None, spec("a", sources=sources))
    status = registry.load("a")
    assert status["source"] == "embedded"
    assert "hub not reachable" in status["note"]


def test_unset_sources_are_skipped_silently(fresh_settings):
    fresh_settings.delenv("AIPM_SENTIMENT_PATH", raising=False)
    fresh_settings.setenv("AIPM_SENTIMENT_HUB", "")
    sources = (LocalPath("AIPM_SENTIMENT_PATH"), HubModel("AIPM_SENTIMENT_HUB"), FakeSource("embedded"))
    registry = make(100 * MB, 0, None, spec("a", sources=sources))
    status = registry.load("a")
    assert status["source"] == "embedded" and status["note"] == ""


def test_unload_and_status():
    registry = make(100 * MB, 0, None, spec("a", 12 * MB))
    row = registry.status_of("a")
    assert row["state"] == "not loaded" and row["bytes"] == 12 * MB and row["load_seconds"] is None
    assert row["last_used"] is None
    before = time.time()
    registry.load("a")
    row = registry.status_of("a")
    assert row["state"] == "loaded" and row["source"] == "fake" and row["load_seconds"] >= 0
    assert row["last_used"] >= before, "the wall-clock time of the last use, as a number"
    assert row["device"] == "cpu", "a model without .device shows the device it was loaded for"
    with registry.use("a"):
        with pytest.raises(RuntimeError, match="in use"):
            registry.unload("a")
    assert registry.unload("a") is True
    assert registry.unload("a") is False
    assert state(registry, "a") == "not loaded"


def test_preload_loads_all_and_reports_failures():
    registry = make(100 * MB, 0, None, spec("a"), spec("b", sources=(FakeSource(fail="nope"),)))
    rows = registry.preload()
    assert [r["state"] for r in rows] == ["loaded", "failed"]


def test_generator_holds_its_lease_until_closed():
    registry = make(100 * MB, 0, None, spec("a"))

    def stream():
        with registry.use("a"):
            for i in range(3):
                yield i

    gen = stream()
    next(gen)
    assert registry.status_of("a")["leases"] == 1
    gen.close()  # a Stop button cancels the generator
    assert registry.status_of("a")["leases"] == 0


def test_memory_is_measured_from_torch_tensors():
    torch = pytest.importorskip("torch")

    def loader(ctx):
        return {"net": torch.nn.Linear(100, 10), "extra": torch.zeros(1000)}
    s = ModelSpec(name="t", loader=loader, sources=(FakeSource(),), dtype_policy="none", device_policy="cpu")
    registry = make(100 * MB, 0, None, s)
    registry.load("t")
    assert registry._entries["t"].bytes == (100 * 10 + 10) * 4 + 1000 * 4


def test_a_loader_may_lease_a_model_it_depends_on():
    registry = make(100 * MB, 0, None, spec("base", 10 * MB))

    def loader(ctx):
        with registry.use("base") as base:
            return FakeModel(f"on-{base.name}", 5 * MB)

    registry.register(ModelSpec(name="derived", loader=loader, sources=(FakeSource(),), dtype_policy="none",
                                device_policy="cpu"))
    with registry.use("derived") as model:
        assert model.name == "on-base"
    assert state(registry, "base") == "loaded" and registry.status_of("base")["leases"] == 0


# ---- edges: re-registration, the would-load query, one eviction owner -------------------------
def test_registering_the_same_spec_again_keeps_the_loaded_model():
    loads, unloaded = [], []
    same = ModelSpec(name="a", loader=lambda ctx: loads.append(1) or FakeModel("a", MB), sources=(FakeSource(),),
                     dtype_policy="none", device_policy="cpu", unloader=unloaded.append)
    registry = make(100 * MB, 0, None, same)
    with registry.use("a") as model:
        registry.register(same)  # a product module imported twice registers its spec twice
        assert registry.status_of("a")["leases"] == 1 and state(registry, "a") == "loaded"
    assert registry.status_of("a")["leases"] == 0, "the lease was released on the entry that holds it"
    assert registry.unload("a") and unloaded == [model] and loads == [1]


def test_another_spec_under_a_loaded_or_leased_name_is_refused():
    registry = make(100 * MB, 0, None, spec("a"))
    registry.register(spec("a"))  # not loaded yet: replacing is fine
    registry.load("a")
    with pytest.raises(ValueError, match="unload it before replacing"):
        registry.register(spec("a"))
    registry.unload("a")
    registry.register(spec("a", 20 * MB))
    assert registry.status_of("a")["bytes"] == 20 * MB


def test_would_load_names_the_first_available_source_without_loading(fresh_settings):
    fresh_settings.delenv("AIPM_SENTIMENT_PATH", raising=False)
    loads = []
    sources = (LocalPath("AIPM_SENTIMENT_PATH"), FakeSource("hub", fail="hub not reachable"), FakeSource("embedded"))
    registry = make(100 * MB, 0, None, spec("a", loads=loads, sources=sources),
                    spec("b", sources=(FakeSource("x", fail="no"),)))
    assert registry.would_load("a").label == "embedded"
    assert [r.label for r in registry.available_sources("a")] == ["embedded"]
    assert registry.would_load("b") is None
    assert loads == [] and state(registry, "a") == "not loaded"


def test_unset_sources_are_left_out_of_the_note_by_type_not_by_message(fresh_settings):
    from shared.sources import NotConfigured

    class Unset(FakeSource):
        def resolve(self):
            raise NotConfigured("nobody configured this")

    sources = (Unset("unset"), FakeSource("hub", fail="$X is not set, says a configured source"), FakeSource("embedded"))
    status = make(100 * MB, 0, None, spec("a", sources=sources)).load("a")
    assert status["note"] == "fake source hub: $X is not set, says a configured source"


def test_every_unload_goes_through_one_owner_with_its_reason():
    clock = Clock()
    registry = make(100 * MB, 60, clock, spec("a", 40 * MB), spec("b", 40 * MB), spec("c", 40 * MB),
                    spec("p", 10 * MB, pinned=True))
    events = []
    registry.listeners.append(lambda event, name, reason="", **_: events.append((name, reason))
                              if event == "unload" else None)
    calls = []
    real = registry._evict
    registry._evict = lambda *a, **k: calls.append(a[0]) or real(*a, **k)
    for name in ("p", "a", "b"):
        registry.load(name)
        clock.now += 1
    registry.load("c")  # makes room: a goes
    clock.now += 61
    registry.reap_idle()  # b and c idle past the keep-alive; p is pinned
    assert registry.unload("p") is True  # an explicit unload may drop a pinned model
    assert events == [("a", "memory budget"), ("b", "idle for 62s"), ("c", "idle for 61s"), ("p", "requested")]
    assert {"memory budget", "keep-alive", "requested"} <= set(calls)
