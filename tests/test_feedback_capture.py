"""Every request is measured in SafeBlocks.process_api: product, action, latency, sizes, outcome
(with the error id of a real bug), language, a hashed session; no user content unless
AIPM_STORE_CONTENT=1; a database that is down costs measurements, never requests."""
import time

import gradio as gr
import pytest
from sqlalchemy import select

from shared import capture, store
from shared.store.schema import contents, requests
from shared.store.writer import Writer
from shared.ui import UserError, user_errors
from shared.validate import SafeBlocks
from tests.conftest import free_port


@pytest.fixture
def writer(tmp_path):
    new = Writer(f"sqlite:///{tmp_path / 'capture.db'}")
    old = store.use_writer(new)
    yield new
    store.use_writer(old)


def rows(table=requests):
    store.writer().flush(30)
    frame = store.read(select(table))
    return frame.astype(object).where(frame.notna(), None).to_dict("records")


@user_errors
def echo(text: str, request: gr.Request = None):
    capture.note(model="echo-1", tokens_in=len(text), memo={"said": text}, inputs=text, outputs=text.upper())
    return text.upper()


@user_errors
def refuse(text: str):
    raise UserError("that is not allowed")


@user_errors
def crash(text: str):
    raise RuntimeError("a real bug")


def count_up(n: float):
    for i in range(int(n)):
        capture.note(rows=i + 1)
        yield str(i)


def batched(texts: list[str]):
    for i, text in enumerate(texts):
        capture.note(index=i, model="batch-model", tokens_in=len(text or ""))
    return [[t.upper() for t in texts]]


@pytest.fixture(scope="module")
def client():
    from gradio_client import Client

    with SafeBlocks() as demo:
        box = gr.Textbox(max_length=20)
        number = gr.Number(minimum=1, maximum=5)
        out = gr.Textbox()
        gr.Button().click(echo, box, out, api_name="sentiment")
        gr.Button().click(refuse, box, out, api_name="speech_transcribe")
        gr.Button().click(crash, box, out, api_name="image_generate")
        gr.Button().click(count_up, number, out, api_name="copy_generate")
        gr.Button().click(batched, box, out, api_name="recommend_user", batch=True, max_batch_size=4)
        gr.Button().click(echo, box, out, api_name="hidden", api_visibility="private")
    demo.queue()
    _, url, _ = demo.launch(server_port=free_port(), prevent_thread_lock=True, quiet=True)
    yield Client(url, verbose=False, headers={"Accept-Language": "zh-CN,zh;q=0.9"})
    demo.close()


def test_a_request_is_recorded_with_its_measurements_and_no_content(client, writer, fresh_settings):
    fresh_settings.setenv("AIPM_STORE_CONTENT", "0")
    assert client.predict("hello", api_name="/sentiment") == "HELLO"
    (row,) = rows()
    assert row["product"] == "sentiment" and row["action"] == "sentiment" and row["outcome"] == "ok"
    assert row["model"] == "echo-1" and row["tokens_in"] == 5 and row["lang"] == "zh"
    assert row["run_ms"] > 0 and row["queue_ms"] is not None and row["queue_ms"] >= 0
    assert abs(row["ts"] - time.time()) < 60
    assert row["session"] and len(row["session"]) == 20 and row["session"] != client.session_hash
    assert rows(contents) == [], "no user content by default"
    assert capture.get(row["id"]).memo == {"said": "hello"}, "kept in memory for feedback"


def test_content_is_stored_only_when_asked(client, writer, fresh_settings):
    fresh_settings.setenv("AIPM_STORE_CONTENT", "1")
    client.predict("hello", api_name="/sentiment")
    (content,) = rows(contents)
    assert content["inputs"] == '"hello"' and content["outputs"] == '"HELLO"'


def test_outcomes_user_error_server_error_with_its_id_and_bad_input(client, writer):
    from gradio_client.exceptions import AppError

    with pytest.raises(AppError, match="not allowed"):
        client.predict("x", api_name="/speech_transcribe")
    with pytest.raises(AppError) as crashed:
        client.predict("x", api_name="/image_generate")
    with pytest.raises(AppError, match="20"):  # refused at the edge: longer than the box allows
        client.predict("x" * 50, api_name="/sentiment")
    found = {r["action"]: r for r in rows()}
    assert found["speech_transcribe"]["outcome"] == "user_error" and not found["speech_transcribe"]["error_id"]
    assert found["image_generate"]["outcome"] == "server_error"
    assert found["image_generate"]["error_id"] and found["image_generate"]["error_id"] in str(crashed.value)
    assert found["sentiment"]["outcome"] == "user_error"


def test_a_streaming_event_is_one_request_measured_to_its_end(client, writer):
    assert client.predict(3, api_name="/copy_generate") == "2"
    (row,) = rows()
    assert row["product"] == "copy" and row["outcome"] == "ok" and row["rows"] == 3


def test_batched_requests_are_one_record_each(client, writer):
    jobs = [client.submit(text, api_name="/recommend_user") for text in ("a", "bb", "ccc")]
    assert [job.result() for job in jobs] == ["A", "BB", "CCC"]
    found = rows()
    assert sorted(r["tokens_in"] for r in found) == [1, 2, 3]
    assert {r["model"] for r in found} == {"batch-model"} and {r["product"] for r in found} == {"recommend"}


def test_private_events_are_not_requests(writer):
    class Private:
        api_name, api_visibility = "image_preset", "private"
    assert capture.begin(Private(), [None], ["en"], None) is None


def test_a_database_that_is_down_never_fails_a_request(client, tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    down = Writer(f"sqlite:///{blocker / 'm.db'}", retries=0, backoff_s=0.01)
    old = store.use_writer(down)
    try:
        for _ in range(3):
            assert client.predict("still works", api_name="/sentiment") == "STILL WORKS"
        down.flush(30)
        assert down.stats()["dropped_database"] == 3 and down.stats()["written"] == 0
    finally:
        store.use_writer(old)


def test_capture_off_records_nothing(client, writer, fresh_settings):
    fresh_settings.setenv("AIPM_CAPTURE", "0")
    client.predict("hello", api_name="/sentiment")
    assert rows() == []


def test_a_stream_the_queue_forgot_ends_as_cancelled(writer):
    class Fn:
        api_name, api_visibility = "speech_transcribe", "public"
    records = capture.begin(Fn(), [None], ["en"], None)
    capture.keep_streaming("event-1", records)
    capture.sweep_cancelled({"event-2": object()})
    (row,) = rows()
    assert row["outcome"] == "cancelled" and row["product"] == "speech"


def test_registry_loads_and_unloads_are_model_events(writer):
    from shared.store.schema import model_events
    from tests.registry_support import make, spec

    registry = make(100 * 10**6, 0.0, None, spec("toy"), spec("broken", fail_times=1))
    registry.listeners.append(capture.model_event)
    registry.load("toy")
    assert registry.unload("toy"), "a loaded, unleased model unloads"
    with pytest.raises(Exception):
        registry.load("broken")
    events = [(r["model"], r["event"]) for r in rows(model_events)]
    assert events == [("toy", "load"), ("toy", "unload"), ("broken", "fail")]


def test_the_captured_products_are_the_ones_products_lists():
    from products import PRODUCTS, load
    from shared import descriptor

    declared = [product.name for _, product, _ in load()]
    assert tuple(declared) == ("copy", "sentiment", "recommend", "speech", "image") and len(PRODUCTS) == 5
    registered = descriptor.names()  # the app registers its workflows too, before the products
    assert [name for name in registered if name in declared] == declared


def test_an_action_belongs_to_the_product_that_declares_it_not_to_its_prefix():
    from shared import descriptor
    from shared.descriptor import Product

    before = descriptor.registered()
    try:
        descriptor.register(before + (Product(name="text_to_sql", title="x", build_tab=lambda: None,
                                              actions=("text_to_sql_run",)),))
        assert capture.product_of("text_to_sql_run") == "text_to_sql"
        assert capture.product_of("sentiment") == "sentiment"
        assert capture.product_of("insights_summary") == "-", "the shared tabs' events belong to no product"
    finally:
        descriptor.register(before)
