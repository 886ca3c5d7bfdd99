"""Choose the emoji model's default guidance scale and sampler on prompts the evaluation never uses.

    python -m products.image.emoji.tools.tune --model assets/emoji-diffusion --scales 2,3 --samplers "Default,Euler a"

For each scale: the share of seeded samples whose dominant hue is the colour a validation prompt
names, and the share the shape classifier puts in the category a validation prompt names. The
prompts below are not those of colours.COLOUR_PROMPTS or shapes.SHAPE_PROMPTS, so choosing the
scale here does not tune on the figures the model card reports. Each scale is scored with each of
--samplers (the Image tab's sampler names). Prints a row per pair and the best (highest mean of the
two shares); `--write` stores its scale and sampler in the folder's presets (aipm_image.json).
"""
from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np

VALIDATION_COLOURS = [("a red apple", "red"), ("a blue car", "blue"), ("a green frog", "green"),
                      ("a yellow banana", "yellow"), ("an orange basketball", "orange"), ("a purple grape", "purple")]
VALIDATION_SHAPES = {
    "heart": ["a blue heart"], "star": ["a shooting star"], "face": ["a laughing face"], "animal": ["a lion"],
    "plant": ["a sunflower"], "food": ["a banana"], "vehicle": ["a bicycle"], "flag": ["a flag of Germany"],
    "person": ["a girl"], "hand": ["clapping hands"], "clothing": ["a pair of jeans"], "building": ["a church"],
}


def score(pipe, classifier, guidance: float, n: int, steps: int) -> dict:
    from products.image.emoji.tools import shapes
    from products.image.emoji.tools.colours import dominant_hue
    from products.image.emoji.tools.evaluate import as_uint8, sample

    prompts = [p for p, _ in VALIDATION_COLOURS]
    images = sample(pipe, [p for p in prompts for _ in range(n)], steps, guidance, seed=100)
    arrays = as_uint8(images)
    colour = np.mean([dominant_hue(a) == VALIDATION_COLOURS[i // n][1] for i, a in enumerate(arrays)])
    asked = [(c, p) for c, ps in VALIDATION_SHAPES.items() for p in ps]
    found, _ = shapes.predict(classifier, sample(pipe, [p for _, p in asked for _ in range(n)], steps, guidance,
                                                 seed=200))
    wanted = np.repeat([shapes.CATEGORIES.index(c) for c, _ in asked], n)
    return {"guidance": guidance, "colour": round(float(colour), 3), "shape": round(float((found == wanted).mean()), 3)}


def main(argv=None) -> dict:
    import torch

    from products.image.emoji.pipeline import EmojiDiffusionPipeline
    from products.image.emoji.tools import data, shapes
    from products.image.models import scheduler_named

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", default="assets/emoji-diffusion")
    parser.add_argument("--scales", default="3,5,7.5")
    parser.add_argument("--samples", type=int, default=6, help="seeded samples per prompt")
    parser.add_argument("--steps", type=int, default=25)
    parser.add_argument("--samplers", default="Default", help="comma-separated sampler names of the Image tab "
                        "(products.image.models.SCHEDULERS); every scale is scored with each")
    parser.add_argument("--cache", default="")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--write", action="store_true", help="store the best scale and sampler in the folder's presets")
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    pipe = EmojiDiffusionPipeline.from_pretrained(args.model)
    pipe.set_progress_bar_config(disable=True)
    cache = Path(args.cache) if args.cache else data.default_cache()
    classifier = shapes.load_or_train(cache / shapes.CLASSIFIER_FILE, cache, args.threads)
    default = pipe.scheduler
    rows = []
    for sampler in args.samplers.split(","):
        pipe.scheduler = scheduler_named(default, sampler)
        for scale in (float(s) for s in args.scales.split(",")):
            rows.append({**score(pipe, classifier, scale, args.samples, args.steps), "sampler": sampler})
            torch.set_num_threads(args.threads)  # the first encode loads MiniLM, which applies the app's threads
            print(json.dumps(rows[-1]), flush=True)
    best = max(rows, key=lambda r: (r["colour"] + r["shape"]) / 2)
    print(f"best: guidance {best['guidance']}, sampler {best['sampler']}", flush=True)
    if args.write:
        presets_file = Path(args.model) / "aipm_image.json"
        presets = json.loads(presets_file.read_text())
        for preset in presets["presets"].values():
            preset["guidance"], preset["scheduler"] = best["guidance"], best["sampler"]
        presets_file.write_text(json.dumps(presets, indent=2) + "\n")
    return {"rows": rows, "best": best["guidance"], "best_sampler": best["sampler"]}


if __name__ == "__main__":
    main()
