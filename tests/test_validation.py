"""Bad input at every endpoint's edge: a clear message naming the field, never the generic error or
a raw Python message, and an app that keeps serving (shared/validate.py)."""
import json
import math

import httpx
import pytest

from tests.conftest import free_port

RAW_PYTHON = ("Traceback", "ValueError", "TypeError", "KeyError", "AttributeError", "not JSON compliant",
              "Something went wrong", "didn't receive enough input values", "is not in the list of choices")


# ---- the checks alone ------------------------------------------------------------------------
def test_text_is_cleaned_of_lone_surrogates_and_nul():
    from shared.validate import clean_strings, clean_text

    assert clean_text("ok \ud800 end\x00") == "ok \ufffd end"
    assert clean_text("emoji 😀 and 中文") == "emoji 😀 and 中文"
    assert clean_strings({"a": ["\udfff", 1]}) == {"a": ["\ufffd", 1]}
    "x\ufffd".encode("utf-8")  # what comes out can always be encoded


@pytest.mark.parametrize("value", [math.nan, math.inf, -math.inf, 1e308, "12", [], True])
def test_slider_refuses_what_is_not_a_finite_number_in_range(value):
    import gradio as gr

    from shared.validate import InvalidInput, check_value

    with pytest.raises(InvalidInput) as info:
        check_value(gr.Slider(1, 100), value, "Steps", "en")
    assert "“Steps” must be a number from 1 to 100" in str(info.value)


def test_each_component_kind_names_its_rule():
    import gradio as gr

    from shared.validate import InvalidInput, check_value

    cases = [
        (gr.Textbox(max_length=5), "toolong", "is 7 characters long; the most is 5"),
        (gr.Textbox(), ["a"], "must be text"),
        (gr.Radio(["auto", "en"]), "fr", "must be one of: auto, en; got 'fr'"),
        (gr.Dropdown(["a", "b"], multiselect=True), "a", "must be a list of values"),
        (gr.Dropdown(["a", "b"], allow_custom_value=True), ["a"], "must be one of"),
        (gr.Checkbox(), "yes", "must be true or false"),
        (gr.File(), "/etc/passwd", "must be a file"),
        (gr.Number(), math.nan, "must be a finite number"),
    ]
    for block, value, expected in cases:
        with pytest.raises(InvalidInput) as info:
            check_value(block, value, "Field", "en")
        assert expected in str(info.value), (block, value, str(info.value))
    assert check_value(gr.Dropdown(["a"], allow_custom_value=True), "custom", "F", "en") == "custom"
    assert check_value(gr.Textbox(max_length=5), 12, "F", "en") == "12"
    assert check_value(gr.Slider(0, 1), None, "F", "en") is None  # empty: the handler says what is missing


def test_messages_escape_what_the_user_sent_and_speak_chinese():
    import gradio as gr

    from shared.ui import UserError, to_gr_error
    from shared.validate import InvalidInput, check_value

    with pytest.raises(InvalidInput) as info:
        check_value(gr.Radio(["a"]), "<img src=x onerror=alert(1)>", "Field", "zh")
    assert "必须是以下之一" in str(info.value)
    shown = to_gr_error(UserError(str(info.value))).message  # how a toast shows it
    assert "<img" not in shown and "&lt;img" in shown


def test_handler_errors_are_escaped_and_real_bugs_carry_an_id_in_the_log(caplog):
    from shared.ui import UserError, to_gr_error

    assert "&lt;b&gt;" in to_gr_error(UserError("unknown <b>name</b>")).message
    with caplog.at_level("ERROR"):
        err = to_gr_error(ZeroDivisionError("boom"))
    error_id = err.message.split("error id ")[1].split(")")[0]
    assert len(error_id) == 10
    assert any(error_id in r.getMessage() and r.exc_info for r in caplog.records)


# ---- the whole app, every named endpoint ---------------------------------------------------------
@pytest.fixture(scope="module")
def served():
    import app

    port = free_port()
    _, url, _ = app.launch(app.demo, server_port=port, prevent_thread_lock=True, quiet=True)
    yield app.demo, url.rstrip("/")
    app.demo.close()


def call_raw(url: str, api_name: str, body: str, timeout: float = 60) -> tuple[str, str]:
    """POST a JSON body as text (so NaN and lone surrogates can be sent), then read the result:
    ("complete" | "error", data)."""
    with httpx.Client(timeout=timeout) as http:
        posted = http.post(f"{url}/gradio_api/call/{api_name}", content=body.encode("utf-8"),
                           headers={"content-type": "application/json"})
        assert posted.status_code == 200, posted.text
        event_id = posted.json()["event_id"]
        kind, data = "", ""
        with http.stream("GET", f"{url}/gradio_api/call/{api_name}/{event_id}") as stream:
            for line in stream.iter_lines():
                if line.startswith("event:"):
                    kind = line.split(":", 1)[1].strip()
                elif line.startswith("data:") and kind in ("complete", "error"):
                    return kind, line.split(":", 1)[1].strip()
    return kind, data


def public_endpoints(demo) -> list:
    return [fn for fn in demo.fns.values()
            if fn.api_name and fn.fn is not None and fn.inputs and fn.api_visibility == "public"]


def bad_values(block) -> list:
    """Values this component must refuse (all JSON-representable, so gradio_client can send them)."""
    import gradio as gr

    if isinstance(block, (gr.Slider, gr.Number)):
        return ["12abc", [1], True, 1e308 if block.maximum is not None else "x"]
    if isinstance(block, gr.Checkbox):
        return ["yes", 2]
    if isinstance(block, gr.Textbox):
        return [["a list"], {"a": 1}] + (["x" * (block.max_length + 1)] if block.max_length else [])
    if isinstance(block, (gr.Dropdown, gr.Radio)):
        if getattr(block, "multiselect", False):
            return ["not a list", [["nested"]]]
        return [{"a": 1}] + ([] if getattr(block, "allow_custom_value", False) else ["<b>no such choice</b>"])
    if isinstance(block, (gr.File, gr.Audio, gr.Image)):
        return ["/etc/passwd", 42]
    return []


def assert_clear(message: str, context) -> None:
    assert message, context
    for raw in RAW_PYTHON:
        assert raw not in message, (context, message)
    assert "<b>" not in message, (context, message)


@pytest.mark.integration
def test_every_endpoint_refuses_bad_values_for_each_parameter_and_keeps_serving(served):
    from gradio_client import Client
    from gradio_client.exceptions import AppError

    from shared.i18n import t
    from shared.validate import field_name

    demo, url = served
    client = Client(url, verbose=False)
    calls = 0
    for fn in public_endpoints(demo):
        defaults = [getattr(b, "value", None) for b in fn.inputs]
        for i, block in enumerate(fn.inputs):
            for bad in bad_values(block):
                args = list(defaults)
                args[i] = bad
                context = (fn.api_name, i, repr(bad)[:40])
                with pytest.raises(AppError) as info:
                    client.predict(*args, api_name=f"/{fn.api_name}")
                message = str(info.value)
                assert_clear(message, context)
                assert field_name(block, i, "en") in message, (context, message)
                calls += 1
    assert calls > 80, f"only {calls} bad calls were made: the walk found too few endpoints"
    assert client.predict(api_name="/system_status"), "the app still serves"
    assert t("validate.count", "en", needed=1, names="x", got=0)


@pytest.mark.integration
def test_non_finite_numbers_missing_arguments_and_invalid_unicode_over_raw_http(served):
    demo, url = served
    image = next(fn for fn in public_endpoints(demo) if fn.api_name == "image_generate")
    defaults = [getattr(b, "value", None) for b in image.inputs]
    steps = next(i for i, b in enumerate(image.inputs) if getattr(b.label, "key", "") == "image.steps")
    for token in ("NaN", "Infinity", "-Infinity"):
        body = "[" + ", ".join(token if k == steps else json.dumps(v) for k, v in enumerate(defaults)) + "]"
        kind, data = call_raw(url, "image_generate", '{"data": %s}' % body)
        assert kind == "error" and "must be a number from 1 to" in data, (token, data)

    kind, data = call_raw(url, "image_generate", json.dumps({"data": ["a red heart"]}))
    assert kind == "error" and "This action takes 9 values" in data and "Prompt" in data, data

    kind, data = call_raw(url, "sentiment", '{"data": ["I love it \\ud800 so much", "auto"]}')
    assert kind == "complete", data  # the lone surrogate became U+FFFD; the text was scored
    assert "positive" in data

    # A bad value in a batched event fails only its own request, even when it shares a batch.
    from concurrent.futures import ThreadPoolExecutor

    bodies = ['{"data": ["What a lovely day", "klingon"]}', '{"data": ["What a lovely day", "en"]}'] * 4
    with ThreadPoolExecutor(len(bodies)) as pool:
        answers = list(pool.map(lambda body: call_raw(url, "sentiment", body), bodies))
    for k, (kind, data) in enumerate(answers):
        if k % 2 == 0:  # alone in its batch: an error; batched with others: the message as its note
            assert kind in ("error", "complete") and "must be one of: auto, en, zh" in data, data
        else:
            assert kind == "complete" and "positive" in data, data


@pytest.mark.integration
def test_a_bad_option_is_refused_before_any_transcription(served, tmp_path):
    from gradio_client import Client, handle_file
    from gradio_client.exceptions import AppError

    from tests.speech_support import speak

    _, url = served
    client = Client(url, verbose=False)
    wav = speak("hello there", tmp_path / "a.wav")
    with pytest.raises(AppError) as info:
        client.predict(None, handle_file(str(wav)), "auto", "transcribe", "base", "faster-whisper", False, 42, 2,
                       "x" * 501, "simplified", True, False, 0, api_name="/speech_transcribe")
    assert "the most is 500" in str(info.value)


def test_copy_text_shown_in_markdown_renders_no_html():
    from products.copy.tab import _escape

    cell = _escape("Buy <img src=x onerror=alert(1)> now | today\nnext")
    assert "<img" not in cell and "&lt;img" in cell and "\\|" in cell and "\n" not in cell
