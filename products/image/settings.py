"""The Image generation product's settings (README's configuration table lists them)."""
from __future__ import annotations

from shared.config import as_flag, as_int, as_lower, as_text, product_settings, setting


@product_settings
class ImageSettings:
    # read by its LocalPath source
    path: str = setting(
        "AIPM_IMAGE_PATH", "",
        "Local diffusers text-to-image folder (with `model_index.json`), used before the hub model.",
        as_text)
    # read by its HubModel source
    hub: str = setting(
        "AIPM_IMAGE_HUB", "stabilityai/sd-turbo",
        "Hub id of a diffusers text-to-image model, used when the hub is allowed and reachable; empty = none.",
        as_text)
    offline_model: str = setting(
        "AIPM_IMAGE_OFFLINE_MODEL", "emoji",
        "Image model used when neither of the above is set or reachable: `emoji` (the small 32x32 emoji model trained in this repo on three open emoji sets, `assets/emoji-diffusion`) or `none`.",
        as_lower)
    variant: str = setting(
        "AIPM_IMAGE_VARIANT", "",
        "Weight variant to load (for example `fp16` for hub models that publish one); empty = the default weights.",
        as_text)
    safety: bool = setting(
        "AIPM_IMAGE_SAFETY", "1",
        "`1` runs the model's safety checker when it has one (flagged images are withheld with a note); `0` skips it.",
        as_flag)
    # at least one 64 x 64 image
    max_pixels: int = setting(
        "AIPM_IMAGE_MAX_PIXELS", "1048576",
        "Pixel budget per image (width x height); larger requests are scaled down keeping the aspect ratio.",
        as_int(minimum=64 * 64))
    max_images: int = setting(
        "AIPM_IMAGE_MAX_IMAGES", "4",
        "Most images per request.",
        as_int(minimum=1))
    max_steps: int = setting(
        "AIPM_IMAGE_MAX_STEPS", "100",
        "Most denoising steps per image.",
        as_int(minimum=1))
    compile: bool = setting(
        "AIPM_IMAGE_COMPILE", "0",
        "`1` wraps the denoiser in `torch.compile` on CUDA (never under ZeroGPU); the first generation then compiles.",
        as_flag)
    cpu_offload: bool = setting(
        "AIPM_IMAGE_CPU_OFFLOAD", "0",
        "`1` keeps only the running sub-model on the GPU (for small GPUs; needs `accelerate`).",
        as_flag)
    vae_tiling: str = setting(
        "AIPM_IMAGE_VAE_TILING", "auto",
        "`auto` decodes images above 1 megapixel in tiles on CUDA, `1` always, `0` never.",
        as_lower)
