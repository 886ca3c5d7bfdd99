"""EmbeddingGemma as int8 ONNX (products/sentiment/onnx_gemma.py): the file's verification and the fallback
to torch, the encoder's interface on a tiny graph (fast), and the real int8 graph against torch float32
(integration, where `python -m products.sentiment.onnx_gemma export` made it)."""
import dataclasses
import json

import numpy as np
import pytest

from shared import artifacts
from shared.registry import ModelRegistry
from shared.sources import NotConfigured, Resolved, SourceUnavailable
from tests import tiny_models

from products.sentiment import encoders, gemma, onnx_gemma

PROMPT = encoders.GEMMA_PROMPT


@pytest.fixture
def fake_export(tmp_path, fresh_settings, monkeypatch):
    """A model folder with an "exported" file, its manifest and the tokenizer files, all recorded."""
    fresh_settings.setenv("AIPM_CACHE_DIR", str(tmp_path / "cache"))
    folder = tmp_path / "gemma"
    folder.mkdir()
    monkeypatch.setattr(gemma, "model_dir", lambda: folder)
    files = []
    for name in ("tokenizer.json", "tokenizer_config.json", "config.json"):
        (folder / name).write_bytes(name.encode() * 3)
        files.append((name, (folder / name).stat().st_size, artifacts.sha256_of(folder / name)))
    monkeypatch.setattr(gemma, "FILES", tuple(files))
    monkeypatch.setattr(onnx_gemma, "PINNED", None)
    onnx_gemma.path().write_bytes(b"not really a graph" * 10)
    record = {"size": onnx_gemma.path().stat().st_size, "sha256": artifacts.sha256_of(onnx_gemma.path())}
    onnx_gemma.manifest_path().write_text(json.dumps(record))
    return folder


def test_a_recorded_file_verifies(fake_export):
    assert onnx_gemma.is_ready()
    assert onnx_gemma.verify(force=True) == onnx_gemma.path()


def test_a_wrong_sha256_is_a_clear_error(fake_export):
    onnx_gemma.path().write_bytes(b"NOT really a graph" * 10)  # same size, other bytes
    with pytest.raises(artifacts.ArtifactError, match="checksum mismatch"):
        onnx_gemma.verify(force=True)
    with pytest.raises(SourceUnavailable, match="checksum mismatch") as why:
        encoders.ExportedGemma().resolve()
    assert "onnx_gemma export" in why.value.fix


def test_a_missing_file_or_manifest_says_how_to_export(fake_export):
    onnx_gemma.manifest_path().unlink()
    with pytest.raises(artifacts.ArtifactError, match="onnx_gemma export"):
        onnx_gemma.verify()
    onnx_gemma.path().unlink()
    assert not onnx_gemma.is_ready()
    with pytest.raises(artifacts.ArtifactError, match="not exported"):
        onnx_gemma.verify()


def test_a_pinned_hash_wins_over_the_manifest(fake_export, monkeypatch):
    monkeypatch.setattr(onnx_gemma, "PINNED", (onnx_gemma.path().stat().st_size, "0" * 64))
    with pytest.raises(artifacts.ArtifactError, match="checksum mismatch"):
        onnx_gemma.verify(force=True)


def test_a_damaged_tokenizer_file_is_refused_too(fake_export):
    (fake_export / "tokenizer.json").write_bytes(b"x" * len(b"tokenizer.json" * 3))
    with pytest.raises(artifacts.ArtifactError, match="checksum mismatch"):
        onnx_gemma.verify(force=True)


def _registry_with(monkeypatch, torch_folder):
    """The real gemma spec (its sources in their order) with a loader that says what it would load."""
    monkeypatch.setattr(encoders.AssembledGemma, "resolve",
                        lambda self: Resolved("embedded", str(torch_folder), "embedded: EmbeddingGemma-300M"))
    spec = dataclasses.replace(encoders.SPECS[encoders.GEMMA], loader=lambda ctx: {
        "runtime": "onnx" if ctx.source.location.endswith(".onnx") else "torch", "where": ctx.source.location})
    registry = ModelRegistry(budget_bytes=10**10, keep_alive_s=0)
    registry.register(spec)
    return registry, spec.name


def test_the_spec_loads_the_onnx_file_on_the_cpu_and_falls_back_to_torch(fake_export, fresh_settings, monkeypatch):
    fresh_settings.setenv("AIPM_DEVICE", "cpu")
    registry, name = _registry_with(monkeypatch, fake_export)
    with registry.use(name) as model:
        assert model["runtime"] == "onnx"
    registry.unload(name)
    onnx_gemma.path().write_bytes(b"NOT really a graph" * 10)  # damaged: torch, and the note says why
    with registry.use(name) as model:
        assert model["runtime"] == "torch"
    assert "checksum mismatch" in registry.status_of(name)["note"]


@pytest.mark.parametrize("runtime,device,wanted", [("auto", "cpu", "onnx"), ("auto", "cuda", "torch"),
                                                   ("onnx", "cuda", "onnx"), ("torch", "cpu", "torch")])
def test_the_runtime_setting(fake_export, fresh_settings, monkeypatch, runtime, device, wanted):
    import shared.device

    fresh_settings.setenv("AIPM_SENTIMENT_GEMMA_RUNTIME", runtime)
    monkeypatch.setattr(shared.device, "resolve_device", lambda policy="auto": device)
    if wanted == "onnx":
        assert encoders.ExportedGemma().resolve().location.endswith(".onnx")
    else:
        with pytest.raises(NotConfigured):  # not a failure: the registry's note stays quiet
            encoders.ExportedGemma().resolve()
    registry, name = _registry_with(monkeypatch, fake_export)
    with registry.use(name) as model:
        assert model["runtime"] == wanted
    assert registry.status_of(name)["note"] == ""


def test_a_bad_runtime_setting_is_refused(fresh_settings):
    from products.sentiment.settings import SentimentSettings

    fresh_settings.setenv("AIPM_SENTIMENT_GEMMA_RUNTIME", "openvino")
    with pytest.raises(ValueError, match="AIPM_SENTIMENT_GEMMA_RUNTIME"):
        SentimentSettings.current()


def test_the_setup_step_follows_the_assembly_and_never_fails_without_it(fresh_settings, monkeypatch):
    import setup_steps

    names = [s.name for s in setup_steps.steps()]
    assert names.index(setup_steps.GEMMA_ONNX) == names.index(setup_steps.GEMMA) + 1
    assert onnx_gemma.SETUP_STEP == setup_steps.GEMMA_ONNX
    monkeypatch.setattr(gemma, "is_ready", lambda: False)
    assert "not assembled" in setup_steps.gemma_onnx_skip()
    monkeypatch.setattr(gemma, "is_ready", lambda: True)
    assert setup_steps.gemma_onnx_skip() == ""
    fresh_settings.setenv("AIPM_SENTIMENT_GEMMA_RUNTIME", "torch")
    assert "torch" in setup_steps.gemma_onnx_skip()


# ---- the encoder's interface, on a tiny float graph --------------------------------------------------
@pytest.fixture(scope="module")
def tiny_graph(tmp_path_factory):
    """A 1-layer BERT with mean pooling and normalisation, as ONNX (inputs and output named like the real
    graph's), and the same model in torch as a PromptedEncoder."""
    pytest.importorskip("onnx")  # torch's exporter writes with it (set-up installs it)
    import torch
    from transformers import AutoModel, AutoTokenizer

    from shared.encoder import mean_pool

    folder = tiny_models.tiny_encoder(tmp_path_factory.mktemp("tiny") / "encoder")
    tokenizer = AutoTokenizer.from_pretrained(folder)
    model = AutoModel.from_pretrained(folder, dtype=torch.float32).eval()

    class Pooled(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.model = model

        def forward(self, input_ids, attention_mask):
            hidden = self.model(input_ids=input_ids, attention_mask=attention_mask).last_hidden_state
            return torch.nn.functional.normalize(mean_pool(hidden, attention_mask), dim=-1)

    file = folder / "tiny.onnx"
    ids = torch.tensor([[1, 5, 6, 2], [1, 5, 2, 0]])
    with torch.no_grad():
        torch.onnx.export(Pooled().eval(), (ids, (ids != 0).long()), str(file), dynamo=False,
                          opset_version=onnx_gemma.OPSET, input_names=["input_ids", "attention_mask"],
                          output_names=["embedding"], dynamic_axes={"input_ids": {0: "batch", 1: "sequence"},
                                                                    "attention_mask": {0: "batch", 1: "sequence"},
                                                                    "embedding": {0: "batch"}})
    return file, tokenizer, encoders.PromptedEncoder(model, tokenizer, 16, PROMPT)


TEXTS = ["good", "a rather long text that is cut at the token limit because it goes on and on and on", "bad",
         "中文也可以"]


def test_the_prompt_and_the_limit_are_the_torch_encoders():
    assert onnx_gemma.PROMPT == encoders.GEMMA_PROMPT
    assert onnx_gemma.MAX_TOKENS == encoders.MAX_TOKENS[encoders.GEMMA]


def test_the_onnx_encoder_matches_the_torch_encoders_interface(tiny_graph):
    file, tokenizer, torch_encoder = tiny_graph
    onnx_encoder = onnx_gemma.OnnxGemmaEncoder(file, tokenizer=tokenizer, threads=1, max_tokens=16, prompt=PROMPT)
    for attr in ("tokenizer", "max_tokens", "prompt", "prompt_tokens", "dim"):
        assert getattr(onnx_encoder, attr) == getattr(torch_encoder, attr), attr
    vectors, tokens = onnx_encoder.encode_counted(TEXTS, batch_size=3)
    expected, expected_tokens = torch_encoder.encode_counted(TEXTS, batch_size=3)
    assert vectors.dtype == np.float32 and vectors.shape == (len(TEXTS), torch_encoder.dim)
    assert tokens == expected_tokens  # the prompt counted, each text cut at max_tokens
    np.testing.assert_allclose(vectors, expected, atol=1e-4)
    np.testing.assert_allclose(onnx_encoder.encode(TEXTS, batch_size=1), vectors, atol=1e-4)
    assert onnx_encoder.encode([]).shape == (0, torch_encoder.dim)
    assert (onnx_encoder.device, onnx_encoder.dtype) == ("cpu", "int8")
    assert onnx_encoder.memory_bytes() >= file.stat().st_size


def test_the_session_takes_its_threads_from_the_settings_and_runs_sequentially(tiny_graph, fresh_settings):
    import onnxruntime as ort

    file, tokenizer, _ = tiny_graph
    fresh_settings.setenv("AIPM_TORCH_THREADS", "3")
    import shared.device

    clear = getattr(shared.device.cpu_threads, "cache_clear", lambda: None)  # the thread count is read once
    clear()
    try:
        options = onnx_gemma.OnnxGemmaEncoder(file, tokenizer=tokenizer).session.get_session_options()
    finally:
        clear()
    assert options.intra_op_num_threads == 3
    assert options.execution_mode == ort.ExecutionMode.ORT_SEQUENTIAL


def test_the_heads_score_the_onnx_encoder_like_the_torch_one(tiny_graph, tmp_path):
    """products/sentiment/models.py's predict and limits over either encoder give the same answer."""
    from products.sentiment.heads import load_heads
    from products.sentiment.models import EmbeddedSentiment

    file, tokenizer, torch_encoder = tiny_graph
    onnx_encoder = onnx_gemma.OnnxGemmaEncoder(file, tokenizer=tokenizer, threads=1, max_tokens=16, prompt=PROMPT)
    heads = load_heads(tiny_models.random_heads(tmp_path / "heads.safetensors"))
    model = EmbeddedSentiment(heads)
    assert model.limits(onnx_encoder) == model.limits(torch_encoder)
    np.testing.assert_allclose(model.predict(TEXTS, "en", onnx_encoder), model.predict(TEXTS, "en", torch_encoder),
                               atol=1e-4)


# ---- the real int8 graph ---------------------------------------------------------------------------
@pytest.mark.integration
@pytest.mark.skipif(not onnx_gemma.is_ready(), reason="the int8 ONNX EmbeddingGemma is not exported here")
def test_int8_vectors_and_labels_agree_with_torch_float32():
    import torch

    from products.sentiment.models import bundled_heads
    from shared.specs import LoadContext

    texts = {"en": ["I absolutely love this phone, the battery is amazing!", "The plot was dull and far too long.",
                    "This is the worst purchase I have ever made. Total garbage.",
                    "A warm, funny and beautifully acted film."],
             "zh": ["这家餐厅的菜很好吃，服务也很周到，推荐！", "质量很差，用了两天就坏了，非常失望。",
                    "房间干净，早餐丰富，前台服务热情。", "客服态度恶劣，再也不会买了。"]}
    folder = gemma.verify_model()
    spec = encoders.SPECS[encoders.GEMMA]
    # float32 whatever AIPM_DTYPE says: the reference is the model as shipped
    reference = encoders.load_gemma(LoadContext(spec, Resolved("embedded", str(folder), "torch"), "cpu",
                                                torch.float32, lambda *a: None))
    int8 = onnx_gemma.load()
    heads, _ = bundled_heads({"en": "gemma", "zh": "gemma"})
    for lang, batch in texts.items():
        want, got = reference.encode(batch), int8.encode(batch)
        cosine = (want * got).sum(1)
        assert cosine.min() >= 0.98, (lang, cosine)
        with torch.inference_mode():
            labels = [heads[lang](torch.from_numpy(v), batch).argmax(-1).tolist() for v in (want, got)]
        assert labels[0] == labels[1], (lang, labels)
