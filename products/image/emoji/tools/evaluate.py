"""Quality checks for a trained emoji model folder; writes metrics.json, the sample grid, the model card.

    nice -n 10 python -m products.image.emoji.tools.evaluate --model assets/emoji-diffusion [--compare v1]

- colour check (colours.py): for prompts that name a colour ("a red heart", "a blue circle", ...),
  the fraction of N seeded samples whose dominant non-white hue is the colour asked for; the same
  for each colour word on held-out emoji names ("a blue <name>"), and the detector on the real art;
- shape check: the fraction of seeded samples for 3 prompts per category that the shape
  classifier (shapes.py) puts in that category; the same for the held-out emoji's names;
- Fréchet distance between the classifier features of real held-out emoji and samples for them;
- grids: 16 held-out emoji (real above a sample for its name) and the prompts, side by side with
  --compare's model on the same seeds;
- the held-out vs train denoising loss, from training.json (written by the training run).
"""
from __future__ import annotations

import argparse
import json
import random
from pathlib import Path

import numpy as np

from products.image.emoji.tools.card import write_card
from products.image.emoji.tools.colours import BASELINE_PROMPT, HUES, colour_check, dominant_hue

def grid(pipe, entries, steps: int = 25, guidance: float = 3.0, seed: int = 0, scale: int = 2):
    """A PIL image: real held-out emoji (row 1 of each pair) above samples for their captions (row 2)."""
    import torch
    from PIL import Image

    from products.image.emoji.tools import data

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
    from products.image.emoji.tools import shapes

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
    from products.image.emoji.tools import data, shapes

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


def held_out_colour_check(pipe, held_out, names: int = 16, steps: int = 25, guidance: float = 3.0,
                          seed: int = 0) -> tuple[dict, list[str]]:
    """Colour words on shapes never trained on: for each colour, "a <colour> <name>" for the same
    `names` held-out emoji names (a seeded pick of those without a colour word), one sample each;
    {colour: share whose dominant hue is that colour}, and the names."""
    from products.image.emoji.tools.recolour import colour_captions, plain_name

    plain = sorted({e.name for e in held_out if plain_name(e.name) == e.name})
    picked = random.Random(seed).sample(plain, min(names, len(plain)))
    prompts = [colour_captions(n, c)[1] for c in HUES for n in picked]  # "a blue jellyfish"
    found = [dominant_hue(a) for a in as_uint8(sample(pipe, prompts, steps, guidance, seed=seed + 300))]
    per = len(picked)
    return {c: round(float(np.mean([f == c for f in found[i * per:(i + 1) * per]])), 3)
            for i, c in enumerate(HUES)}, picked


def prompt_grid(pipes: dict, per_category: int = 4, steps: int = 25, guidance: float | dict = 3.0, scale: int = 3):
    """A PIL image: for each category's first prompt (a row, labelled), `per_category` seeded samples of
    each model (a column block, headed by its name in `pipes`) side by side. `guidance` may be a
    scale per name (to show one model at two settings)."""
    from PIL import Image, ImageDraw, ImageFont

    from products.image.emoji.tools import shapes

    prompts = [shapes.SHAPE_PROMPTS[c][0] for c in shapes.CATEGORIES]
    columns = []
    for name, pipe in pipes.items():
        cfg = guidance[name] if isinstance(guidance, dict) else guidance
        images = sample(pipe, [p for p in prompts for _ in range(per_category)], steps, cfg)
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
    held_colour, names = held_out_colour_check(pipe, held_out, steps=args.steps, guidance=args.guidance)
    return {"colour_check": colours, "shape_check": shape, "held_out_colour": held_colour,
            "held_out_colour_names": len(names), "mean_held_out_colour": round(float(np.mean(list(held_colour.values()))), 3),
            "mean_colour_fraction": round(float(np.mean([r["fraction"] for r in colours.values()])), 3),
            "mean_shape_fraction": round(float(np.mean([r["fraction"] for r in shape.values()])), 3),
            **held_out_checks(pipe, classifier, held_out, args.steps, args.guidance)}


def main(argv=None) -> dict:
    import torch

    from products.image.emoji.pipeline import EmojiDiffusionPipeline, registry_encode
    from products.image.emoji.tools import colours, data, shapes
    from products.image.models import scheduler_named

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", default="assets/emoji-diffusion")
    parser.add_argument("--compare", default="", help="another model folder (v1) checked on the same seeds")
    parser.add_argument("--classifier", default="", help="default <cache>/shape-classifier-v2.safetensors (trained "
                        "with products.image.emoji.tools.shapes when missing)")
    parser.add_argument("--cache", default="")
    parser.add_argument("--samples", type=int, default=8, help="seeded samples per colour or shape prompt")
    parser.add_argument("--steps", type=int, default=25)
    parser.add_argument("--guidance", type=float, default=3.0)
    parser.add_argument("--sampler", default="Default", help="a sampler name of the Image tab (products.image."
                        "models.SCHEDULERS), for every model checked; Default is the folder's DDIM")
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
            pipes[name].scheduler = scheduler_named(pipes[name].scheduler, args.sampler)
    pipe = pipes["model"]
    registry_encode([BASELINE_PROMPT])  # loads the encoder now: loading applies the app's thread setting,
    torch.set_num_threads(args.threads)  # which this overrides for the sampling below
    classifier_path = Path(args.classifier) if args.classifier else cache / shapes.CLASSIFIER_FILE
    classifier = shapes.load_or_train(classifier_path, cache, args.threads)
    classifier_metrics = shapes.load_metrics(classifier_path)
    everything = data.load_styles(cache, list(data.STYLES))
    held_out = data.split_by_key(everything, data.held_out_keys(cache))[1]
    art_colour = colours.art_colour_check(everything, as_uint8(data.load_images(everything, 32)))
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
               "guidance": args.guidance, "sampler": args.sampler, "classifier": classifier_metrics, "art_colour": art_colour,
               "compared": {"model": str(args.compare), **results["compared"]} if args.compare else None,
               "grid": grid_path.name if grid_path.parent == model else str(grid_path),
               "grid_captions": [e.name for e in picked], "prompts_grid": "prompts_grid.png",
               "prompts_grid_prompts": grid_prompts,
               **{k: training.get(k) for k in ("held_out_loss", "train_loss", "held_out_loss_uncond")},
               "train_steps": training.get("steps"), "train_seconds": training.get("seconds")}
    (model / "metrics.json").write_text(json.dumps(metrics, indent=1) + "\n")
    write_card(model, training, metrics)
    return metrics


if __name__ == "__main__":
    main()
