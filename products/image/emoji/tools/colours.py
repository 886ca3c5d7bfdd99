"""The colour check: which named colour an image mostly is, and how often a model draws the colour asked.

The detector names the hue held by most saturated, not-too-dark pixels (white, grey and black are
ignored), in fixed hue ranges set with v1 and never changed since. `art_colour_check` runs it on the
real art whose names carry a colour word ("yellow heart", "blue circle"): what the detector says of
the artists' own colours, the most a faithful copy of the art can score.
"""
from __future__ import annotations

import colorsys
import re

import numpy as np

COLOUR_PROMPTS = [("a red heart", "red"), ("a blue circle", "blue"), ("a green tree", "green"),
                  ("a yellow star", "yellow"), ("an orange circle", "orange"), ("a purple heart", "purple")]
BASELINE_PROMPT = "an emoji"
# A pixel counts as coloured from this saturation and brightness (HSV, 0-1); white, grey and black do not.
MIN_SATURATION, MIN_VALUE = 0.35, 0.25
# Hue ranges in degrees, [low, high).
HUES = {"red": [(0, 15), (340, 360)], "orange": [(15, 45)], "yellow": [(45, 70)], "green": [(70, 170)],
        "blue": [(170, 255)], "purple": [(255, 340)]}


def hue_name(degrees: float) -> str:
    for name, ranges in HUES.items():
        if any(low <= degrees < high for low, high in ranges):
            return name
    return "red"


def dominant_hue(image, min_saturation: float = MIN_SATURATION, min_value: float = MIN_VALUE) -> str | None:
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


def art_colour_check(entries, arrays) -> dict:
    """{colour: {"fraction", "images", "by_style": {style: fraction}}}: the share of the real images
    whose name holds the colour word (entries[i] names arrays[i], (side, side, 3) uint8) that the
    detector calls that colour."""
    out = {}
    for colour in HUES:
        word = re.compile(rf"\b{colour}\b")
        hits = [(e.style, dominant_hue(a) == colour) for e, a in zip(entries, arrays) if word.search(e.name)]
        if not hits:
            continue
        styles = sorted({s for s, _ in hits})
        out[colour] = {"fraction": round(float(np.mean([h for _, h in hits])), 3), "images": len(hits),
                       "by_style": {s: round(float(np.mean([h for t, h in hits if t == s])), 3) for s in styles}}
    return out
