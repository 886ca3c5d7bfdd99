"""The app as `python app.py` serves it (the REST API with the UI mounted, uvicorn), on a free port in a
thread of the test process, with a database of its own: for the API tests."""
import contextlib
import json
import os
import threading
import time

from tests.conftest import free_port


@contextlib.contextmanager
def serving(app_module, timeout: float = 60):
    """uvicorn serving app.server(app.build_app()); yields its base URL."""
    import uvicorn

    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app_module.server(app_module.build_app()), host="127.0.0.1", port=port,
                                           log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + timeout
    while not server.started:
        assert thread.is_alive() and time.monotonic() < deadline, "the server did not start"
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=30)


@contextlib.contextmanager
def api_database(folder, plans: dict | None = None, key_cache_s: str = "0"):
    """AIPM_DATABASE_URL (and the plans, the key cache) for the block, a fresh store writer and key cache."""
    from shared import keys, store
    from shared.config import settings

    names = ("AIPM_DATABASE_URL", "AIPM_API_KEY_CACHE_S", "AIPM_API_PLANS")
    saved = {name: os.environ.get(name) for name in names}
    os.environ["AIPM_DATABASE_URL"] = f"sqlite:///{folder}/api.db"
    os.environ["AIPM_API_KEY_CACHE_S"] = key_cache_s
    if plans is not None:
        os.environ["AIPM_API_PLANS"] = json.dumps(plans)
    settings.cache_clear()
    old_writer = store.use_writer(None)
    keys.clear_cache()
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
        settings.cache_clear()
        store.use_writer(old_writer)
        keys.clear_cache()
