"""A sixth product needs its own package and one line in the list, nothing under shared/: a toy product
written to a temp folder is captured, rated through /feedback (with its own check hook), counted in
/insights_summary with a usage measure nobody declared before, and listed by the System tab."""
import sys
import textwrap

import pytest

from shared import descriptor, store
from shared.store.writer import Writer
from tests.conftest import free_port

TOY = '''
"""Echo: says a text back louder. The worked example of README's "Adding a product"."""
import gradio as gr

from shared import capture, feedback
from shared.config import product_settings, setting, as_int
from shared.descriptor import FeedbackKind, Measure, Product
from shared.i18n import I18N, add
from shared.ui import UserError, user_errors

add({"toyecho.tab": ("Echo", "回声"), "toyecho.fb.fix": ("Correct it", "改正")})


@product_settings
class EchoSettings:
    repeat: int = setting("AIPM_TOYECHO_REPEAT", "2", "How often Echo repeats a text.", as_int(1))


@user_errors
def shout(text: str) -> str:
    loud = " ".join([text.upper()] * EchoSettings.current().repeat)
    capture.note(model="echo-v1", chars=len(text), memo={"said": loud})
    return loud


def check_fix(rating) -> None:
    """A fix must differ from what Echo said; how many characters it changed is measured."""
    feedback.require_text(rating)
    said = rating.memo.get("said", "")
    if rating.text == said:
        raise UserError("That is what Echo said already.")
    rating.measures["changed_chars"] = sum(a != b for a, b in zip(rating.text, said)) + abs(len(rating.text) - len(said))


def build_tab() -> None:
    box = gr.Textbox(max_length=100)
    out = gr.Textbox()
    gr.Button().click(shout, box, out, api_name="toyecho_shout")
    fixed = gr.Textbox(max_length=100)
    feedback.buttons("toyecho", [("toyecho.fb.fix", "fix")], text=fixed)


PRODUCT = Product(
    name="toyecho", title="toyecho.tab", build_tab=build_tab,
    actions=("toyecho_shout",), rated=("toyecho_shout",),
    feedback=(FeedbackKind("fix", 0.0, check_fix),),
    measures=(Measure("chars", "characters echoed"),),
    settings=(EchoSettings,),
)
'''


@pytest.fixture(scope="module")
def toy_app(tmp_path_factory):
    import app
    from gradio_client import Client
    from products import PRODUCTS

    folder = tmp_path_factory.mktemp("toy")
    (folder / "toyecho").mkdir()
    (folder / "toyecho" / "__init__.py").write_text(textwrap.dedent(TOY), encoding="utf-8")
    sys.path.insert(0, str(folder))
    before = descriptor.registered()
    old = store.use_writer(Writer(f"sqlite:///{folder / 'toy.db'}"))
    demo = app.build_app([*PRODUCTS, "toyecho"])  # the one line a new product adds to products.PRODUCTS
    app.launch(demo, server_port=free_port(), prevent_thread_lock=True, quiet=True)
    try:
        yield Client(demo.local_url, verbose=False)
    finally:
        demo.close()
        store.use_writer(old)
        descriptor.register(before)
        sys.path.remove(str(folder))
        sys.modules.pop("toyecho", None)


def test_the_toy_product_is_captured_rated_counted_and_listed(toy_app):
    from gradio_client.exceptions import AppError

    assert toy_app.predict("hi", api_name="/toyecho_shout") == "HI HI"
    assert toy_app.predict("hey", api_name="/toyecho_shout") == "HEY HEY"

    # Rated through /feedback: its own kind and check hook, on this session's latest result.
    with pytest.raises(AppError, match="what Echo said already"):
        toy_app.predict("toyecho", "fix", "", "", "HEY HEY", "", api_name="/feedback")
    answer = toy_app.predict("toyecho", "fix", "", "", "hey there", "", api_name="/feedback")
    assert "Thank you" in answer
    with pytest.raises(AppError, match="not a kind of feedback for toyecho"):
        toy_app.predict("toyecho", "up", "", "", "", "", api_name="/feedback")

    # Counted in /insights_summary: requests, the rating, and the new usage measure, summed.
    summary = toy_app.predict("day", "all", "all", api_name="/insights_summary")
    usage = {row["product"]: row for row in summary["usage"]}
    assert usage["toyecho"]["requests"] == 2 and usage["toyecho"]["chars"] == 5
    per_model = {(row["product"], row["model"]): row for row in summary["per_model"]}
    assert per_model[("toyecho", "echo-v1")]["ratings"] == 1

    # The check hook's measure is stored with the rating, without a schema change.
    import json

    from sqlalchemy import select

    from shared.store.schema import feedback

    store.writer().flush(10)
    (row,) = store.read(select(feedback.c.kind, feedback.c.measures, feedback.c.score)
                        .where(feedback.c.product == "toyecho")).to_dict("records")
    assert row["kind"] == "fix" and row["score"] == 0.0 and json.loads(row["measures"]) == {"changed_chars": 8}

    # Listed by the System tab, with what it declared (its setting too).
    listed = {row["product"]: row for row in toy_app.predict(api_name="/system_products")}
    assert list(listed)[-1] == "toyecho" and listed["toyecho"]["status"] == "ok"
    assert listed["toyecho"]["measures"] == "chars" and listed["toyecho"]["feedback kinds"] == "fix"
    assert listed["toyecho"]["settings"] == "AIPM_TOYECHO_REPEAT"


def test_a_descriptor_that_contradicts_itself_is_refused():
    from shared.descriptor import FeedbackKind, Product

    with pytest.raises(ValueError, match="not among its actions"):
        Product(name="x", title="x", build_tab=lambda: None, actions=("x_run",), rated=("x_other",))
    with pytest.raises(ValueError, match="declared twice"):
        Product(name="x", title="x", build_tab=lambda: None, actions=(), feedback=(FeedbackKind("a"), FeedbackKind("a")))
    one = Product(name="x", title="x", build_tab=lambda: None, actions=("x_run",))
    with pytest.raises(ValueError, match="declared by"):
        descriptor.register([one, Product(name="y", title="y", build_tab=lambda: None, actions=("x_run",))])
    assert descriptor.get("x") is None, "a refused registration changes nothing"
