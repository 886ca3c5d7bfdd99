"""Admin actions (load, unload, load all, verify) need AIPM_ADMIN_PASSWORD; status stays public."""
import pytest

from tests.conftest import free_port

SECRET = "correct horse battery staple"


def test_require_refuses_without_a_configured_secret_and_with_a_wrong_one(fresh_settings, monkeypatch):
    from shared import admin
    from shared.ui import UserError

    monkeypatch.setattr(admin, "_WRONG_DELAY_S", 0)
    fresh_settings.delenv("AIPM_ADMIN_PASSWORD", raising=False)
    with pytest.raises(UserError, match="turned off on this server"):
        admin.require(SECRET)
    fresh_settings.setenv("AIPM_ADMIN_PASSWORD", SECRET)
    for wrong in ("", None, "correct horse", SECRET + " ", ["list"]):
        with pytest.raises(UserError, match="missing or wrong"):
            admin.require(wrong)
    admin.require(SECRET)
    with pytest.raises(UserError, match="管理密码缺失或错误"):
        admin.require("nope", "zh")


@pytest.fixture(scope="module")
def client():
    import app
    from gradio_client import Client

    port = free_port()
    _, url, _ = app.launch(app.demo, server_port=port, prevent_thread_lock=True, quiet=True)
    yield Client(url, verbose=False)
    app.demo.close()


@pytest.mark.integration
def test_admin_endpoints_refuse_anonymous_callers_and_status_stays_public(client, fresh_settings, monkeypatch):
    from gradio_client.exceptions import AppError

    from shared import admin
    from shared.models import registry

    monkeypatch.setattr(admin, "_WRONG_DELAY_S", 0)
    registry.unload("sentiment")  # other tests in this process may have loaded it
    fresh_settings.delenv("AIPM_ADMIN_PASSWORD", raising=False)
    assert client.predict(api_name="/system_status")
    for api_name, args in (("/system_load", ("sentiment", "")), ("/system_unload", ("sentiment", SECRET)),
                           ("/system_preload", ("",)), ("/system_verify", ("",))):
        with pytest.raises(AppError, match="turned off on this server"):
            client.predict(*args, api_name=api_name)
    fresh_settings.setenv("AIPM_ADMIN_PASSWORD", SECRET)
    for api_name, args in (("/system_load", ("sentiment", "guess")), ("/system_preload", ("",)),
                           ("/system_verify", ("guess",))):
        with pytest.raises(AppError, match="missing or wrong"):
            client.predict(*args, api_name=api_name)
    rows = {r["name"]: r for r in client.predict(api_name="/system_status")}
    assert rows["sentiment"]["state"] == "not loaded", "a refused load loaded nothing"


@pytest.mark.integration
def test_admin_with_the_secret_loads_unloads_and_verifies(client, fresh_settings):
    from gradio_client.exceptions import AppError

    from shared.models import registry

    fresh_settings.setenv("AIPM_ADMIN_PASSWORD", SECRET)
    client.predict("sentiment", SECRET, api_name="/system_load")
    rows = {r["name"]: r for r in client.predict(api_name="/system_status")}
    assert rows["sentiment"]["state"] == "loaded"
    with registry.use("sentiment"):  # a request is using it: unloading says so, and keeps it
        with pytest.raises(AppError, match="is in use"):
            client.predict("sentiment", SECRET, api_name="/system_unload")
    client.predict("sentiment", SECRET, api_name="/system_unload")
    rows = {r["name"]: r for r in client.predict(api_name="/system_status")}
    assert rows["sentiment"]["state"] == "not loaded"
    verified = client.predict(SECRET, api_name="/system_verify")
    names = [row[0] for row in verified["data"]]
    assert "all-MiniLM-L6-v2" in names and all(row[2] for row in verified["data"]), verified
