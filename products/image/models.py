"""The image model spec: any diffusers text-to-image pipeline, from a local folder or the hub.

No text-to-image weights ship in any registry package, so the offline source is a small emoji
model trained in this repo (products/image/emoji, bundled in assets/emoji-diffusion and checked
by size and sha256): it serves when neither AIPM_IMAGE_PATH nor a reachable AIPM_IMAGE_HUB is
there, unless AIPM_IMAGE_OFFLINE_MODEL=none. The loader is generic (`AutoPipelineForText2Image`),
so a model trained elsewhere plugs in by configuration. The loaded object is an `ImageModel`: the pipeline plus what the product asks of
it (schedulers, size limits, token limit, presets) and a lock, because a pipeline and its
scheduler are stateful and serve one generation at a time.
"""
from __future__ import annotations

import json
import logging
import threading
from dataclasses import dataclass, field
from pathlib import Path

from shared.models import registry
from shared.registry import LoadContext, ModelSpec
from shared.sources import Bundled, HubModel, LocalPath, Resolved, SourceUnavailable

from products.image.samplers import runs_cleanly
from products.image.settings import ImageSettings

log = logging.getLogger(__name__)

IMAGE = "image-generator"
PRESETS_FILE = "aipm_image.json"  # optional, in a model folder: {"presets": {...}, "default": "name"}
# Folders whose model_index.json names this class load with it (products/image/emoji, the model
# trained here); a fixed name, so a model folder can never make us import arbitrary code.
EMOJI_PIPELINE = "EmojiDiffusionPipeline"
EMOJI_FOLDER = Path(__file__).resolve().parents[2] / "assets" / "emoji-diffusion"
EMOJI_NAME = "emoji-diffusion (trained in this repo, the offline default)"
# The trained UNet weights (`python -m products.image.emoji.tools.train`, see docs/emoji_model.md).
EMOJI_WEIGHTS_SIZE = 9178620
EMOJI_WEIGHTS_SHA256 = "fadf1b56b29c8193028cee6744fec4d9ec6d05943499b7ce0492f72a4de55a6a"
# Its memory estimate is its own (the UNet in fp32, with room to spare), not the spec's SD-sized
# one: a small budget must not refuse the small model. Its text encoder is a model of its own.
EMOJI_SIZE_ESTIMATE = 2 * EMOJI_WEIGHTS_SIZE
EMOJI_WEIGHTS = Bundled("assets/emoji-diffusion/unet/diffusion_pytorch_model.safetensors",
                        size=EMOJI_WEIGHTS_SIZE, sha256=EMOJI_WEIGHTS_SHA256, size_estimate=EMOJI_SIZE_ESTIMATE)

# Scheduler choices shown to users -> (diffusers class name, extra config).
SCHEDULERS: dict[str, tuple[str, dict]] = {
    "Default": ("", {}),
    "Euler": ("EulerDiscreteScheduler", {}),
    "Euler a": ("EulerAncestralDiscreteScheduler", {}),
    "DPM++ 2M": ("DPMSolverMultistepScheduler", {"algorithm_type": "dpmsolver++", "solver_order": 2}),
    "DPM++ 2M Karras": ("DPMSolverMultistepScheduler",
                        {"algorithm_type": "dpmsolver++", "solver_order": 2, "use_karras_sigmas": True}),
    "LCM": ("LCMScheduler", {}),
}


def scheduler_named(default, name: str):
    """A scheduler of the kind SCHEDULERS names, on the noise schedule of `default` (a model's own
    scheduler, which "Default" returns)."""
    import diffusers

    cls_name, extra = SCHEDULERS[name]
    if not cls_name:
        return default
    return getattr(diffusers, cls_name).from_config(dict(default.config), **extra)


@dataclass(frozen=True)
class Preset:
    steps: int
    guidance: float
    width: int
    height: int
    scheduler: str = "Default"


@dataclass
class Profile:
    """What a model is and how it is best used: family, native size, presets (by name)."""

    name: str
    family: str  # "turbo", "lcm", "sdxl", "sd", "emoji"
    native: int  # native side in pixels
    presets: dict[str, Preset] = field(default_factory=dict)
    default: str = ""


def make_profile(name: str, pipeline_class: str = "", native: int = 0, lcm: bool = False,
                 extra: dict | None = None) -> Profile:
    """Presets per model family; a model folder's aipm_image.json may add or override them."""
    lowered = f"{name} {pipeline_class}".lower()
    if "xl" in lowered:
        family, side = "sdxl", native or 1024
    else:
        family, side = "sd", native or 512
    if "turbo" in lowered or "lightning" in lowered:
        family = "turbo"
    elif lcm or "lcm" in lowered:
        family = "lcm"
    presets: dict[str, Preset]
    if EMOJI_PIPELINE.lower() in lowered:  # the emoji model ships its own presets (aipm_image.json)
        family, presets = "emoji", {"Emoji, 25 steps": Preset(25, 3.0, side, side)}
    elif family == "turbo":
        presets = {"Turbo, 1 step": Preset(1, 0.0, side, side), "Turbo, 4 steps": Preset(4, 0.0, side, side)}
    elif family == "lcm":
        presets = {"LCM, 4 steps": Preset(4, 1.0, side, side, "LCM"), "LCM, 8 steps": Preset(8, 1.5, side, side, "LCM")}
    else:
        presets = {"Standard, 25 steps": Preset(25, 7.0, side, side, "DPM++ 2M Karras"),
                   "Draft, 10 steps": Preset(10, 6.0, side, side, "Euler a"),
                   "Quality, 40 steps": Preset(40, 7.5, side, side, "DPM++ 2M Karras")}
    default = next(iter(presets))
    extra = extra or {}
    for key, value in (extra.get("presets") or {}).items():
        try:
            presets[key] = Preset(int(value["steps"]), float(value["guidance"]), int(value.get("width", side)),
                                  int(value.get("height", side)), str(value.get("scheduler", "Default")))
        except (KeyError, TypeError, ValueError):
            log.warning("ignoring malformed preset %r in %s", key, PRESETS_FILE)
    if extra.get("default") in presets:
        default = extra["default"]
    return Profile(name=name, family=family, native=side, presets=presets, default=default)


def _read_json(path: Path) -> dict:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}


def folder_profile(folder: Path, name: str = "") -> Profile:
    """The profile from a diffusers folder's config files, without loading any weights."""
    index = _read_json(folder / "model_index.json")
    denoiser = _read_json(folder / "unet" / "config.json") or _read_json(folder / "transformer" / "config.json")
    vae = _read_json(folder / "vae" / "config.json")
    scheduler = _read_json(folder / "scheduler" / "scheduler_config.json")
    scale = 2 ** (len(vae.get("block_out_channels", [0, 0, 0, 0])) - 1)
    sample = denoiser.get("sample_size")
    native = int(sample * scale) if isinstance(sample, int) else 0
    lcm = scheduler.get("_class_name") == "LCMScheduler" or denoiser.get("time_cond_proj_dim") is not None
    return make_profile(name or folder.name, index.get("_class_name", ""), native, lcm, _read_json(folder / PRESETS_FILE))


def offline_model_enabled() -> bool:
    return ImageSettings.current().offline_model not in {"", "none", "0", "off"}


@dataclass(frozen=True)
class OfflineDefault:
    """The bundled emoji model: the last source, unless AIPM_IMAGE_OFFLINE_MODEL=none."""

    bundled: Bundled
    kind = "embedded"

    @property
    def size_estimate(self) -> int:
        return self.bundled.size_estimate

    def describe(self) -> str:
        return f"{self.bundled.describe()} ($AIPM_IMAGE_OFFLINE_MODEL)"

    def resolve(self) -> Resolved:
        if not offline_model_enabled():
            raise SourceUnavailable("$AIPM_IMAGE_OFFLINE_MODEL=none")
        if ImageSettings.current().path:  # a folder the user chose is never silently swapped for emoji
            raise SourceUnavailable("not used while $AIPM_IMAGE_PATH is set")
        return self.bundled.resolve()


def configured_source() -> str:
    """Which source the registry would load from, asked of the spec's own source chain (no load):
    "local", "hub", "emoji" or "" (none). A set AIPM_IMAGE_PATH counts as "local" even when it is
    wrong: the load then says why, and nothing else stands in for it."""
    if ImageSettings.current().path:
        return "local"
    resolved = registry.would_load(IMAGE)
    if resolved is None:
        return ""
    return "emoji" if resolved.kind == "embedded" else resolved.kind


def configured_profile() -> Profile:
    """The profile of the model the registry would load first (no load)."""
    source = configured_source()
    if source == "local":
        folder = Path(ImageSettings.current().path).expanduser()
        return folder_profile(folder) if folder.is_dir() else make_profile(folder.name)
    if source == "emoji":
        return folder_profile(EMOJI_FOLDER, EMOJI_NAME)
    return make_profile(ImageSettings.current().hub or "no model configured")


def model_card() -> str:
    """The offline emoji model's card (its README.md without the front matter), or ""."""
    try:
        text = (EMOJI_FOLDER / "README.md").read_text(encoding="utf-8")
    except OSError:
        return ""
    if text.startswith("---"):
        text = text.split("---", 2)[-1]
    return text.strip()


class ImageModel:
    """A loaded diffusers text-to-image pipeline with what the product needs to drive it."""

    def __init__(self, pipe, name: str, device: str, folder: Path | None = None):
        self.pipe = pipe
        self.name = name
        self._device = device
        self.lock = threading.Lock()
        self.default_scheduler = pipe.scheduler
        self.vae_scale = int(getattr(pipe, "vae_scale_factor", 8) or 8)
        denoiser = getattr(pipe, "unet", None) or getattr(pipe, "transformer", None)
        config = getattr(denoiser, "config", {}) or {}
        sample = config.get("sample_size") if hasattr(config, "get") else None
        native = int(sample * self.vae_scale) if isinstance(sample, int) else 0
        lcm = type(pipe.scheduler).__name__ == "LCMScheduler" or (
            hasattr(config, "get") and config.get("time_cond_proj_dim") is not None)
        extra = _read_json(folder / PRESETS_FILE) if folder else {}
        self.profile = make_profile(name, type(pipe).__name__, native, lcm, extra)
        self.tiling = False
        self._dry_runs: dict[tuple[str, int], bool] = {}

    # The registry's status table reads these.
    @property
    def device(self):
        return self._device

    @property
    def dtype(self):
        return getattr(self.pipe, "dtype", None)

    @property
    def tokenizer(self):
        return getattr(self.pipe, "tokenizer", None)

    def token_limit(self) -> int:
        """Tokens the (first) text encoder reads, special tokens excluded; 0 when unknown."""
        tokenizer = self.tokenizer
        limit = int(getattr(tokenizer, "model_max_length", 0) or 0) if tokenizer is not None else 0
        return limit - 2 if 2 < limit < 100_000 else 0

    def has_safety_checker(self) -> bool:
        return getattr(self.pipe, "safety_checker", None) is not None

    def supports_lcm(self) -> bool:
        return self.profile.family == "lcm"

    def scheduler_names(self) -> list[str]:
        """The scheduler choices this pipeline can use."""
        compatible = {c.__name__ for c in getattr(self.default_scheduler, "compatibles", [])}
        compatible.add(type(self.default_scheduler).__name__)
        names = []
        for name, (cls_name, _) in SCHEDULERS.items():
            if name == "Default" or (cls_name == "LCMScheduler" and self.supports_lcm()):
                names.append(name)
            elif cls_name in compatible and cls_name != "LCMScheduler":
                names.append(name)
        return names

    def make_scheduler(self, name: str):
        """A scheduler of the named kind on this model's noise schedule."""
        return scheduler_named(self.default_scheduler, name)

    def sampler_works(self, name: str, steps: int) -> bool:
        """Whether the named scheduler runs `steps` steps of this model's schedule (samplers.py)."""
        key = (name, int(steps))
        if key not in self._dry_runs:
            self._dry_runs[key] = runs_cleanly(self.make_scheduler(name), int(steps))
        return self._dry_runs[key]

    def use_scheduler(self, name: str) -> None:
        """Switch the pipeline's scheduler (call with `lock` held)."""
        self.pipe.scheduler = self.make_scheduler(name)

    def use_tiling(self, pixels: int) -> None:
        """VAE tiling per AIPM_IMAGE_VAE_TILING: auto tiles images above 1 MP on CUDA."""
        mode = ImageSettings.current().vae_tiling
        want = mode in {"1", "on", "true"} or (mode == "auto" and self._device == "cuda" and pixels > 1024 * 1024)
        vae = getattr(self.pipe, "vae", None)
        if vae is None or not hasattr(vae, "enable_tiling") or want == self.tiling:
            return
        vae.enable_tiling() if want else vae.disable_tiling()
        self.tiling = want


def load_pipeline(ctx: LoadContext) -> ImageModel:
    import torch
    from diffusers import AutoPipelineForText2Image

    from shared.zerogpu import on_zero_gpu

    location = ctx.source.location
    dtype = ctx.dtype or torch.float32
    kwargs = dict(dtype=dtype, use_safetensors=True)  # diffusers 0.42: `dtype` (torch_dtype is deprecated)
    pipeline_class = AutoPipelineForText2Image
    if ctx.source.kind == "embedded":  # the bundled emoji model: its verified weights' folder
        location = str(Path(location).parents[1])
        from products.image.emoji.pipeline import EmojiDiffusionPipeline as pipeline_class
        kwargs["local_files_only"] = True
    elif ctx.source.kind == "local":
        kwargs["local_files_only"] = True
        if not (Path(location) / "model_index.json").is_file():
            raise FileNotFoundError(f"{location} is not a diffusers pipeline folder (no model_index.json)")
        if _read_json(Path(location) / "model_index.json").get("_class_name") == EMOJI_PIPELINE:
            from products.image.emoji.pipeline import EmojiDiffusionPipeline as pipeline_class
    config = ImageSettings.current()
    if config.variant:
        kwargs["variant"] = config.variant
    if not config.safety and pipeline_class is AutoPipelineForText2Image:
        kwargs.update(safety_checker=None, requires_safety_checker=False)
    ctx.progress(0.1, f"loading diffusers pipeline from {ctx.source.label}...")
    pipe = pipeline_class.from_pretrained(location, **kwargs)
    pipe.set_progress_bar_config(disable=True)
    device = ctx.device
    if device == "cuda" and config.cpu_offload:
        pipe.enable_model_cpu_offload()  # raises a clear ImportError without accelerate
    else:
        pipe.to(device)
    # SDPA attention is diffusers' default processor on torch 2; compile only where it pays off.
    if device == "cuda" and config.compile and not on_zero_gpu():
        if getattr(pipe, "unet", None) is not None:
            pipe.unet = torch.compile(pipe.unet)
        elif getattr(pipe, "transformer", None) is not None:
            pipe.transformer = torch.compile(pipe.transformer)
    folder = Path(location) if ctx.source.kind in {"local", "embedded"} else None
    name = EMOJI_NAME if ctx.source.kind == "embedded" else folder.name if folder else location
    ctx.progress(0.9, "pipeline ready")
    return ImageModel(pipe, name, device, folder)


IMAGE_SPEC = ModelSpec(
    name=IMAGE,
    loader=load_pipeline,
    sources=(LocalPath("AIPM_IMAGE_PATH"), HubModel("AIPM_IMAGE_HUB"), OfflineDefault(EMOJI_WEIGHTS)),
    description="Text-to-image diffusers pipeline (a configured local folder or hub model; offline, the small "
                "emoji model trained in this repo)",
    size_estimate=2_600_000_000,  # a configured SD-turbo in fp16 with text encoder and VAE; emoji has its own
    fix_hint="set AIPM_IMAGE_PATH to a local diffusers text-to-image folder (with model_index.json), "
             "or set AIPM_IMAGE_HUB to a hub id (e.g. stabilityai/sd-turbo) with the hub reachable and AIPM_OFFLINE=0, "
             "or restore assets/emoji-diffusion (git checkout, or retrain: python -m products.image.emoji.tools.train) "
             "with AIPM_IMAGE_OFFLINE_MODEL=emoji",
)

registry.register(IMAGE_SPEC)
