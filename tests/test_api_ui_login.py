"""AIPM_UI_AUTH puts the browser UI and its Gradio API behind a login, so a server that sells the REST
API cannot be used for free through the UI; without it the UI stays an open demo."""
import httpx
import pytest

from tests.api_support import serving


def test_the_ui_and_its_gradio_api_need_the_login_when_one_is_set(fresh_settings):
    import app
    from gradio_client import Client

    fresh_settings.setenv("AIPM_UI_AUTH", "demo:s3cret")
    with serving(app) as url:
        with pytest.raises(Exception):
            Client(url, verbose=False).predict(api_name="/system_status")
        assert httpx.post(url + "/gradio_api/call/system_status", json={"data": []}).status_code in (401, 403)
        rows = Client(url, auth=("demo", "s3cret"), verbose=False).predict(api_name="/system_status")
        assert isinstance(rows, list) and rows
        assert httpx.get(url + "/v1/models").status_code == 401, "the REST API keeps its own keys"


def test_without_a_login_the_ui_is_an_open_demo(fresh_settings):
    import app
    from gradio_client import Client

    fresh_settings.setenv("AIPM_UI_AUTH", "")
    with serving(app) as url:
        assert Client(url, verbose=False).predict(api_name="/system_status")
