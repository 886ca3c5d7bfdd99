"""Helpers for the generators products stream their results through."""
from __future__ import annotations

from typing import Iterable, TypeVar

T = TypeVar("T")


def run_to_end(updates: Iterable[T]) -> T | None:
    """The last item of a stream of updates (scripts, tests and API callers that want the final
    state only), or None when it yields nothing. Consuming it fully lets its `finally` blocks run
    (leases released, worker threads joined)."""
    last = None
    for last in updates:
        pass
    return last
