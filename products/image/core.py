"""Text-to-image as plain functions: usable and testable without Gradio.

check_request: bad input -> UserError with a clear message, before any model loads.
iter_generate: per image (seed, seed+1, ...) one pipeline call, progress per denoising step, a
stop flag checked after every step; yields the result after each finished image, so a Stop keeps
the images finished so far. Every image carries its parameters, written into its PNG as the
"parameters" text that Stable Diffusion web UIs write, plus a JSON copy.
"""
from __future__ import annotations

import json
import re
import threading
import time
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Callable, Iterator

from shared.i18n import t
from shared.seeds import SEED_SPAN, parse_seed  # the first image's seed: one rule for every product
from shared.streams import run_to_end
from shared.ui import UserError

from products.image import strings  # noqa: F401  (registers the texts)
from products.image.models import IMAGE, SCHEDULERS
from products.image.settings import ImageSettings


MAX_PROMPT_CHARS = 10_000
MIN_SIDE = 64
MAX_SIDE = 8192
MULTIPLE = 8


def max_pixels(config: ImageSettings | None = None) -> int:
    return (config or ImageSettings.current()).max_pixels  # at least MIN_SIDE x MIN_SIDE (settings.py)


def max_images(config: ImageSettings | None = None) -> int:
    return (config or ImageSettings.current()).max_images


def max_steps(config: ImageSettings | None = None) -> int:
    return (config or ImageSettings.current()).max_steps


@dataclass(frozen=True)
class Params:
    """What one generation asks for; `seed` is the first image's (image i uses seed + i)."""

    prompt: str
    negative_prompt: str = ""
    seed: int = 0
    steps: int = 4
    guidance: float = 0.0
    width: int = 512
    height: int = 512
    num_images: int = 1
    scheduler: str = "Default"
    model: str = ""


@dataclass
class Image:
    image: object  # PIL.Image
    params: Params  # with this image's own seed and num_images=1
    path: str = ""  # the PNG with metadata, once saved

    @property
    def text(self) -> str:
        return parameters_text(self.params)


@dataclass
class Result:
    params: Params
    images: list[Image] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    flagged: list[int] = field(default_factory=list)  # 1-based indices withheld by the safety checker
    stopped: bool = False
    done: bool = False
    seconds: float = 0.0
    steps_run: int = 0


class Stopped(Exception):
    """Raised from the step callback when the user pressed Stop."""


# ---- input checks -----------------------------------------------------------------------------
def _number(value, name: str, lang: str, kind=float):
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise UserError(t("image.error.number", lang, field=name, value=value)) from None
    if number != number or number in (float("inf"), float("-inf")):
        raise UserError(t("image.error.number", lang, field=name, value=value))
    return int(round(number)) if kind is int else number


def fit_size(width: int, height: int, budget: int, multiple: int = MULTIPLE) -> tuple[int, int]:
    """Round to multiples of `multiple` (at least MIN_SIDE) and scale down, keeping the aspect
    ratio, until width x height fits the pixel budget."""
    w, h = max(MIN_SIDE, width), max(MIN_SIDE, height)
    if w * h > budget:
        scale = (budget / (w * h)) ** 0.5
        w, h = w * scale, h * scale
    w = max(MIN_SIDE, int(w) // multiple * multiple)
    h = max(MIN_SIDE, int(h) // multiple * multiple)
    while w * h > budget and (w > MIN_SIDE or h > MIN_SIDE):  # rounding can still overshoot a little
        if w >= h:
            w -= multiple
        else:
            h -= multiple
    return w, h


def check_request(prompt, negative_prompt="", seed=None, steps=4, guidance=0.0, width=512, height=512,
                  num_images=1, scheduler="Default", lang: str = "en",
                  config: ImageSettings | None = None) -> tuple[Params, list[str]]:
    """Validate and normalise a request (no model needed) against the limits in `config` (default: the
    current settings); notes say what was adjusted."""
    prompt = (prompt or "").strip()
    negative_prompt = (negative_prompt or "").strip()
    if not prompt:
        raise UserError(t("image.error.empty", lang))
    for text in (prompt, negative_prompt):
        if len(text) > MAX_PROMPT_CHARS:
            raise UserError(t("image.error.prompt_chars", lang, chars=len(text), limit=MAX_PROMPT_CHARS))
    steps = _number(steps, "steps", lang, int)
    if not 1 <= steps <= max_steps(config):
        raise UserError(t("image.error.steps", lang, steps=steps, limit=max_steps(config)))
    guidance = _number(guidance, "guidance", lang)
    if not 0 <= guidance <= 30:
        raise UserError(t("image.error.guidance", lang, value=guidance))
    num_images = _number(num_images, "images", lang, int)
    if not 1 <= num_images <= max_images(config):
        raise UserError(t("image.error.count", lang, count=num_images, limit=max_images(config)))
    w_in, h_in = _number(width, "width", lang, int), _number(height, "height", lang, int)
    if not (MIN_SIDE // 2 <= w_in <= MAX_SIDE and MIN_SIDE // 2 <= h_in <= MAX_SIDE):
        raise UserError(t("image.error.size", lang, low=MIN_SIDE // 2, high=MAX_SIDE, width=w_in, height=h_in))
    scheduler = scheduler or "Default"
    if scheduler not in SCHEDULERS:
        raise UserError(t("image.error.scheduler", lang, name=scheduler, choices=", ".join(SCHEDULERS)))
    params = Params(prompt, negative_prompt, parse_seed(seed, lang), steps, round(guidance, 2), w_in, h_in,
                    num_images, scheduler)
    return params, []


def fit_to_model(params: Params, model, lang: str = "en",
                 config: ImageSettings | None = None) -> tuple[Params, list[str]]:
    """Adjust to the loaded model: size multiples and pixel budget, scheduler support, prompts
    over the text encoder's token limit (cut, with a note)."""
    notes = []
    multiple = max(MULTIPLE, model.vae_scale)
    budget = max_pixels(config)
    w, h = fit_size(params.width, params.height, budget, multiple)
    if (w, h) != (params.width, params.height):
        why = []
        if params.width % multiple or params.height % multiple or min(params.width, params.height) < MIN_SIDE:
            why.append(t("image.note.multiple", lang, multiple=multiple))
        if params.width * params.height > budget:
            why.append(t("image.note.budget", lang, budget=budget))
        notes.append(t("image.note.size", lang, asked=f"{params.width}x{params.height}", used=f"{w}x{h}",
                       why="; ".join(why) or t("image.note.multiple", lang, multiple=multiple)))
    choices = model.scheduler_names()
    if params.scheduler not in choices:
        key = "image.error.lcm" if params.scheduler == "LCM" else "image.error.scheduler"
        raise UserError(t(key, lang, name=params.scheduler, choices=", ".join(choices)))
    if not model.sampler_works(params.scheduler, params.steps):
        working = [name for name in choices if model.sampler_works(name, params.steps)]
        raise UserError(t("image.error.sampler_steps", lang, name=params.scheduler, steps=params.steps,
                          choices=", ".join(working)))
    prompt, negative = params.prompt, params.negative_prompt
    limit = model.token_limit()
    if limit:
        prompt, note = _truncate(model.tokenizer, prompt, limit, t("image.note.prompt", lang), lang)
        notes += note
        if negative:
            negative, note = _truncate(model.tokenizer, negative, limit, t("image.note.negative", lang), lang)
            notes += note
    if negative and params.guidance <= 1:
        notes.append(t("image.note.negative_unused", lang, guidance=params.guidance))
    return replace(params, prompt=prompt, negative_prompt=negative, width=w, height=h, model=model.name), notes


def _truncate(tokenizer, text: str, limit: int, which: str, lang: str) -> tuple[str, list[str]]:
    ids = tokenizer(text, add_special_tokens=False, truncation=False)["input_ids"]
    if len(ids) <= limit:
        return text, []
    kept = tokenizer.decode(ids[:limit], skip_special_tokens=True, clean_up_tokenization_spaces=True).strip()
    tail = " ".join(kept.split()[-6:])
    return kept, [t("image.note.truncated", lang, which=which, tokens=len(ids), limit=limit, tail=tail)]


# ---- generation -------------------------------------------------------------------------------
def iter_generate(params: Params, registry=None, progress: Callable[[float, str], None] | None = None,
                  stop: threading.Event | None = None, lang: str = "en", out_dir: str | Path | None = None,
                  notes: list[str] | None = None, config: ImageSettings | None = None) -> Iterator[Result]:
    """Generate `params.num_images` images; yields the Result after each image and at the end.

    Image i uses seed + i, so any single image can be reproduced on its own. When `stop` is set,
    the current image is abandoned at its next step and the finished ones are kept.
    """
    from shared.models import registry as default_registry

    registry = registry or default_registry
    report = progress or (lambda fraction, text: None)
    stop = stop or threading.Event()
    with registry.use(IMAGE, progress) as model:
        fitted, more = fit_to_model(params, model, lang, config)
        result = Result(fitted, notes=list(notes or []) + more)
        total = fitted.num_images * fitted.steps
        start = time.perf_counter()
        for index in range(fitted.num_images):
            if stop.is_set():
                result.stopped = True
                break
            one = replace(fitted, seed=(fitted.seed + index) % SEED_SPAN, num_images=1)

            def on_step(pipe, step, timestep, tensors, index=index):
                result.steps_run += 1
                report((index * fitted.steps + step + 1) / total,
                       t("image.progress", lang, image=index + 1, images=fitted.num_images,
                         step=step + 1, steps=fitted.steps))
                if stop.is_set():
                    raise Stopped()
                return {}

            # The lock is held per image, never across a yield: an abandoned stream cannot block others.
            with model.lock:
                model.use_scheduler(fitted.scheduler)
                model.use_tiling(fitted.width * fitted.height)
                try:
                    output = run_pipeline(model.pipe, one, on_step)
                except Stopped:
                    free = getattr(model.pipe, "maybe_free_model_hooks", None)
                    if free:
                        free()
                    result.stopped = True
                    break
            flagged = (getattr(output, "nsfw_content_detected", None) or [False])[0]
            if flagged:
                result.flagged.append(index + 1)
                result.notes.append(t("image.note.flagged", lang, index=index + 1, seed=one.seed))
            else:
                image = Image(output.images[0], one)
                if out_dir is not None:
                    image.path = str(save_png(image, out_dir))
                result.images.append(image)
            result.seconds = time.perf_counter() - start
            if index + 1 < fitted.num_images:
                yield result
        result.seconds = time.perf_counter() - start
        if result.stopped:
            result.notes.append(t("image.note.stopped", lang, done=len(result.images) + len(result.flagged),
                                  total=fitted.num_images))
        result.notes.append(t("image.note.done", lang, count=len(result.images), seconds=result.seconds,
                              per_step=result.seconds / max(1, result.steps_run)))
        result.done = True
        yield result


def run_pipeline(pipe, params: Params, on_step=None):
    """One raw pipeline call for one image, with a CPU generator seeded for reproducibility."""
    import torch

    generator = torch.Generator(device="cpu").manual_seed(params.seed)
    kwargs = dict(prompt=params.prompt, num_inference_steps=params.steps, guidance_scale=params.guidance,
                  width=params.width, height=params.height, generator=generator, num_images_per_prompt=1)
    if params.negative_prompt and params.guidance > 1:
        kwargs["negative_prompt"] = params.negative_prompt
    if on_step is not None:
        kwargs["callback_on_step_end"] = on_step
    with torch.inference_mode():
        return pipe(**kwargs)


def default_preset(registry=None):
    """The default preset of the model `registry` serves: the configured model's, read from its files
    without loading, for the app's registry; another registry's model is loaded to ask it."""
    if registry is None:
        from products.image.models import configured_profile

        profile = configured_profile()
    else:
        with registry.use(IMAGE) as model:
            profile = model.profile
    return profile.presets[profile.default]


def generate(prompt, negative_prompt="", seed=None, steps=None, guidance=None, width=None, height=None,
             num_images=1, scheduler=None, registry=None, progress=None, stop=None, lang="en",
             out_dir=None, config: ImageSettings | None = None) -> Result:
    """Check the request, generate, and return the final Result (limits from `config`, default: the
    current settings). Steps, guidance, size and sampler left out come from the model's default
    preset, as in the tab (the emoji model: 25 steps of Euler a at guidance 7.5, 256x256)."""
    if None in (steps, guidance, width, height, scheduler):
        preset = default_preset(registry)
        steps = preset.steps if steps is None else steps
        guidance = preset.guidance if guidance is None else guidance
        width = preset.width if width is None else width
        height = preset.height if height is None else height
        scheduler = preset.scheduler if scheduler is None else scheduler
    params, notes = check_request(prompt, negative_prompt, seed, steps, guidance, width, height, num_images,
                                  scheduler, lang, config)
    return run_to_end(iter_generate(params, registry, progress, stop, lang, out_dir, notes, config))


# ---- metadata ---------------------------------------------------------------------------------
_LABELS = [("steps", "Steps"), ("scheduler", "Sampler"), ("guidance", "CFG scale"), ("seed", "Seed"),
           ("size", "Size"), ("model", "Model")]


def _quote(value: str) -> str:
    return json.dumps(value, ensure_ascii=False) if any(c in value for c in ',:"\n') else value


def parameters_text(params: Params) -> str:
    """The generation parameters as Stable Diffusion web UIs write them (prompt, negative, settings)."""
    values = {"steps": str(params.steps), "scheduler": params.scheduler, "guidance": f"{params.guidance:g}",
              "seed": str(params.seed), "size": f"{params.width}x{params.height}", "model": params.model}
    lines = [params.prompt]
    if params.negative_prompt:
        lines.append(f"Negative prompt: {params.negative_prompt}")
    lines.append(", ".join(f"{label}: {_quote(values[key])}" for key, label in _LABELS if values[key] != ""))
    return "\n".join(lines)


_PAIR = re.compile(r'\s*([\w ]+):\s*("(?:\\.|[^\\"])*"|[^,]*)(?:,|$)')


def parse_parameters_text(text: str) -> Params:
    """Read back the "parameters" text (the inverse of parameters_text)."""
    lines = text.strip().split("\n")
    settings_line = lines.pop() if len(lines) > 1 or _PAIR.match(lines[0] or "") else ""
    negative, prompt_lines, in_negative = [], [], False
    for line in lines:
        if line.startswith("Negative prompt:"):
            in_negative = True
            line = line[len("Negative prompt:"):].strip()
        (negative if in_negative else prompt_lines).append(line)
    values = {}
    for key, value in _PAIR.findall(settings_line):
        value = value.strip()
        values[key.strip()] = json.loads(value) if value.startswith('"') else value
    width, _, height = values.get("Size", "0x0").partition("x")
    return Params(prompt="\n".join(prompt_lines), negative_prompt="\n".join(negative),
                  seed=int(values.get("Seed", 0)), steps=int(values.get("Steps", 0)),
                  guidance=float(values.get("CFG scale", 0)), width=int(width), height=int(height),
                  num_images=1, scheduler=values.get("Sampler", "Default"), model=values.get("Model", ""))


def save_png(image: Image, folder: str | Path) -> Path:
    """Write the image as PNG with a "parameters" text chunk and a JSON copy ("aipm-image")."""
    from PIL.PngImagePlugin import PngInfo

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    info = PngInfo()
    info.add_text("parameters", image.text)
    info.add_text("aipm-image", json.dumps(asdict(image.params), ensure_ascii=False))
    slug = re.sub(r"[^a-z0-9]+", "-", image.params.prompt.lower())[:40].strip("-") or "image"
    path = folder / f"{slug}-{image.params.seed}.png"
    image.image.save(path, format="PNG", pnginfo=info)
    return path


def read_png_parameters(path: str | Path) -> dict:
    """The parameters stored in a PNG: {"parameters": text, "params": Params from the JSON chunk}."""
    from PIL import Image as PILImage

    with PILImage.open(path) as png:
        png.load()
        chunks = dict(getattr(png, "text", {}) or {})
    params = Params(**json.loads(chunks["aipm-image"])) if "aipm-image" in chunks else None
    return {"parameters": chunks.get("parameters", ""), "params": params}
