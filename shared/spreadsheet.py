"""Cells that are safe to open in a spreadsheet: shared by every CSV the server writes."""
from __future__ import annotations


def neutralise(value):
    """A text cell a spreadsheet would run as a formula gets a leading ' (OWASP: CSV injection)."""
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return value
