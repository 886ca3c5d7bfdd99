"""Stand-ins for the emoji model's tests: unpacked npm packages in a cache folder (Noto, Twemoji,
Fluent SVGs, CLDR keywords) so no test runs `npm pack`, and a deterministic text encoder."""
from __future__ import annotations

import hashlib
import json
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw

from products.image.emoji.pipeline import TOKENS
from products.image.emoji.tools import data

HEART = {"name": "HEAVY BLACK HEART", "unified": "2764-FE0F", "non_qualified": "2764", "image": "2764-fe0f.png",
         "short_names": ["heart"], "category": "Smileys & Emotion", "subcategory": "heart", "sort_order": 2,
         "has_img_google": True, "has_img_twitter": True}
CIRCLE = {"name": "LARGE BLUE CIRCLE", "unified": "1F535", "non_qualified": None, "image": "1f535.png",
          "short_names": ["large_blue_circle"], "category": "Symbols", "subcategory": "geometric", "sort_order": 1,
          "has_img_google": True, "has_img_twitter": False}
NO_IMAGE = {"name": "NO IMAGE", "unified": "1F600", "image": "1f600.png", "short_names": ["x"], "category": "Symbols",
            "sort_order": 3, "has_img_google": False, "has_img_twitter": False}
COLOURS = {"2764-fe0f.png": (220, 30, 40, 255), "1f535.png": (30, 80, 220, 255)}


def fake_encode(texts):
    """Deterministic unit vectors per text (a stand-in for MiniLM in unit tests)."""
    out = []
    for text in texts:
        seed = int(hashlib.sha256(text.encode()).hexdigest()[:8], 16)
        v = np.random.default_rng(seed).standard_normal(384).astype(np.float32)
        out.append(v / np.linalg.norm(v))
    return np.stack(out)


def fake_encode_tokens(texts, length: int = TOKENS):
    """Token rows per text whose mean is fake_encode's vector for it (a stand-in for
    SentenceEncoder.encode_tokens): the vector plus seeded zero-mean offsets."""
    vectors = fake_encode(texts)
    out = []
    for text, vector in zip(texts, vectors):
        seed = int(hashlib.sha256(("tokens " + text).encode()).hexdigest()[:8], 16)
        offsets = np.random.default_rng(seed).standard_normal((length, 384)).astype(np.float32) * 0.1
        out.append(vector + offsets - offsets.mean(0))
    return np.stack(out)


def disc(colour, background=(255, 255, 255), size=32):
    image = Image.new("RGB", (size, size), background)
    ImageDraw.Draw(image).ellipse((6, 6, size - 6, size - 6), fill=colour)
    return image


def _png_style(cache: Path, style: data.Style, entries: list[dict]) -> Path:
    root = cache / f"{style.package.name}-{style.package.version}"
    images = root / style.image_dir
    images.mkdir(parents=True)
    (root / "package" / "emoji.json").write_text(json.dumps(entries))
    (root / "package" / "package.json").write_text("{}")
    for entry in entries:
        if entry.get(style.has_img):
            rgba = Image.new("RGBA", (64, 64), (0, 0, 0, 0))
            ImageDraw.Draw(rgba).ellipse((8, 8, 56, 56), fill=COLOURS[entry["image"]])
            rgba.save(images / entry["image"])
    return root


def fake_package(cache: Path) -> Path:
    """The unpacked Noto package (two emoji with images, one without) and the CLDR keywords."""
    root = _png_style(cache, data.NOTO, [HEART, CIRCLE, NO_IMAGE])
    fake_cldr(cache)
    return root


def fake_cldr(cache: Path) -> Path:
    root = cache / f"{data.CLDR.name}-{data.CLDR.version}"
    folder = root / "package" / "annotations" / "en"
    folder.mkdir(parents=True, exist_ok=True)
    table = {"annotations": {"annotations": {"\u2764\ufe0f": {"default": ["heart", "love", "red heart"]},
                                             "\U0001f535": {"default": ["blue", "circle", "geometric"]}}}}
    (folder / "annotations.json").write_text(json.dumps(table, ensure_ascii=False), encoding="utf-8")
    (root / "package" / "package.json").write_text("{}")
    return root


def fake_styles(cache: Path) -> None:
    """Noto and CLDR (above), Twemoji (the heart only) and Fluent (a red-heart SVG)."""
    fake_package(cache)
    _png_style(cache, data.TWEMOJI, [HEART, CIRCLE, NO_IMAGE])
    fluent = cache / f"{data.FLUENT.package.name}-{data.FLUENT.package.version}"
    svgs = fluent / data.FLUENT.image_dir
    svgs.mkdir(parents=True)
    (fluent / "package" / "package.json").write_text("{}")
    (svgs / "red-heart.svg").write_text(
        '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 32 32"><circle cx="16" cy="16" r="12" '
        'fill="#dc1e28"/></svg>')
