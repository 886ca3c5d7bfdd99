"""The app through its API (gradio_client), launched in-process on the embedded models."""
import subprocess
import sys

import pandas as pd
import pytest

from tests.conftest import ROOT, free_port


def test_importing_the_app_loads_no_model_and_no_torch():
    code = ("import sys, app; from shared.models import registry; "
            "assert 'torch' not in sys.modules, 'torch imported at start-up'; "
            "assert all(r['state'] == 'not loaded' for r in registry.status()); "
            "print(sorted(d.api_name for d in app.demo.fns.values() if d.api_name))")
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr[-2000:]
    for endpoint in ("sentiment", "sentiment_file", "system_status", "system_load", "system_unload", "system_preload"):
        assert f"'{endpoint}'" in out.stdout


def test_every_setting_is_documented_in_readme():
    from shared.config import SETTINGS

    readme = (ROOT / "README.md").read_text()
    missing = [s.env for s in SETTINGS if f"`{s.env}`" not in readme]
    assert not missing, f"README lacks {missing}: paste `python -m shared.config` into it"


@pytest.fixture(scope="module")
def server():
    import app

    port = free_port()
    _, url, _ = app.launch(app.demo, server_port=port, prevent_thread_lock=True, quiet=True)
    yield url
    app.demo.close()


@pytest.fixture(scope="module")
def client(server):
    from gradio_client import Client

    return Client(server, verbose=False)


@pytest.mark.integration
def test_sentiment_endpoint(client):
    label, clauses, note = client.predict("I absolutely love this phone, the battery is amazing!", "auto",
                                          api_name="/sentiment")
    assert label["label"] == "positive"
    assert {c["label"] for c in label["confidences"]} == {"negative", "neutral", "positive"}
    assert "Language: en" in note
    label, clauses, _ = client.predict("质量很差，用了两天就坏了，非常失望。", "auto", api_name="/sentiment")
    assert label["label"] == "negative"
    _, clauses, note = client.predict("The battery life is fantastic but the screen scratches way too easily.", "auto",
                                      api_name="/sentiment")
    spans = [(c["token"], c["class_or_confidence"]) for c in clauses if c["class_or_confidence"]]
    assert spans == [("The battery life is fantastic", "positive"), ("but the screen scratches way too easily.", "negative")]
    assert "Overall: mixed" in note


@pytest.mark.integration
def test_sentiment_endpoint_rejects_empty_text(client):
    from gradio_client.exceptions import AppError

    with pytest.raises((AppError, ValueError)) as info:
        client.predict("   ", "auto", api_name="/sentiment")
    assert "enter a text" in str(info.value)


@pytest.mark.integration
def test_sentiment_file_endpoint(client, tmp_path):
    from gradio_client import handle_file

    frame = pd.DataFrame({"id": range(6), "review": ["I love it, works great!", "Terrible, it broke in a day.", "",
                                                   "这本书写得太好了", "质量很差", "Fast shipping, great seller"]})
    frame.to_csv(tmp_path / "reviews.csv", index=False)
    columns = client.predict(handle_file(str(tmp_path / "reviews.csv")), api_name="/sentiment_columns")
    assert columns["value"] == "review" if isinstance(columns, dict) else columns == "review"
    table, chart, download, summary = client.predict(handle_file(str(tmp_path / "reviews.csv")), "review", "auto",
                                                     False, api_name="/sentiment_file")
    result = pd.read_csv(download)
    assert len(result) == 6 and {"label", "language", "p_negative", "p_positive"} <= set(result.columns)
    assert result.loc[0, "label"] == "positive" and result.loc[1, "label"] == "negative"
    assert result.loc[2, "label"] == "(empty)" and result.loc[3, "language"] == "zh"
    assert "5 rows scored (1 empty skipped)" in summary


@pytest.mark.integration
def test_system_endpoints(client, fresh_settings):
    fresh_settings.setenv("AIPM_ADMIN_PASSWORD", "s3cret")
    client.predict("Nice!", "auto", api_name="/sentiment")
    rows = {r["name"]: r for r in client.predict(api_name="/system_status")}
    assert rows["sentiment"]["state"] == "loaded" and rows["sentiment-gemma"]["state"] == "loaded"
    gemma = rows["sentiment-gemma"]
    if gemma["dtype"] == "int8":  # the CPU default once set-up exported it (products/sentiment/onnx_gemma.py)
        assert gemma["source"] == "embedded: EmbeddingGemma-300M int8 ONNX"
        assert 200 < gemma["MB"] < 1000  # the 310 MB int8 graph in an ONNX Runtime session (measured 347-418 MB)
    else:  # torch: 302.9M parameters at 2 or 4 bytes, whichever dtype the machine picked
        bytes_per_value = {"bfloat16": 2, "float16": 2, "float32": 4}[gemma["dtype"].removeprefix("torch.")]
        assert gemma["source"] == "embedded: EmbeddingGemma-300M"
        assert 0.8 * 302.9 * bytes_per_value < gemma["MB"] < 1.3 * 302.9 * bytes_per_value
    client.predict("sentiment", "s3cret", api_name="/system_unload")
    rows = {r["name"]: r for r in client.predict(api_name="/system_status")}
    assert rows["sentiment"]["state"] == "not loaded"
    client.predict("sentiment", "s3cret", api_name="/system_load")
    rows = {r["name"]: r for r in client.predict(api_name="/system_status")}
    assert rows["sentiment"]["state"] == "loaded"
    info = client.predict(api_name="/system_device")
    assert info["device"] == "cpu" and info["torch threads"] >= 1


@pytest.mark.integration
def test_image_endpoint_uses_the_offline_emoji_model(client):
    """Nothing configured (tests are offline): the app's Image tab draws with the bundled emoji model."""
    gallery, seed_used, parameters, notes, files = client.predict(
        "a red heart", "", "3", 10, 7.5, 256, 256, 1, "Euler a", api_name="/image_generate")  # the draft preset
    assert len(gallery) == 1 and len(files) == 1 and seed_used == "3"
    assert "emoji-diffusion" in parameters and "Seed: 3" in parameters and "Sampler: Euler a" in parameters
    from PIL import Image

    assert Image.open(gallery[0]["image"]).size == (256, 256)


def test_a_broken_product_hides_its_tab_and_the_others_still_build(monkeypatch):
    import sys
    import types

    import app
    from shared.descriptor import Product

    broken = types.ModuleType("products.broken_demo")

    def build_tab():
        raise RuntimeError("model package missing")

    broken.PRODUCT = Product(name="broken_demo", title="sentiment.tab", build_tab=build_tab, actions=())
    monkeypatch.setitem(sys.modules, "products.broken_demo", broken)
    monkeypatch.setattr(app, "PRODUCTS", ["products.broken_demo", "products.sentiment"])
    demo = app.build_app()
    names = {d.api_name for d in demo.fns.values()}
    assert "sentiment" in names and "system_status" in names
    report = [c for c in demo.blocks.values() if getattr(c, "value", None) and isinstance(c.value, dict)
              and "data" in c.value and any("not shown" in str(row) for row in c.value["data"])]
    assert report, "the System tab lists the product that was left out"
