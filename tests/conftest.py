"""Test set-up: quiet OpenMP, one torch thread, a private cache, and the markers.

Markers: `integration` (real embedded models; slower, still run in CI), `browser` (Playwright with
Debian Chromium). `pytest -m "not integration and not browser"` is the fast loop.
"""
import os
import sys
import tempfile
from pathlib import Path

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
os.environ.setdefault("AIPM_TORCH_THREADS", "1")
os.environ.setdefault("AIPM_OFFLINE", "1")  # tests never reach for the hub
os.environ.setdefault("AIPM_KEEP_ALIVE", "0")
os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
os.environ.setdefault("HF_HUB_OFFLINE", "1")
# Requests the tests make are measured into a database of their own, not the user's cache.
os.environ.setdefault("AIPM_DATABASE_URL", f"sqlite:///{tempfile.mkdtemp(prefix='aipm-test-db-')}/matrix.db")
ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import socket  # noqa: E402

import pytest  # noqa: E402

import products  # noqa: E402,F401  (hands the products' descriptors to shared/, as app.py does)


def free_port() -> int:
    """A free local port for an app launched in a test."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def pytest_configure(config):
    config.addinivalue_line("markers", "integration: uses the real embedded models (slower)")
    config.addinivalue_line("markers", "browser: drives Debian Chromium with Playwright")


class _Env:
    """monkeypatch for environment variables that also makes shared.config re-read them."""

    def __init__(self, monkeypatch):
        self._mp = monkeypatch

    def setenv(self, name, value):
        from shared.config import settings

        self._mp.setenv(name, value)
        settings.cache_clear()

    def delenv(self, name, raising=True):
        from shared.config import settings

        self._mp.delenv(name, raising=raising)
        settings.cache_clear()

    def setattr(self, *args, **kwargs):
        self._mp.setattr(*args, **kwargs)


@pytest.fixture
def fresh_settings(monkeypatch):
    """Change AIPM_* variables in a test: the settings are re-read, and restored afterwards."""
    from shared.config import settings

    settings.cache_clear()
    yield _Env(monkeypatch)
    monkeypatch.undo()
    settings.cache_clear()


@pytest.fixture(autouse=True)
def _registered_products():
    """A test that builds an app from other products (app.build_app registers them) leaves the
    registered descriptors as it found them."""
    from shared import descriptor

    before = descriptor.registered()
    yield
    if descriptor.registered() != before:
        descriptor.register(before)
