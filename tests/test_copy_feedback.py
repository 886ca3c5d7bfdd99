"""Copy feedback: 👍 / 👎, "use this one" and an edited version refer to the variants of this
session's latest copy request (shared/feedback.py), with its template, preset and model."""
import pytest

from tests.conftest import free_port
from tests.test_feedback_products import stored, writer  # noqa: F401  (the fixture)


def test_the_preset_is_named_from_the_sampling_it_uses():
    from products.copy import core
    from products.copy.tab import preset_of

    assert preset_of(core.Options.preset("precise")) == "precise"
    assert preset_of(core.Options(temperature=0.55, top_p=0.9)) == "custom"


def test_the_tab_offers_every_copy_feedback_kind():
    import gradio as gr

    from products.copy import tab

    with gr.Blocks() as demo:
        tab.build_tab()
    labels = " ".join(str(b.value) for b in demo.blocks.values() if isinstance(b, gr.Button))
    for key in ("copy.fb.up", "copy.fb.down", "copy.fb.pick", "copy.fb.edit"):
        assert key in labels


@pytest.fixture(scope="module")
def client():
    import app
    from gradio_client import Client

    _, url, _ = app.launch(app.demo, server_port=free_port(), prevent_thread_lock=True, quiet=True)
    yield Client(url, verbose=False)
    app.demo.close()


@pytest.mark.integration
def test_copy_then_pick_and_edit_through_the_api(client, writer):  # noqa: F811
    result = client.predict("BrewMate", "a coffee maker", "quiet", "home baristas", "friendly", "en", "", "",
                            "search_ad", 1, "qwen-0.5b", 0.3, 0.8, 48, 7, api_name="/copy_generate")
    first = result[1]["value"] if isinstance(result[1], dict) else result[1]  # a textbox update
    assert first, result[0]
    client.predict("copy", "pick", "", "1", "", "", api_name="/feedback")
    client.predict("copy", "edit", "", "1", first + " Try it today.", "", api_name="/feedback")
    rows = {r["kind"]: r for r in stored()}
    assert rows["pick"]["template"] == "search_ad" and rows["pick"]["model"] == "qwen-0.5b"
    assert rows["pick"]["preset"] == "precise" and rows["pick"]["score"] == 1.0
    assert 0 < rows["edit"]["wer"] < 1
