"""The progress callback every loader and long computation takes: progress(fraction in [0, 1], text)."""
from __future__ import annotations

from typing import Callable

Progress = Callable[[float, str], None]


def no_progress(fraction: float, text: str) -> None:
    """The default when nobody is watching."""
