"""Image generation as a service: the configured model as a /v1/images/generations model, and the native
route (/api/v1/image/generate) returning a PNG or base64 PNGs. core.generate does the work, with the
tab's checks and messages (prompt, seed, steps, guidance, size, count, sampler; what is left out comes
from the model's default preset); every PNG carries its parameters as the tab saves them."""
from __future__ import annotations

import base64
from typing import Literal

from pydantic import BaseModel, Field

MODEL_ID = "emoji-diffusion"  # the offline default model's name (products/image/models.py, EMOJI_NAME)


def pictures(prompt: str, negative_prompt: str = "", seed=None, steps=None, guidance=None, width=None, height=None,
             num_images: int = 1, sampler=None, lang: str = "en") -> list[tuple[bytes, int, str]]:
    """(PNG bytes, seed, parameters text) per image made: core.generate, each image saved by core.save_png
    (the "parameters" and "aipm-image" text chunks), read back, and its folder removed."""
    import shutil
    from pathlib import Path

    from products.image import core
    from shared.outputs import request_dir

    folder = Path(request_dir("api-image"))
    try:
        result = core.generate(prompt, negative_prompt, seed, steps, guidance, width, height, num_images,
                               sampler or None, lang=lang, out_dir=folder)
        return [(Path(image.path).read_bytes(), image.params.seed, image.text) for image in result.images]
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def generate(prompt: str, options) -> list:
    """The "images" capability (shared/api/capabilities.py): ImageOptions -> [Picture]."""
    from shared.api.capabilities import Picture

    made = pictures(prompt, options.negative_prompt, options.seed, options.steps, options.guidance, options.width,
                    options.height, options.n)
    return [Picture(png=png, seed=seed, parameters=text) for png, seed, text in made]


class GenerateRequest(BaseModel):
    prompt: str = Field(min_length=1, max_length=10_000)
    negative_prompt: str = Field(default="", max_length=10_000)
    seed: int | str | None = None  # None, "", -1 or "random": a random seed
    steps: int | None = None  # None: the model's default preset
    guidance: float | None = None
    width: int | None = None
    height: int | None = None
    num_images: int = 1
    sampler: str | None = None
    format: Literal["png", "base64"] = "png"


def routes():
    """The native routes (imported when the API server is built, not when the app is)."""
    from fastapi import APIRouter, Depends
    from fastapi.responses import Response

    from shared.api.guard import Call, metered

    router = APIRouter()

    @router.post("/generate", summary="Generate images from a prompt: one PNG, or base64 PNGs with their seeds")
    def generate_route(body: GenerateRequest, call: Call = Depends(metered("image", "image_api"))):
        made = pictures(body.prompt, body.negative_prompt, body.seed, body.steps, body.guidance, body.width,
                        body.height, body.num_images, body.sampler)
        call.model = MODEL_ID
        call.units(images=len(made))
        if body.format == "png" and len(made) == 1:
            png, seed, text = made[0]
            # a header carries Latin-1 only: the parameters' other characters are escaped as \uXXXX
            header = " | ".join(text.splitlines()).encode("latin-1", "backslashreplace").decode("latin-1")
            return Response(content=png, media_type="image/png",
                            headers={**call.headers, "x-seed": str(seed), "x-parameters": header})
        return call.json({"images": [{"b64_png": base64.b64encode(png).decode(), "seed": seed, "parameters": text}
                                     for png, seed, text in made]})

    return router
