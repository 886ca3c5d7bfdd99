"""shared/config.py: parsing, the settings objects each product declares, and README's table."""
import pytest


def test_parse_bytes():
    from shared.config import parse_bytes

    assert parse_bytes("6GB") == 6 * 10**9
    assert parse_bytes("512MiB") == 512 * 2**20
    assert parse_bytes("1000") == 1000
    with pytest.raises(ValueError):
        parse_bytes("lots")
