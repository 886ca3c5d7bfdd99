"""shared/system_tab.py formats the registry's status (data) into the table and API rows."""
import time

from shared import system_tab


def test_status_rows_round_what_the_registry_reports_as_numbers():
    last = time.mktime((2026, 12, 3, 17, 5, 9, 0, 0, -1))
    data = {"name": "a", "state": "loaded", "source": "fake", "device": "cpu", "dtype": "float32",
            "bytes": 12_345_678, "load_seconds": 1.23456, "last_used": last, "leases": 1, "pinned": False,
            "note": "", "description": "d"}
    row = system_tab.status_row(data)
    assert list(row)[:len(system_tab.STATUS_COLUMNS)] == system_tab.STATUS_COLUMNS
    assert (row["MB"], row["load s"], row["last used"]) == (12.3, 1.23, "17:05:09")
    never = system_tab.status_row({**data, "state": "not loaded", "load_seconds": None, "last_used": None})
    assert (never["load s"], never["last used"]) == (None, "")
