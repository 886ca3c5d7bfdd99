"""Quality checks for a trained emoji model folder; writes metrics.json, the sample grid, the model card.

    nice -n 10 python -m products.image.emoji.evaluate --model assets/emoji-diffusion [--compare v1]

- colour check: for prompts that name a colour ("a red heart", "a blue circle", "a green tree", ...),
  the fraction of N seeded samples whose dominant non-white hue is the colour asked for;
- shape check: the fraction of seeded samples for 3 prompts per category that the shape
  classifier (shapes.py) puts in that category; the same for the held-out emoji's names;
- Fréchet distance between the classifier features of real held-out emoji and samples for them;
- grids: 16 held-out emoji (real above a sample for its name) and the prompts, side by side with
  --compare's model on the same seeds;
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


def grid(pipe, entries, steps: int = 25, guidance: float = 3.0, seed: int = 0, scale: int = 2):
    """A PIL image: real held-out emoji (row 1 of each pair) above samples for their captions (row 2)."""
    import torch
    from PIL import Image

    from products.image.emoji import data

    side = pipe.unet.config.sample_size
    reals = [data.load_image(e.path, side) for e in entries]
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


def sample(pipe, prompts: list[str], steps: int, guidance: float, seed: int = 0, chunk: int = 64):
    """Images in [-1, 1], (n, 3, side, side): one per prompt, the noise drawn from `seed` per chunk."""
    import torch

    out = []
    for start in range(0, len(prompts), chunk):
        generator = torch.Generator().manual_seed(seed + start)
        images = pipe(prompts[start:start + chunk], num_inference_steps=steps, guidance_scale=guidance,
                      generator=generator, output_type="pt").images
        out.append(images * 2 - 1)
    return torch.cat(out)


def as_uint8(images):
    """(n, side, side, 3) uint8 arrays from images in [-1, 1], (n, 3, side, side)."""
    return ((images + 1) * 127.5).round().clamp(0, 255).byte().permute(0, 2, 3, 1).numpy()


def shape_check(pipe, classifier, n: int = 8, steps: int = 25, guidance: float = 3.0) -> dict:
    """Per category: the share of n seeded samples for each of its prompts that the classifier puts in
    that category; "baseline": the share of the same seeds for "an emoji" put there (chance)."""
    from products.image.emoji import shapes

    base, _ = shapes.predict(classifier, sample(pipe, [BASELINE_PROMPT] * n, steps, guidance))
    out = {}
    for index, name in enumerate(shapes.CATEGORIES):
        prompts = shapes.SHAPE_PROMPTS[name]
        found, _ = shapes.predict(classifier, sample(pipe, [p for p in prompts for _ in range(n)], steps, guidance))
        per_prompt = {p: round(float((found[i * n:(i + 1) * n] == index).mean()), 3) for i, p in enumerate(prompts)}
        out[name] = {"fraction": round(float((found == index).mean()), 3), "prompts": per_prompt,
                     "baseline": round(float((base == index).mean()), 3)}
    return out


def held_out_checks(pipe, classifier, held_out, steps: int = 25, guidance: float = 3.0) -> dict:
    """On the held-out emoji (never trained on, in any style): the share of samples for their CLDR
    names classified as their category (2 seeds each, one style per emoji), and the Fréchet distance
    between the classifier features of all their real images and of one sample per real image."""
    from products.image.emoji import data, shapes

    by_key = {}
    for e in held_out:
        by_key.setdefault(e.key, e)
    named, labels = shapes.labelled(list(by_key.values()))
    found = []
    for seed in (0, 1):
        predicted, _ = shapes.predict(classifier, sample(pipe, [e.name for e in named], steps, guidance, seed=seed))
        found.append(predicted == labels.numpy())
    _, real = shapes.predict(classifier, data.load_images(held_out, shapes.SIDE))
    _, fake = shapes.predict(classifier, sample(pipe, [e.name for e in held_out], steps, guidance, seed=2))
    return {"held_out_shape": round(float(np.concatenate(found).mean()), 3), "held_out_shape_samples": 2 * len(named),
            "frechet": round(shapes.frechet_distance(real, fake), 2), "frechet_images": len(held_out)}


def prompt_grid(pipes: dict, per_category: int = 4, steps: int = 25, guidance: float = 3.0, scale: int = 3):
    """A PIL image: for each category's first prompt (a row, labelled), `per_category` seeded samples of
    each model (a column block, headed by its name in `pipes`) side by side."""
    from PIL import Image, ImageDraw, ImageFont

    from products.image.emoji import shapes

    prompts = [shapes.SHAPE_PROMPTS[c][0] for c in shapes.CATEGORIES]
    columns = []
    for pipe in pipes.values():
        images = sample(pipe, [p for p in prompts for _ in range(per_category)], steps, guidance)
        columns.append(as_uint8(images))
    cell, pad, label, header = 32 * scale, 4, 130, 24
    block = per_category * (cell + pad) + 3 * pad
    canvas = Image.new("RGB", (label + len(pipes) * block + pad, header + len(prompts) * (cell + pad) + pad),
                       (200, 200, 200))
    draw = ImageDraw.Draw(canvas)
    font = ImageFont.load_default(size=14)
    for row, prompt in enumerate(prompts):
        draw.text((pad, header + pad + row * (cell + pad) + cell // 2 - 8), prompt, fill=(0, 0, 0), font=font)
    for m, (name, arrays) in enumerate(zip(pipes, columns)):
        x0 = label + m * block
        draw.text((x0, 4), name, fill=(0, 0, 0), font=font)
        for i, array in enumerate(arrays):
            row, col = divmod(i, per_category)
            tile = Image.fromarray(array).resize((cell, cell), Image.NEAREST)
            canvas.paste(tile, (x0 + col * (cell + pad), header + pad + row * (cell + pad)))
    return canvas, prompts


def quality(pipe, classifier, held_out, args) -> dict:
    """Every check of one model, on the same prompts and seeds."""
    colours = colour_check(pipe, n=args.samples, steps=args.steps, guidance=args.guidance)
    shape = shape_check(pipe, classifier, n=args.samples, steps=args.steps, guidance=args.guidance)
    return {"colour_check": colours, "shape_check": shape,
            "mean_colour_fraction": round(float(np.mean([r["fraction"] for r in colours.values()])), 3),
            "mean_shape_fraction": round(float(np.mean([r["fraction"] for r in shape.values()])), 3),
            **held_out_checks(pipe, classifier, held_out, args.steps, args.guidance)}


def main(argv=None) -> dict:
    import torch

    from products.image.emoji import data, shapes
    from products.image.emoji.pipeline import EmojiDiffusionPipeline

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", default="assets/emoji-diffusion")
    parser.add_argument("--compare", default="", help="another model folder (v1) checked on the same seeds")
    parser.add_argument("--classifier", default="", help="default <cache>/shape-classifier.safetensors (trained "
                        "with products.image.emoji.shapes when missing)")
    parser.add_argument("--cache", default="")
    parser.add_argument("--samples", type=int, default=8, help="seeded samples per colour or shape prompt")
    parser.add_argument("--steps", type=int, default=25)
    parser.add_argument("--guidance", type=float, default=3.0)
    parser.add_argument("--grid", default="", help="PNG path (default: samples_grid.png in the model folder)")
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    model = Path(args.model)
    cache = Path(args.cache) if args.cache else data.default_cache()
    pipes = {}
    for name, folder in (("compared", args.compare), ("model", args.model)):
        if folder:
            pipes[name] = EmojiDiffusionPipeline.from_pretrained(folder)
            pipes[name].set_progress_bar_config(disable=True)
    pipe = pipes["model"]
    torch.set_num_threads(args.threads)  # loading the encoder applies the app's thread setting
    classifier_path = Path(args.classifier) if args.classifier else cache / "shape-classifier.safetensors"
    if not classifier_path.is_file():
        shapes.main(["--cache", str(cache), "--out", str(classifier_path), "--threads", str(args.threads)])
    classifier, classifier_metrics = shapes.load(classifier_path), shapes.load_metrics(classifier_path)
    held_out = data.split_by_key(data.load_styles(cache, list(data.STYLES)), data.held_out_keys(cache))[1]
    results = {name: quality(p, classifier, held_out, args) for name, p in pipes.items()}
    for name, r in results.items():
        print(name, json.dumps({k: v for k, v in r.items() if k not in ("colour_check", "shape_check")}), flush=True)
    picked = [e for e in held_out if e.style == "noto"][:16]
    grid_path = Path(args.grid) if args.grid else model / "samples_grid.png"
    grid_path.parent.mkdir(parents=True, exist_ok=True)
    grid(pipe, picked, args.steps, args.guidance).save(grid_path, optimize=True)
    headed = {("before: " + Path(args.compare).name) if name == "compared" else ("this model: " + model.name): p
              for name, p in pipes.items()}
    prompts_image, grid_prompts = prompt_grid(headed, steps=args.steps, guidance=args.guidance)
    prompts_image.save(model / "prompts_grid.png", optimize=True)
    training = json.loads((model / "training.json").read_text()) if (model / "training.json").is_file() else {}
    metrics = {**results["model"], "samples_per_prompt": args.samples, "sample_steps": args.steps,
               "guidance": args.guidance, "classifier": classifier_metrics,
               "compared": {"model": str(args.compare), **results["compared"]} if args.compare else None,
               "grid": grid_path.name if grid_path.parent == model else str(grid_path),
               "grid_captions": [e.name for e in picked], "prompts_grid": "prompts_grid.png",
               "prompts_grid_prompts": grid_prompts,
               **{k: training.get(k) for k in ("held_out_loss", "train_loss", "held_out_loss_uncond")},
               "train_steps": training.get("steps"), "train_seconds": training.get("seconds")}
    (model / "metrics.json").write_text(json.dumps(metrics, indent=1) + "\n")
    write_card(model, training, metrics)
    return metrics


def _side_by_side(metrics: dict, check: str, label) -> str:
    compared = metrics.get("compared") or {}
    rows = []
    for name, r in metrics[check].items():
        before = (compared.get(check) or {}).get(name, {}).get("fraction")
        rows.append(f"| {label(name, r)} | {'' if before is None else f'{before:.2f}'} | {r['fraction']:.2f} | "
                    f"{r['baseline']:.2f} |")
    return "\n".join(rows)


def write_card(model: Path, training: dict, metrics: dict) -> None:
    compared = metrics.get("compared") or {}
    side = training.get("size", 32)
    classifier = metrics.get("classifier") or {}
    colours = _side_by_side(metrics, "colour_check", lambda p, r: f"{p} ({r['asked']})")
    shapes_rows = _side_by_side(metrics, "shape_check", lambda c, r: f"{c}: {', '.join(r['prompts'])}")

    ranked = sorted(metrics["shape_check"].items(), key=lambda item: -item[1]["fraction"])
    best = ", ".join(f"{name} {r['fraction']:.0%}" for name, r in ranked[:3])
    worst = ", ".join(f"{name} {r['fraction']:.0%}" for name, r in ranked[-3:])
    started = (f"from the weights in `{Path(training['init']).name}`, continued" if training.get("init")
               else "from random weights")

    def both(key, digits=2):
        before = compared.get(key)
        return (f"{before:.{digits}f} → " if before is not None else "") + f"{metrics[key]:.{digits}f}"

    card = f"""---
license: cc-by-4.0
library_name: diffusers
tags: [text-to-image, emoji, pixel-space, tiny]
---
# emoji-diffusion v2 (AI Product Matrix)

A small text-to-image diffusion model that draws {side}x{side} emoji-style icons, trained in this repo on a
CPU. It is the Image tab's **default offline model**: used when neither `AIPM_IMAGE_PATH` nor a reachable
`AIPM_IMAGE_HUB` is configured (`AIPM_IMAGE_OFFLINE_MODEL=none` turns it off). Measured below (v1 → v2 on
the same seeds): colour check {both('mean_colour_fraction')}, shape check {both('mean_shape_fraction')},
held-out shape {both('held_out_shape')}, Fréchet distance on held-out emoji {both('frechet', 1)} (lower is better).

- **Architecture:** diffusers `UNet2DConditionModel` in pixel space (3x{side}x{side}, no VAE),
  {training.get('parameters', 0) / 1e6:.2f}M parameters, channels {training.get('channels')}, cross-attention to the
  prompt vector below the top level (no self-attention); `DDIMScheduler` (squaredcos_cap_v2,
  {training.get('prediction', 'v_prediction')}), 25 steps by default.
- **Text conditioning:** the prompt's all-MiniLM-L6-v2 sentence vector (384-d, the app's shared
  "text-encoder", Apache-2.0) as a length-1 cross-attention sequence and as a projected class
  embedding. Classifier-free guidance (condition dropped to zeros 10% of training steps; default scale 3).
- **Pipeline:** `products.image.emoji.pipeline.EmojiDiffusionPipeline` (this folder's model_index.json);
  the native pixels are scaled up with nearest-neighbour (crisp pixel art, {side * 8}x{side * 8} by default).
- **Data:** {training.get('train_emoji')} training images in three open styles, all from npm, sha256-pinned:
  Noto (`emoji-datasource-google@16.0.0`, art Apache-2.0), Twemoji (`emoji-datasource-twitter@16.0.0`,
  art CC-BY 4.0 © Twitter/X) and Fluent UI emoji flat (`fluentui-emoji@1.3.0`, MIT © Microsoft), composited on
  white and reduced to {side}x{side}. Captions: CLDR names (`emoji` PyPI package), CLDR keywords
  (`cldr-annotations-modern@45.0.0`, Unicode licence), Unicode names, short names, categories and a style token
  ("red heart, twemoji style"). {training.get('held_out_emoji')} images of 96 emoji (v1's 5% held-out set, seed 0)
  held out in every style.
- **Training:** {started} for {training.get('steps')} steps of batch
  {training.get('batch')} on the styles {training.get('styles', 'noto')}, AdamW lr {training.get('lr')} (warm-up, then
  {training.get('decay', 'no')} decay), min-SNR-{training.get('min_snr')} loss weights, EMA {training.get('ema')},
  seed {training.get('seed')}, {training.get('seconds', 0) / 60:.1f} min on 2 CPU cores. Reproduce: see
  docs/emoji_model.md.

## Quality (measured, `python -m products.image.emoji.evaluate --compare <v1 folder>`)
- Denoising loss ({training.get('prediction')} target MSE, unweighted, fixed seeded noise and timesteps): held-out
  {training.get('held_out_loss')}, train {training.get('train_loss')}, held-out with the condition zeroed
  {training.get('held_out_loss_uncond')}.
- Colour check ({metrics['samples_per_prompt']} seeded samples per prompt, {metrics['sample_steps']} steps, guidance
  {metrics['guidance']}; fraction whose dominant non-white hue is the asked colour):

| prompt (asked colour) | v1 | v2 | same seeds, "an emoji" |
|---|---|---|---|
{colours}

- Shape check: a small CNN trained on the real emoji of the training split (held-out accuracy
  {classifier.get('held_out_accuracy')} on {classifier.get('held_out_images')} held-out images) classifies
  {metrics['samples_per_prompt']} seeded samples for each of 3 prompts per category, written for this check:

| category: prompts | v1 | v2 | same seeds, "an emoji" |
|---|---|---|---|
{shapes_rows}

- Held-out emoji ({metrics['held_out_shape_samples']} samples for their CLDR names): classified as their category
  {both('held_out_shape')}; Fréchet distance between the classifier features of the
  {metrics['frechet_images']} real held-out images and of one sample per image {both('frechet', 1)}.
- Grids: `{metrics['grid']}` (16 held-out emoji, real above, sample below) and `{metrics['prompts_grid']}` (the first
  prompt of each category, 4 seeds, v1 left, v2 right).

## Limits
{side}x{side} only, shown as pixel art; English prompts. Shapes it draws best (shape check): {best}; worst:
{worst}. Not a safety-filtered model (the data is emoji art only). License: CC-BY 4.0 for the
weights, because they derive from Twemoji art (CC-BY 4.0) as well as Noto (Apache-2.0) and Fluent (MIT) art;
credit "Twemoji © Twitter/X, CC-BY 4.0; Noto Emoji © Google, Apache-2.0; Fluent UI emoji © Microsoft, MIT".
"""
    (model / "README.md").write_text(card)


if __name__ == "__main__":
    main()
