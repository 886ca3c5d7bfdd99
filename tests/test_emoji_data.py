"""The emoji model's training data: packages pinned by sha256, captions from CLDR names and keywords
with a style token, three art styles (PNG sets and rasterized SVGs), and held-out emoji kept out of
training in every style."""
from __future__ import annotations

import pytest
import torch

from products.image.emoji.tools import colours, data
from tests.emoji_support import fake_package, fake_styles


def test_captions_use_cldr_names_and_the_split_is_seeded(tmp_path):
    root = fake_package(tmp_path)
    entries = data.load_entries(root)
    assert [e.name for e in entries] == ["blue circle", "red heart"]  # sort order; no-image entry skipped
    heart = entries[1]
    assert heart.captions[0] == "red heart" and "an emoji of red heart" in heart.captions
    assert any("heavy black heart" in c for c in heart.captions)
    many = [data.Emoji(str(i), "", f"e{i}", (f"e{i}",), "x") for i in range(200)]
    train_a, held_a = data.split(many)
    train_b, held_b = data.split(many)
    assert held_a == held_b and len(held_a) == 10 and not set(held_a) & set(train_a)
    assert len(train_a) + len(held_a) == 200


def test_images_are_composited_on_white_and_scaled(tmp_path):
    root = fake_package(tmp_path)
    entries = data.load_entries(root)
    tensor = data.load_images(entries, 32)
    assert tensor.shape == (2, 3, 32, 32) and tensor.min() >= -1 and tensor.max() <= 1
    assert torch.allclose(tensor[:, :, 0, 0], torch.ones(2, 3))  # transparent corner -> white
    assert colours.dominant_hue(data.load_image(entries[1].path)) == "red"


@pytest.mark.parametrize("package", [data.NOTO.package, data.TWEMOJI.package, data.FLUENT.package, data.CLDR])
def test_a_tarball_with_the_wrong_sha256_is_refused(tmp_path, package):
    (tmp_path / package.tarball).write_bytes(b"not the package")
    with pytest.raises(data.DataError, match="sha256"):
        data.fetch(tmp_path, package)
    assert not (tmp_path / f"{package.name}-{package.version}").exists()


def test_every_style_is_loaded_with_style_tokens_and_cldr_keywords(tmp_path):
    fake_styles(tmp_path)
    entries = data.load_styles(tmp_path, ["noto", "twemoji", "fluent"])
    found = sorted((e.style, e.name) for e in entries)
    # Twemoji has no circle image in its emoji.json flags; Fluent's only SVG is the heart (matched by CLDR name).
    assert found == [("fluent", "red heart"), ("noto", "blue circle"), ("noto", "red heart"),
                     ("twemoji", "red heart")]
    heart = next(e for e in entries if e.style == "twemoji")
    assert "red heart, twemoji style" in heart.captions
    assert "red heart, heart, love" in heart.captions  # keywords other than the name itself, in CLDR order
    assert heart.subcategory == "heart" and heart.path.is_file()


def test_fluent_svgs_are_rasterized_once_and_load_like_the_pngs(tmp_path):
    fake_styles(tmp_path)
    fluent = [e for e in data.load_styles(tmp_path, ["fluent"]) if e.style == "fluent"]
    images = data.load_images(fluent, 32)
    assert images.shape == (1, 3, 32, 32)
    assert colours.dominant_hue(((images[0].permute(1, 2, 0) + 1) * 127.5).byte().numpy()) == "red"
    png = fluent[0].path.parent.parent / data.RASTER / "red-heart.png"
    assert png.is_file()
    stamp = png.stat().st_mtime_ns
    data.load_images(fluent, 32)
    assert png.stat().st_mtime_ns == stamp  # read from the raster cache, not drawn again


def test_held_out_emoji_are_held_out_in_every_style(tmp_path):
    fake_styles(tmp_path)
    entries = data.load_styles(tmp_path, ["noto", "twemoji", "fluent"])
    held = data.held_out_keys(tmp_path)
    train, held_out = data.split_by_key(entries, held)
    assert held and {e.key for e in held_out} == held
    assert not {e.key for e in train} & held
    assert len(train) + len(held_out) == len(entries)


def test_slugs_match_fluent_file_names():
    assert data.slug("red heart") == "red-heart"
    assert data.slug("face with tears of joy") == "face-with-tears-of-joy"
    assert data.slug("woman’s hat") == "womans-hat"
    assert data.slug("flag: Japan") == "flag-japan"
