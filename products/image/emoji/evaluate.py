"""Quality checks for a trained emoji model folder; writes metrics.json, the sample grid, the model card.

    nice -n 10 python -m products.image.emoji.evaluate --model assets/emoji-diffusion

- colour check: for prompts that name a colour ("a red heart", "a blue circle", "a green tree", ...),
  the fraction of N seeded samples whose dominant non-white hue is the colour asked for;
- a grid of 16 held-out emoji: the real one (top) above a sample for its caption (bottom);
- the held-out vs train denoising loss, from training.json (written by the training run).
"""
from __future__ import annotations

import argparse
import colorsys
import json
from pathlib import Path

import numpy as np

COLOUR_PROMPTS = [("a red heart", "red"), ("a blue circle", "blue"), ("a green tree", "green"),
                  ("a yellow star", "yellow"), ("an orange circle", "orange"), ("a purple heart", "purple")]
BASELINE_PROMPT = "an emoji"
# Hue ranges in degrees, [low, high).
HUES = {"red": [(0, 15), (340, 360)], "orange": [(15, 45)], "yellow": [(45, 70)], "green": [(70, 170)],
        "blue": [(170, 255)], "purple": [(255, 340)]}


def hue_name(degrees: float) -> str:
    for name, ranges in HUES.items():
        if any(low <= degrees < high for low, high in ranges):
            return name
    return "red"


def dominant_hue(image, min_saturation: float = 0.35, min_value: float = 0.25) -> str | None:
    """The hue name held by most coloured pixels (saturated, not too dark; white/grey/black are
    ignored), or None when under 3% of the pixels are coloured."""
    rgb = np.asarray(image.convert("RGB") if hasattr(image, "convert") else image, dtype=np.float32) / 255.0
    pixels = rgb.reshape(-1, 3)
    hsv = np.array([colorsys.rgb_to_hsv(*p) for p in pixels])
    coloured = (hsv[:, 1] >= min_saturation) & (hsv[:, 2] >= min_value)
    if coloured.sum() < 0.03 * len(pixels):
        return None
    counts: dict[str, int] = {}
    for h in hsv[coloured, 0]:
        name = hue_name(h * 360)
        counts[name] = counts.get(name, 0) + 1
    return max(counts, key=counts.get)


def colour_check(pipe, prompts=COLOUR_PROMPTS, n: int = 8, steps: int = 25, guidance: float = 3.0, seed: int = 0):
    """{prompt: {"asked", "fraction", "found": [hue per sample]}} for n seeded samples per prompt."""
    import torch

    def hues(prompt):
        generator = torch.Generator().manual_seed(seed)
        images = pipe(prompt, num_inference_steps=steps, guidance_scale=guidance, generator=generator,
                      num_images_per_prompt=n, output_type="np").images
        return [dominant_hue(a) for a in images]

    # Chance level: how often the same seeds give each colour for a prompt naming no colour.
    base = hues(BASELINE_PROMPT)
    out = {}
    for prompt, colour in prompts:
        found = hues(prompt)
        out[prompt] = {"asked": colour, "fraction": sum(f == colour for f in found) / n, "found": found,
                       "baseline": sum(f == colour for f in base) / n}
    return out


def grid(pipe, root: Path, entries, steps: int = 25, guidance: float = 3.0, seed: int = 0, scale: int = 2):
    """A PIL image: real held-out emoji (row 1 of each pair) above samples for their captions (row 2)."""
    import torch
    from PIL import Image

    from products.image.emoji import data

    side = pipe.unet.config.sample_size
    reals = [data.load_image(root / data.IMAGE_DIR / e.image, side) for e in entries]
    fakes = []
    for i, e in enumerate(entries):
        generator = torch.Generator().manual_seed(seed + i)
        fakes.append(pipe(e.name, num_inference_steps=steps, guidance_scale=guidance, generator=generator,
                          output_type="np").images[0])
    cols = 8
    rows = (len(entries) + cols - 1) // cols
    cell, pad = side * scale, 4
    canvas = Image.new("RGB", (cols * (cell + pad) + pad, rows * (2 * cell + 3 * pad)), (200, 200, 200))
    for i, (real, fake) in enumerate(zip(reals, fakes)):
        x = pad + (i % cols) * (cell + pad)
        y = (i // cols) * (2 * cell + 3 * pad) + pad
        canvas.paste(Image.fromarray(real).resize((cell, cell), Image.NEAREST), (x, y))
        canvas.paste(Image.fromarray(fake).resize((cell, cell), Image.NEAREST), (x, y + cell + pad))
    return canvas


def main(argv=None) -> dict:
    import torch

    from products.image.emoji import data
    from products.image.emoji.pipeline import EmojiDiffusionPipeline

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", default="assets/emoji-diffusion")
    parser.add_argument("--cache", default="")
    parser.add_argument("--samples", type=int, default=8, help="seeded samples per colour prompt")
    parser.add_argument("--steps", type=int, default=25)
    parser.add_argument("--guidance", type=float, default=3.0)
    parser.add_argument("--grid", default="", help="PNG path (default: samples_grid.png in the model folder)")
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    model = Path(args.model)
    pipe = EmojiDiffusionPipeline.from_pretrained(model)
    pipe.set_progress_bar_config(disable=True)
    cache = Path(args.cache) if args.cache else data.default_cache()
    root = data.fetch(cache)
    _, held_out = data.split(data.load_entries(root))
    colours = colour_check(pipe, n=args.samples, steps=args.steps, guidance=args.guidance)
    for prompt, r in colours.items():
        print(f"{prompt!r}: {r['fraction']:.2f} (baseline {r['baseline']:.2f}) asked {r['asked']}, found {r['found']}",
              flush=True)
    picked = held_out[:16]
    grid_path = Path(args.grid) if args.grid else model / "samples_grid.png"
    grid_path.parent.mkdir(parents=True, exist_ok=True)
    grid(pipe, root, picked, args.steps, args.guidance).save(grid_path, optimize=True)
    training = json.loads((model / "training.json").read_text()) if (model / "training.json").is_file() else {}
    metrics = {"colour_check": colours, "samples_per_prompt": args.samples, "sample_steps": args.steps,
               "guidance": args.guidance, "mean_colour_fraction": round(float(np.mean(
                   [r["fraction"] for r in colours.values()])), 3),
               "grid": grid_path.name if grid_path.parent == model else str(grid_path), "grid_captions": [e.name for e in picked],
               **{k: training.get(k) for k in ("held_out_loss", "train_loss", "held_out_loss_uncond")},
               "train_steps": training.get("steps"), "train_seconds": training.get("seconds")}
    (model / "metrics.json").write_text(json.dumps(metrics, indent=1) + "\n")
    write_card(model, training, metrics)
    print(json.dumps({k: v for k, v in metrics.items() if k != "colour_check"}), flush=True)
    return metrics


def write_card(model: Path, training: dict, metrics: dict) -> None:
    rows = "\n".join(f"| {p} | {r['asked']} | {r['fraction']:.2f} | {r['baseline']:.2f} |"
                     for p, r in metrics["colour_check"].items())
    mean = metrics["mean_colour_fraction"]
    baseline = float(np.mean([r["baseline"] for r in metrics["colour_check"].values()]))
    verdict = (f"prompts that name a colour get that colour in {mean:.0%} of samples (the same seeds with a prompt "
               f"naming no colour: {baseline:.0%}); shapes are rough" if mean >= 0.5 else
               f"it does not follow prompts reliably yet (colour check {mean:.0%}, chance about 17%)")
    prediction = training.get("prediction", "epsilon")
    card = f"""---
license: apache-2.0
library_name: diffusers
tags: [text-to-image, emoji, pixel-space, tiny]
---
# emoji-diffusion (AI Product Matrix)

A small text-to-image diffusion model that draws 32x32 emoji-style icons, trained from scratch in
this repo on a CPU. It is the Image tab's **default offline model**: used when neither
`AIPM_IMAGE_PATH` nor a reachable `AIPM_IMAGE_HUB` is configured (`AIPM_IMAGE_OFFLINE_MODEL=none`
turns it off). Measured below: {verdict}.

- **Architecture:** diffusers `UNet2DConditionModel` in pixel space (3x32x32, no VAE),
  {training.get('parameters', 0) / 1e6:.2f}M parameters, channels {training.get('channels')}, cross-attention to the
  prompt vector at 16x16 and 8x8 (no self-attention); `DDIMScheduler` (squaredcos_cap_v2,
  {prediction}), 25 steps by default.
- **Text conditioning:** the prompt's all-MiniLM-L6-v2 sentence vector (384-d, the app's shared
  "text-encoder", Apache-2.0) as a length-1 cross-attention sequence and as a projected class
  embedding. Classifier-free guidance (condition dropped to zeros 10% of training steps; default scale 3).
- **Pipeline:** `products.image.emoji.pipeline.EmojiDiffusionPipeline` (this folder's
  model_index.json); output resized (bicubic) from 32x32 to the asked size (256x256 by default).
- **Data:** Noto Color Emoji 64px PNGs from the npm package `emoji-datasource-google@16.0.0`
  (Apache-2.0; tarball sha256 pinned), composited on white and reduced to 32x32; captions from
  CLDR names (`emoji` PyPI package), Unicode names, short names and categories.
  {training.get('train_emoji')} emoji trained, {training.get('held_out_emoji')} (5%, seed 0) held out.
- **Training:** {training.get('steps')} steps of batch {training.get('batch')}, AdamW lr {training.get('lr')}
  (warm-up, then {training.get('decay', 'no')} decay), min-SNR-{training.get('min_snr')} loss weights, EMA
  {training.get('ema')}, seed {training.get('seed')}, {training.get('seconds', 0) / 60:.1f} min on 2 CPU cores.
  Reproduce: `python -m products.image.emoji.train --out assets/emoji-diffusion --steps {training.get('steps')} --lr {training.get('lr')}`

## Quality (measured)
- Denoising loss ({prediction} target MSE, unweighted, fixed seeded noise and timesteps): held-out
  {training.get('held_out_loss')}, train {training.get('train_loss')}, held-out with the condition zeroed
  {training.get('held_out_loss_uncond')}.
- Colour check ({metrics['samples_per_prompt']} seeded samples per prompt, {metrics['sample_steps']} steps, guidance
  {metrics['guidance']}; fraction whose dominant non-white hue is the asked colour; mean {mean:.2f}):

| prompt | asked | fraction | same seeds, prompt "an emoji" |
|---|---|---|---|
{rows}

- Held-out grid, 16 held-out emoji (real above, sample for its CLDR name below): `{metrics['grid']}`
  (captions: {', '.join(metrics['grid_captions'])}).

## Limits
32x32 only, shown upscaled; shapes are rough blobs and faces lack detail; English prompts; colours and
simple objects work best. Not a safety-filtered model (the data is emoji art only). License: Apache-2.0
(weights derived from Apache-2.0 Noto emoji art).
"""
    (model / "README.md").write_text(card)


if __name__ == "__main__":
    main()
