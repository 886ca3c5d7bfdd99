"""Colour augmentation: an emoji turned to another colour, with that colour word in its caption.

The art names a colour for a handful of emoji only (about 7 per colour word and style: "blue heart",
"orange circle", ...), so v2 learned "red" and "green" from hearts and trees but not "blue" or
"yellow" as colours of anything. Here any training emoji with one dominant hue (a heart, a star, a
car, a face) is rotated in hue to one of six colours and captioned "a blue star", "blue car",
so the colour word is tied to the hue, whatever the shape.

The target hues are the CSS named colours (red #FF0000 0°, orange #FFA500 39°, yellow #FFFF00 60°,
green #008000 120°, blue #0000FF 240°, purple #800080 300°), a fixed outside definition of each
word, with a few degrees of jitter. Colour words already in a name are replaced ("red apple" ->
"blue apple"). Saturation and brightness are kept, so shading and outlines survive.
"""
from __future__ import annotations

import re

import numpy as np
import torch

from products.image.emoji.tools.colours import MIN_SATURATION, MIN_VALUE

COLOUR_HUES = {"red": 0.0, "orange": 39.0, "yellow": 60.0, "green": 120.0, "blue": 240.0, "purple": 300.0}
JITTER = 5.0  # degrees either side of the target hue
_COLOUR_WORD = re.compile(r"\b(red|orange|yellow|green|blue|purple|brown|black|white|light blue)\s+")


def rgb_to_hsv(rgb: torch.Tensor) -> torch.Tensor:
    """(n, 3, h, w) RGB in [0, 1] -> HSV with hue in [0, 1)."""
    r, g, b = rgb.unbind(1)
    high, _ = rgb.max(1)
    low, _ = rgb.min(1)
    span = high - low
    safe = torch.where(span > 0, span, torch.ones_like(span))
    hue = torch.where(high == r, ((g - b) / safe) % 6, torch.where(high == g, (b - r) / safe + 2, (r - g) / safe + 4))
    hue = torch.where(span > 0, hue / 6, torch.zeros_like(hue))
    saturation = torch.where(high > 0, span / torch.where(high > 0, high, torch.ones_like(high)), torch.zeros_like(high))
    return torch.stack([hue % 1.0, saturation, high], 1)


def hsv_to_rgb(hsv: torch.Tensor) -> torch.Tensor:
    """The inverse of rgb_to_hsv."""
    h, s, v = hsv.unbind(1)
    k = torch.stack([(5 + h * 6) % 6, (3 + h * 6) % 6, (1 + h * 6) % 6], 1)
    return v[:, None] - v[:, None] * s[:, None] * torch.clamp(torch.minimum(k, 4 - k), 0, 1)


def dominant_hues(images: torch.Tensor, min_saturation: float = MIN_SATURATION, min_value: float = MIN_VALUE,
                  min_coloured: float = 0.15, min_share: float = 0.5) -> torch.Tensor:
    """For images in [-1, 1]: the mean hue in degrees of the 30° bin holding most coloured pixels, or
    NaN where the emoji has no dominant hue (under `min_coloured` of its pixels coloured, or the bin
    under `min_share` of them: flags, rainbows, grey things), which are not recoloured."""
    hsv = rgb_to_hsv((images + 1) / 2)
    out = torch.full((len(images),), float("nan"))
    for i, (h, s, v) in enumerate(hsv.unbind(0)):
        coloured = (s >= min_saturation) & (v >= min_value)
        if coloured.float().mean() < min_coloured:
            continue
        degrees = h[coloured] * 360
        bins = torch.bincount(((degrees + 15) % 360 // 30).long(), minlength=12)  # bin 0 is centred on red
        best = int(bins.argmax())
        if bins[best] < min_share * len(degrees):
            continue
        offsets = ((degrees - best * 30 + 180) % 360) - 180  # signed distance to the bin centre
        inside = offsets.abs() <= 15
        out[i] = float((best * 30 + offsets[inside].mean()) % 360)
    return out


def rotate_hue(images: torch.Tensor, degrees: torch.Tensor) -> torch.Tensor:
    """Images in [-1, 1] with every pixel's hue turned by `degrees` (one angle per image)."""
    hsv = rgb_to_hsv((images + 1) / 2)
    hsv[:, 0] = (hsv[:, 0] + degrees[:, None, None] / 360) % 1.0
    return hsv_to_rgb(hsv) * 2 - 1


def plain_name(name: str) -> str:
    """The name without its colour words: "red apple" -> "apple", "blue heart" -> "heart"."""
    return _COLOUR_WORD.sub("", name).strip() or name


def colour_captions(name: str, colour: str) -> tuple[str, ...]:
    """The captions of a recoloured emoji: "blue star" and "a blue star"."""
    plain = plain_name(name)
    article = "an" if colour[0] in "aeiou" else "a"
    return f"{colour} {plain}", f"{article} {colour} {plain}"


class Recolourer:
    """Recoloured copies of a data set's images, drawn per batch. `names[i]` is image i's CLDR name;
    `encode` turns captions into vectors (train.caption_vectors with the shared encoder)."""

    def __init__(self, images: torch.Tensor, names: list[str], encode):
        self.hues = dominant_hues(images)
        self.eligible = np.flatnonzero(~torch.isnan(self.hues).numpy())
        self.colours = list(COLOUR_HUES)
        captions = sorted({c for i in self.eligible for k in self.colours for c in colour_captions(names[i], k)})
        position = {c: j for j, c in enumerate(captions)}
        self.vectors = torch.from_numpy(np.asarray(encode(captions), dtype=np.float32))
        self.rows = {(int(i), k): [position[c] for c in colour_captions(names[i], k)]
                     for i in self.eligible for k in self.colours}

    def batch(self, images: torch.Tensor, size: int, rng: np.random.Generator):
        """`size` recoloured images drawn from `images` (the ones given at construction), with vectors
        of their colour captions."""
        index = self.eligible[rng.integers(0, len(self.eligible), size)]
        colours = [self.colours[j] for j in rng.integers(0, len(self.colours), size)]
        jitter = torch.from_numpy(rng.uniform(-JITTER, JITTER, size)).float()
        target = torch.tensor([COLOUR_HUES[k] for k in colours]) + jitter
        turned = rotate_hue(images[index], target - self.hues[index])
        rows = [self.rows[(int(i), k)] for i, k in zip(index, colours)]
        caption = [r[rng.integers(0, len(r))] for r in rows]
        return turned, self.vectors[caption]
