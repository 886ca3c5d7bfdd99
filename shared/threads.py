"""CPU threads by measurement, once per machine and engine.

A rule such as "cores - 1" is wrong somewhere: on a 2-core machine it leaves one core idle and halves
a model's speed (EmbeddingGemma ran 1.7x faster with 2 threads than with 1), while on many cores more
threads stop paying for small batches. So an engine whose thread setting is `auto` times a short,
representative workload of its own (`probe(threads) -> seconds`) at a few thread counts the first time
it loads, keeps the fastest (the fewest threads within 3% of it), and caches the choice per machine
(CPU model, core count) in `<cache>/threads.json`. Later loads read the cache: the probe costs about a
second once. On a busy machine (1-minute load of the core count or more: a test suite, other jobs)
nothing is measured, since the other work would decide the result: the rule's default is used and the
next load measures. The same cache holds other per-machine choices measured the same way
(for example whether speculative decoding pays on this CPU).

    python -m shared.threads            # what was measured on this machine
    python -m shared.threads --forget   # measure again at the next load (after a hardware change, or a
                                        # probe that ran while the machine was busy)
"""
from __future__ import annotations

import argparse
import json
import logging
import os
import platform
import threading
import time
from pathlib import Path
from typing import Callable

log = logging.getLogger(__name__)

_lock = threading.Lock()
TOLERANCE = 1.03  # fewer threads win when within 3% of the fastest: the rest stay free for other requests


def cores() -> int:
    try:
        return len(os.sched_getaffinity(0))  # what this process may use (containers, taskset)
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def rule(n: int | None = None) -> int:
    """The count used where nothing was measured (a busy machine): every core, at most 8."""
    return max(1, min(8, n or cores()))


def candidates(n: int) -> list[int]:
    """1, half, all but one, all (and 8 and 16 on bigger machines): a few points, each probed once."""
    points = {1, n // 2, n - 1, n}
    points |= {p for p in (8, 16) if p < n}
    return sorted(p for p in points if p >= 1)


def cpu_name() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def _file() -> Path:
    from shared import artifacts

    return artifacts.cache_dir() / "threads.json"


def _read() -> dict:
    try:
        return json.loads(_file().read_text())
    except (OSError, ValueError):
        return {}


def _write(data: dict) -> None:
    from shared import artifacts

    text = json.dumps(data, indent=1, sort_keys=True).encode()
    artifacts.write_atomically(_file(), lambda handle: handle.write(text))  # readers see the old file or the new


def key(engine: str, n: int | None = None) -> str:
    return f"{engine} | {cpu_name()} | {n or cores()} cores"


def choose(engine: str, probe: Callable[[int], float], n: int | None = None, options: list[int] | None = None,
           default: int | None = None) -> int:
    """The best option for `engine` on this machine (by default a thread count among `candidates`):
    cached, else measured now with `probe(option) -> seconds` (lower is better; the smallest option
    within 3% of the fastest wins). On a busy machine nothing is measured: `default` (all cores, at
    most 8, for threads) is used and the next load measures."""
    n = n or cores()
    options = options or candidates(n)
    name = key(engine, n)
    with _lock:
        known = _read().get(name)
        if known and int(known.get("threads", -1)) in options:
            return int(known["threads"])
        if len(options) == 1:
            return options[0]
        if busy(n):  # other work on the cores would decide the measurement
            chosen = default if default is not None else rule(n)
            log.info("%s on %d cores: %d (machine busy: not measured)", engine, n, chosen)
            return chosen
        timings = {}
        for option in options:
            probe(option)  # warm-up: caches, thread pool start
            timings[option] = probe(option)
        fastest = min(timings.values())
        best = min(t for t, s in timings.items() if s <= fastest * TOLERANCE)
        data = _read()
        data[name] = {"threads": best, "seconds": {str(t): round(s, 4) for t, s in timings.items()},
                      "measured": time.strftime("%Y-%m-%d %H:%M:%S")}
        _write(data)
    log.info("%s on %d cores: %d (measured: %s)", engine, n, best,
             ", ".join(f"{t}: {s * 1000:.0f} ms" for t, s in timings.items()))
    return best


def busy(n: int) -> bool:
    """Other work ran on these cores while we measured: the 1-minute load (ours included) of n or more."""
    try:
        return os.getloadavg()[0] >= n
    except OSError:
        return False


def timed(work: Callable[[], object]) -> float:
    start = time.perf_counter()
    work()
    return time.perf_counter() - start


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description="CPU threads measured per engine on this machine")
    parser.add_argument("--forget", action="store_true", help="drop this machine's measurements")
    args = parser.parse_args(argv)
    data = _read()
    if args.forget:
        mine = [k for k in data if k.split(" | ")[1:] == key("x").split(" | ")[1:]]
        for k in mine:
            data.pop(k)
        _write(data)
        print(f"forgot {len(mine)} measurement(s) in {_file()}")
        return 0
    if not data:
        print(f"nothing measured yet ({_file()})")
    for name, entry in sorted(data.items()):
        print(f"{name}: {entry['threads']} threads (seconds per probe: {entry['seconds']}, {entry['measured']})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
