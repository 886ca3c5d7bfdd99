"""How varied an emoji model's samples are across seeds, per sampler and guidance scale.

    OMP_WAIT_POLICY=PASSIVE python bench/emoji_variety.py --settings "Default@2,Euler a@7.5"

High guidance trades variety for fidelity (what A1111 users know as "CFG too high: every seed looks
alike"). For the first prompt of each shape category, `--samples` seeded samples per setting (the
same seeds for every setting); the figure is the mean distance between two samples of one prompt:
RMS over pixels (0-1 scale) and Euclidean in the shape classifier's features (the space the Fréchet
distance uses). The same distances between real training emoji of one category (as many per
category, seeded draw) are the reference: how varied the art itself is.
"""
from __future__ import annotations

import argparse
import itertools
import random
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
import shared  # noqa: E402,F401  (sets OMP_WAIT_POLICY before torch)
import numpy as np  # noqa: E402
import torch  # noqa: E402

from products.image.emoji.pipeline import EmojiDiffusionPipeline, registry_encode  # noqa: E402
from products.image.emoji.tools import data, shapes  # noqa: E402
from products.image.emoji.tools.evaluate import sample  # noqa: E402
from products.image.models import scheduler_named  # noqa: E402


def spread(images: torch.Tensor, classifier, per_group: int) -> tuple[float, float]:
    """Mean pixel RMS and feature distance between images of the same group (consecutive runs of
    `per_group`), images in [-1, 1]."""
    _, features = shapes.predict(classifier, images)
    pixels = ((images + 1) / 2).flatten(1).numpy()
    rms, feat = [], []
    for start in range(0, len(images), per_group):
        for i, j in itertools.combinations(range(start, start + per_group), 2):
            rms.append(np.sqrt(((pixels[i] - pixels[j]) ** 2).mean()))
            feat.append(np.linalg.norm(features[i] - features[j]))
    return float(np.mean(rms)), float(np.mean(feat))


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", default="assets/emoji-diffusion")
    parser.add_argument("--settings", default="Default@2,Euler a@7.5", help="sampler@guidance, comma-separated")
    parser.add_argument("--samples", type=int, default=8)
    parser.add_argument("--steps", type=int, default=25)
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args(argv)
    cache = data.default_cache()
    classifier = shapes.load(cache / shapes.CLASSIFIER_FILE)
    pipe = EmojiDiffusionPipeline.from_pretrained(args.model)
    pipe.set_progress_bar_config(disable=True)
    registry_encode(["an emoji"])  # loads the encoder, which applies the app's thread setting
    torch.set_num_threads(args.threads)
    default = pipe.scheduler
    prompts = [shapes.SHAPE_PROMPTS[c][0] for c in shapes.CATEGORIES]
    print(f"{len(prompts)} prompts x {args.samples} seeds, {args.steps} steps; mean distance between two samples "
          "of one prompt")
    print(f"{'setting':24} {'pixel RMS':>10} {'features':>10}")
    for setting in args.settings.split(","):
        sampler, guidance = setting.rsplit("@", 1)
        pipe.scheduler = scheduler_named(default, sampler)
        images = sample(pipe, [p for p in prompts for _ in range(args.samples)], args.steps, float(guidance))
        rms, feat = spread(images, classifier, args.samples)
        print(f"{setting:24} {rms:>10.3f} {feat:>10.2f}", flush=True)
    entries = data.load_styles(cache, list(data.STYLES))
    train_set = data.split_by_key(entries, data.held_out_keys(cache))[0]
    labelled, labels = shapes.labelled(train_set)
    rng = random.Random(0)
    picked = []
    for index in range(len(shapes.CATEGORIES)):
        members = [e for e, label in zip(labelled, labels.tolist()) if label == index]
        picked += rng.sample(members, min(args.samples, len(members)))
    rms, feat = spread(data.load_images(picked, pipe.unet.config.sample_size), classifier, args.samples)
    print(f"{'real art, one category':24} {rms:>10.3f} {feat:>10.2f}")


if __name__ == "__main__":
    main()
