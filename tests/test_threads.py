"""Threads by measurement (shared/threads.py): the fastest count wins, the fewest threads when within 3%
of it, the choice is cached per machine and engine, and a fixed setting is never measured."""
from __future__ import annotations

import pytest

from shared import threads


@pytest.fixture
def cache(fresh_settings, tmp_path, monkeypatch):
    fresh_settings.setenv("AIPM_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setattr(threads, "busy", lambda n: False)  # the suite itself keeps the machine busy
    return tmp_path / "cache"


def test_candidates_cover_one_half_and_all_cores():
    assert threads.candidates(2) == [1, 2]
    assert threads.candidates(4) == [1, 2, 3, 4]
    assert threads.candidates(16) == [1, 8, 15, 16]
    assert threads.candidates(1) == [1]


def test_the_fastest_count_is_chosen_and_cached(cache):
    calls = []

    def probe(n):  # two threads twice as fast as one, four no faster than two
        calls.append(n)
        return {1: 1.0, 2: 0.5, 3: 0.45, 4: 0.5}[n]

    assert threads.choose("toy", probe, n=4) == 3
    assert set(calls) == {1, 2, 3, 4}
    calls.clear()
    assert threads.choose("toy", probe, n=4) == 3 and calls == []  # read from the cache, not measured again
    assert "toy | " in (cache / "threads.json").read_text()


def test_fewer_threads_win_within_three_percent(cache):
    assert threads.choose("flat", lambda n: {1: 1.0, 2: 0.99}[n], n=2) == 1
    assert threads.choose("steep", lambda n: {1: 1.0, 2: 0.6}[n], n=2) == 2


def test_a_busy_machine_is_not_measured(cache, monkeypatch):
    monkeypatch.setattr(threads, "busy", lambda n: True)
    calls = []
    assert threads.choose("toy", lambda n: calls.append(n) or 1.0 / n, n=4) == 4 and calls == []
    assert threads.choose("spec", lambda k: calls.append(k) or 1.0, options=[0, 2, 4], default=0) == 0 and calls == []
    assert not (cache / "threads.json").exists()


def test_any_options_can_be_measured(cache):
    assert threads.choose("spec", lambda k: {0: 1.0, 2: 0.7, 4: 0.8}[k], options=[0, 2, 4]) == 2


def test_forget_measures_again(cache, capsys):
    threads.choose("toy", lambda n: 1.0 / n, n=2)
    assert threads.main(["--forget"]) == 0
    calls = []
    threads.choose("toy", lambda n: calls.append(n) or 1.0 / n, n=2)
    assert calls  # measured again


def test_a_fixed_torch_thread_count_is_never_measured(fresh_settings, monkeypatch):
    from shared import device

    fresh_settings.setenv("AIPM_TORCH_THREADS", "3")
    device.cpu_threads.cache_clear()
    monkeypatch.setattr(threads, "choose", lambda *a, **k: pytest.fail("measured a fixed setting"))
    try:
        assert device.cpu_threads() == 3
    finally:
        device.cpu_threads.cache_clear()
