"""The shape check and the Fréchet distance: a small emoji classifier trained on the real art.

    nice -n 10 python -m products.image.emoji.tools.shapes --out $AIPM_CACHE_DIR/emoji_model/shape-classifier-v2.safetensors

- Categories come from the emoji's CLDR subcategory (heart, star, face, animal, plant, food, vehicle,
  flag, person, hand, clothing, building); emoji outside them are not used.
- The classifier is a 4-block CNN on 32x32 RGB, trained on the training emoji of every style with
  shifts, flips, colour jitter, blur/noise (generated samples are softer than the art) and, from
  classifier v2, hue turns of half the images (it judges shape, not colour); its accuracy on the
  held-out emoji (never seen, in any style), as drawn and hue-turned, says how far to trust it.
- Shape check: the share of generated samples classified as the category their prompt names.
- Fréchet distance (FID's formula) between the classifier's penultimate features of real held-out
  emoji and of samples for their names. Inception weights cannot be downloaded here, and a network
  trained on emoji measures what matters for emoji; the figure is comparable only within this repo.
"""
from __future__ import annotations

import argparse
import json
import re
import time
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from products.image.emoji.tools.recolour import rotate_hue

CATEGORIES = ("heart", "star", "face", "animal", "plant", "food", "vehicle", "flag", "person", "hand",
              "clothing", "building")
PERSON = {"person", "person-role", "person-activity", "person-sport", "person-fantasy", "person-gesture",
          "person-resting", "family"}
SIDE = 32
# Classifier v2 turns the hue of half its training images: v1 (no hue turns) was right on 73% of the
# held-out art but on 55% of the same art hue-turned, so it judged colour as much as shape.
HUE_ROTATE = 0.5
CLASSIFIER_FILE = "shape-classifier-v2.safetensors"

# Prompts written for the shape check (not captions of any emoji, never tuned on): 3 per category.
SHAPE_PROMPTS = {
    "heart": ["a red heart", "a green heart", "a heart"], "star": ["a yellow star", "a star", "a glowing star"],
    "face": ["a smiling face", "a crying face", "an angry face"], "animal": ["a cat", "a dog", "a horse"],
    "plant": ["a tree", "a flower", "a cactus"], "food": ["a pizza", "an apple", "a hamburger"],
    "vehicle": ["a car", "a bus", "an airplane"], "flag": ["a flag of France", "a flag of Japan", "a flag of Brazil"],
    "person": ["a man", "a woman", "a person running"], "hand": ["a thumbs up", "a waving hand", "a raised fist"],
    "clothing": ["a t-shirt", "a dress", "a hat"], "building": ["a house", "a castle", "a hospital"],
}


def category(subcategory: str, name: str) -> str | None:
    """An emoji's shape category, or None when it is in none of CATEGORIES."""
    if subcategory.startswith("face-") or subcategory in ("cat-face", "monkey-face"):
        return "face"
    if subcategory == "heart":
        return "heart"
    if re.search(r"\bstar\b", name):
        return "star"
    for prefix, name_ in (("animal-", "animal"), ("plant-", "plant"), ("food-", "food"), ("hand", "hand")):
        if subcategory.startswith(prefix):
            return name_
    if subcategory == "drink":
        return "food"
    if subcategory in ("transport-ground", "transport-water", "transport-air"):
        return "vehicle"
    if subcategory.endswith("flag") or subcategory == "flag":
        return "flag"
    if subcategory in PERSON:
        return "person"
    if subcategory == "clothing":
        return "clothing"
    if subcategory == "place-building":
        return "building"
    return None


class EmojiClassifier(nn.Module):
    def __init__(self, classes: int = len(CATEGORIES), width: int = 32, features: int = 128):
        super().__init__()
        layers, channels = [], 3
        for out in (width, width * 2, width * 4, width * 4):
            layers += [nn.Conv2d(channels, out, 3, padding=1), nn.BatchNorm2d(out), nn.ReLU(),
                       nn.Conv2d(out, out, 3, padding=1), nn.BatchNorm2d(out), nn.ReLU(), nn.MaxPool2d(2)]
            channels = out
        self.body = nn.Sequential(*layers)
        self.embed = nn.Sequential(nn.Flatten(), nn.Linear(channels * 4, features), nn.ReLU())
        self.head = nn.Linear(features, classes)

    def features(self, x: torch.Tensor) -> torch.Tensor:
        """Penultimate features of (n, 3, 32, 32) images in [-1, 1]."""
        return self.embed(self.body(x))

    def forward(self, x):
        return self.head(self.features(x))


def to_side(images: torch.Tensor) -> torch.Tensor:
    """Images of any square size, area-resized to the classifier's 32x32."""
    return images if images.shape[-1] == SIDE else F.adaptive_avg_pool2d(images, SIDE)


def augment(x: torch.Tensor, generator: torch.Generator, hue: float = HUE_ROTATE) -> torch.Tensor:
    n = len(x)
    turn = torch.rand(n, generator=generator) < hue  # shape, not colour: a green heart is still a heart
    if turn.any():
        x = x.clone()
        x[turn] = rotate_hue(x[turn], torch.rand(int(turn.sum()), generator=generator) * 360)
    flip = torch.rand(n, generator=generator) < 0.5
    x = torch.where(flip[:, None, None, None], x.flip(-1), x)
    shift = torch.randint(-3, 4, (2,), generator=generator).tolist()
    x = torch.roll(F.pad(x, (3, 3, 3, 3), value=1.0), shifts=shift, dims=(2, 3))[..., 3:-3, 3:-3]
    gain = 1 + 0.15 * (torch.rand(n, 3, 1, 1, generator=generator) - 0.5)
    x = ((x + 1) * gain - 1).clamp(-1, 1)
    soft = torch.rand(n, generator=generator) < 0.5  # generated samples are softer than the art
    blurred = F.avg_pool2d(F.pad(x, (1, 1, 1, 1), mode="replicate"), 3, stride=1)
    x = torch.where(soft[:, None, None, None], blurred, x)
    return (x + 0.08 * torch.rand(n, 1, 1, 1, generator=generator) * torch.randn(x.shape, generator=generator)).clamp(-1, 1)


def train_classifier(images: torch.Tensor, labels: torch.Tensor, epochs: int = 20, seed: int = 0,
                     batch: int = 128, log=print, hue: float = HUE_ROTATE) -> EmojiClassifier:
    torch.manual_seed(seed)
    generator = torch.Generator().manual_seed(seed)
    model = EmojiClassifier()
    optimizer = torch.optim.AdamW(model.parameters(), lr=2e-3, weight_decay=5e-4)
    steps = epochs * ((len(images) + batch - 1) // batch)
    schedule = torch.optim.lr_scheduler.OneCycleLR(optimizer, 2e-3, total_steps=steps)
    # Classes are unbalanced (flags and people are many): weight by inverse frequency.
    counts = torch.bincount(labels, minlength=len(CATEGORIES)).float().clamp(min=1)
    weights = (counts.sum() / counts) / (counts.sum() / counts).mean()
    for epoch in range(epochs):
        model.train()
        order = torch.randperm(len(images), generator=generator)
        total = 0.0
        for start in range(0, len(images), batch):
            index = order[start:start + batch]
            loss = F.cross_entropy(model(augment(images[index], generator, hue)), labels[index], weight=weights)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            schedule.step()
            total += loss.item() * len(index)
        if epoch % 5 == 4 or epoch == epochs - 1:
            log(f"classifier epoch {epoch + 1}/{epochs} loss {total / len(images):.3f}")
    return model.eval()


@torch.no_grad()
def predict(model: EmojiClassifier, images: torch.Tensor, batch: int = 256) -> tuple[np.ndarray, np.ndarray]:
    """(category index, penultimate features) for images in [-1, 1]."""
    model.eval()
    labels, feats = [], []
    for start in range(0, len(images), batch):
        f = model.features(to_side(images[start:start + batch]))
        feats.append(f)
        labels.append(model.head(f).argmax(1))
    return torch.cat(labels).numpy(), torch.cat(feats).numpy().astype(np.float64)


def hue_turned_accuracy(model: EmojiClassifier, images: torch.Tensor, labels: torch.Tensor,
                        repeats: int = 3, seed: int = 0) -> float:
    """Accuracy on the images with their hue turned by seeded angles of 30-330 degrees: a classifier
    of shape should barely notice."""
    generator = torch.Generator().manual_seed(seed)
    right = []
    for _ in range(repeats):
        angles = torch.rand(len(images), generator=generator) * 300 + 30
        predicted, _ = predict(model, rotate_hue(images, angles))
        right.append(predicted == labels.numpy())
    return float(np.concatenate(right).mean())


def frechet_distance(a: np.ndarray, b: np.ndarray) -> float:
    """FID's formula between two sets of feature rows: |mu_a - mu_b|^2 + Tr(Sa + Sb - 2 (Sa Sb)^1/2)."""
    from scipy import linalg

    mu_a, mu_b = a.mean(0), b.mean(0)
    cov_a, cov_b = np.cov(a, rowvar=False), np.cov(b, rowvar=False)
    root, _ = linalg.sqrtm(cov_a @ cov_b, disp=False)
    root = root.real
    return float(((mu_a - mu_b) ** 2).sum() + np.trace(cov_a + cov_b - 2 * root))


def labelled(entries) -> tuple[list, torch.Tensor]:
    """The entries that have a category, and their category indices."""
    kept = [(e, category(e.subcategory, e.name)) for e in entries]
    kept = [(e, c) for e, c in kept if c is not None]
    return [e for e, _ in kept], torch.tensor([CATEGORIES.index(c) for _, c in kept])


def save(model: EmojiClassifier, path: Path, metrics: dict) -> None:
    from safetensors.torch import save_file

    path.parent.mkdir(parents=True, exist_ok=True)
    save_file(model.state_dict(), str(path), metadata={"metrics": json.dumps(metrics)})


def load_metrics(path: Path) -> dict:
    """The metrics `save` stored with a classifier (its held-out accuracy, ...)."""
    from safetensors import safe_open

    with safe_open(str(path), "pt") as handle:
        return json.loads(handle.metadata()["metrics"])


def load(path: Path) -> EmojiClassifier:
    from safetensors.torch import load_file

    model = EmojiClassifier()
    model.load_state_dict(load_file(str(path)))
    return model.eval()


def load_or_train(path: Path, cache: Path, threads: int) -> EmojiClassifier:
    """The classifier saved at `path`, trained there first (about 3 minutes) when it is missing."""
    if not path.is_file():
        main(["--cache", str(cache), "--out", str(path), "--threads", str(threads)])
    return load(path)


def main(argv=None) -> dict:
    from products.image.emoji.tools import data

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--cache", default="")
    parser.add_argument("--out", default="", help=f"default: <cache>/{CLASSIFIER_FILE}")
    parser.add_argument("--epochs", type=int, default=20)
    parser.add_argument("--hue-rotate", type=float, default=HUE_ROTATE, help="share of training images hue-turned")
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    cache = Path(args.cache) if args.cache else data.default_cache()
    entries = data.load_styles(cache, list(data.STYLES))
    train_set, held_out = data.split_by_key(entries, data.held_out_keys(cache))
    train_set, train_labels = labelled(train_set)
    held_out, held_labels = labelled(held_out)
    started = time.perf_counter()
    model = train_classifier(data.load_images(train_set, SIDE), train_labels, args.epochs, hue=args.hue_rotate)
    held_images = data.load_images(held_out, SIDE)
    predicted, _ = predict(model, held_images)
    accuracy = float((predicted == held_labels.numpy()).mean())
    per_class = {c: round(float((predicted[held_labels.numpy() == i] == i).mean()), 3)
                 for i, c in enumerate(CATEGORIES) if (held_labels == i).any()}
    metrics = {"held_out_accuracy": round(accuracy, 3), "held_out_images": len(held_out),
               "held_out_accuracy_hue_turned": round(hue_turned_accuracy(model, held_images, held_labels), 3),
               "train_images": len(train_set), "epochs": args.epochs, "hue_rotate": args.hue_rotate,
               "per_class": per_class,
               "seconds": round(time.perf_counter() - started, 1)}
    print(json.dumps(metrics), flush=True)
    save(model, Path(args.out) if args.out else cache / CLASSIFIER_FILE, metrics)
    return metrics


if __name__ == "__main__":
    main()
